#include "ui/workspace/reconstruction_panel.h"

#include "ui/export/json_values.h"
#include "ui/workspace/reconstruction_column.h"

namespace vitscope::ui {

ReconstructionPanel::ReconstructionPanel(ComparisonModel& model, QWidget* parent)
    : ComparisonPanel(model, tr("Reconstruction"),
                      tr("<b>What the decoder fills in.</b> Hidden (grey) patches predicted from the visible ones; "
                         "paint to hide or show patches. <i>Paper:</i> MIM learns to predict local texture from "
                         "nearby patches, which is why its attention stays local; CL models have no decoder."),
                      parent) {
  connect(&state_, &AppState::maskChanged, this, &ReconstructionPanel::requestRefresh);
  connect(&model_, &ComparisonModel::reconstructionChanged, this, &ReconstructionPanel::refreshColumn);
}

PanelColumn* ReconstructionPanel::createColumn(const ModelColumn& column) {
  return new ReconstructionColumn(model_, column);
}

QJsonObject ReconstructionPanel::columnData(const PanelColumn& column) {
  const auto* r = model_.reconstruction(column.modelId());
  if (!r) return {};
  return {{"kind", QString::fromStdString(r->kind)},
          {"mask", mask_json(r->mask, column.grid())},
          {"masked_mse", r->masked_mse},
          {"borrowed_patch_statistics", r->borrowed_patch_statistics},
          {"error_map", grid_json(r->error)}};
}

}  // namespace vitscope::ui
