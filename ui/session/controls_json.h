#pragma once
// The shared controls (AppState) as JSON, one format for session files and lesson steps
// (docs/TEACHING.md):
//   "panel": "attention" | "reconstruction" | "spectrum" | "representation" | "probes"
//   "block": 1-based block; negative counts from the last (-1 = last), so a lesson fits any depth
//   "head": "mean" | 1-based head
//   "query": "cls" | [x, y]  (relative image coordinates, 0..1)
//   "mask_ratio": 0..0.95, "mask_seed": integer
//   "mask_edits": [{"area": [x, y, width, height], "masked": true|false}, …]  (replaces the edits)
// Every key is optional; an object with only some keys changes only those controls.
#include <QJsonObject>
#include <QString>

#include "ui/app_state.h"

namespace vitscope::ui {

// Every control of `state`, in the format above (block and head 1-based).
QJsonObject controls_to_json(const AppState& state);
// "" when `controls` is valid; else what is wrong, naming the key.
QString controls_json_error(const QJsonObject& controls);
// Applies a valid object (see controls_json_error) in an order that keeps every value: the
// image-independent controls first, the mask ratio and seed before the edits they would clear.
void apply_controls_json(const QJsonObject& controls, AppState& state);

}  // namespace vitscope::ui
