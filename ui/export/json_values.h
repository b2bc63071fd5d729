#pragma once
// The engine's plain results as JSON, for the "numbers behind the figure" exports.
#include <QJsonArray>
#include <QJsonObject>

#include <vector>

#include "core/runtime/explorer.h"

namespace vitscope::ui {

QJsonArray grid_json(const runtime::FloatGrid& grid);  // [[row 0…], [row 1…], …]
QJsonArray values_json(const std::vector<double>& values);
QJsonArray mask_json(const std::vector<uint8_t>& mask, int grid);
// {"per_layer": […], "per_head": [[…], …], "definition": "…"}
QJsonObject layer_head_json(const runtime::LayerHeadValues& values);

}  // namespace vitscope::ui
