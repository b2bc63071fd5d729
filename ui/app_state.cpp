#include "ui/app_state.h"

#include <algorithm>
#include <cmath>

namespace vitscope::ui {

namespace {

int cell_index(double relative, int grid) {
  return std::clamp(static_cast<int>(std::floor(relative * grid)), 0, grid - 1);
}

}  // namespace

AppState::AppState(QObject* parent) : QObject(parent) {}

std::optional<GridCell> AppState::queryCell(int grid) const {
  if (query_.cls || grid <= 0) return std::nullopt;
  return GridCell{cell_index(query_.relative.y(), grid), cell_index(query_.relative.x(), grid)};
}

std::vector<uint8_t> AppState::applyMaskEdits(std::vector<uint8_t> mask, int grid) const {
  for (const auto& edit : mask_edits_)
    for (int r = 0; r < grid; ++r)
      for (int c = 0; c < grid; ++c)
        if (edit.area.contains(QPointF((c + 0.5) / grid, (r + 0.5) / grid)))
          mask[static_cast<size_t>(r) * grid + c] = edit.masked ? 1 : 0;
  return mask;
}

void AppState::setLayer(int layer) {
  layer = std::clamp(layer, 0, max_layers_ - 1);
  if (layer == layer_) return;
  layer_ = layer;
  emit layerChanged(layer_);
}

void AppState::setHead(int head) {
  head = std::clamp(head, -1, max_heads_ - 1);
  if (head == head_) return;
  head_ = head;
  emit headChanged(head_);
}

void AppState::stepLayer(int delta) { setLayer(layer_ + delta); }

void AppState::stepHead(int delta) {
  const int n = max_heads_ + 1;  // "mean" counts as one position
  setHead(((head_ + 1 + delta) % n + n) % n - 1);
}

void AppState::setQueryPoint(QPointF relative) {
  relative = {std::clamp(relative.x(), 0.0, 0.9999), std::clamp(relative.y(), 0.0, 0.9999)};
  if (!query_.cls && query_.relative == relative) return;
  query_ = {false, relative};
  emit queryChanged();
}

void AppState::setQueryCls(bool cls) {
  if (query_.cls == cls) return;
  query_.cls = cls;
  emit queryChanged();
}

void AppState::stepQuery(int d_row, int d_col, int grid) {
  if (grid <= 0) return;
  const auto cell = queryCell(grid).value_or(GridCell{grid / 2, grid / 2});
  const int row = std::clamp(cell.row + d_row, 0, grid - 1), col = std::clamp(cell.col + d_col, 0, grid - 1);
  setQueryPoint(QPointF((col + 0.5) / grid, (row + 0.5) / grid));
}

void AppState::setMaskRatio(double ratio) {
  ratio = std::clamp(ratio, 0.0, 0.95);
  if (std::abs(ratio - mask_ratio_) < 1e-9) return;
  mask_ratio_ = ratio;
  mask_edits_.clear();
  emit maskChanged();
}

void AppState::setMaskSeed(int seed) {
  if (seed == mask_seed_) return;
  mask_seed_ = seed;
  mask_edits_.clear();
  emit maskChanged();
}

void AppState::addMaskEdit(const MaskEdit& edit) {
  mask_edits_.push_back(edit);
  emit maskChanged();
}

void AppState::clearMaskEdits() {
  if (mask_edits_.isEmpty()) return;
  mask_edits_.clear();
  emit maskChanged();
}

void AppState::setImage(const QString& image_id, const QString& name) {
  if (image_id == image_id_) return;
  image_id_ = image_id;
  image_name_ = name;
  mask_edits_.clear();
  emit imageChanged(image_id_);
}

void AppState::setPanel(Panel panel) {
  if (panel == panel_) return;
  panel_ = panel;
  emit panelChanged(panel_);
}

void AppState::setLimits(int max_layers, int max_heads) {
  max_layers = std::max(1, max_layers);
  max_heads = std::max(1, max_heads);
  if (max_layers == max_layers_ && max_heads == max_heads_) return;
  const bool first = max_layers_ == 1 && layer_ == 0;
  max_layers_ = max_layers;
  max_heads_ = max_heads;
  emit limitsChanged();
  // Start where the paper's figures look (late blocks: where CL and MIM differ most).
  if (first) setLayer(max_layers_ - 2);
  else setLayer(layer_);
  setHead(head_);
}

}  // namespace vitscope::ui
