#include "ui/export/json_values.h"

namespace vitscope::ui {

QJsonArray grid_json(const runtime::FloatGrid& grid) {
  QJsonArray rows;
  for (int r = 0; r < grid.rows; ++r) {
    QJsonArray row;
    for (int c = 0; c < grid.cols; ++c) row.append(static_cast<double>(grid.at(r, c)));
    rows.append(row);
  }
  return rows;
}

QJsonArray values_json(const std::vector<double>& values) {
  QJsonArray out;
  for (double v : values) out.append(v);
  return out;
}

QJsonArray mask_json(const std::vector<uint8_t>& mask, int grid) {
  QJsonArray rows;
  for (int r = 0; r < grid && static_cast<size_t>((r + 1) * grid) <= mask.size(); ++r) {
    QJsonArray row;
    for (int c = 0; c < grid; ++c) row.append(mask[static_cast<size_t>(r) * grid + c]);
    rows.append(row);
  }
  return rows;
}

QJsonObject layer_head_json(const runtime::LayerHeadValues& values) {
  QJsonArray per_head;
  for (int b = 0; b < values.blocks; ++b) {
    QJsonArray row;
    for (int h = 0; h < values.heads; ++h) row.append(values.values[static_cast<size_t>(b) * values.heads + h]);
    per_head.append(row);
  }
  return {{"per_layer", values_json(values.per_layer)},
          {"per_head", per_head},
          {"definition", QString::fromStdString(values.definition)}};
}

}  // namespace vitscope::ui
