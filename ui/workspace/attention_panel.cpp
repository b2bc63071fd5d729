#include "ui/workspace/attention_panel.h"

#include "ui/export/json_values.h"
#include "ui/workspace/attention_column.h"

namespace vitscope::ui {

namespace {

// One line per model over blocks 1…depth from a per-layer measurement, optionally divided by
// the model's input size.
QVector<PlotSeries> per_layer_series(const ComparisonModel& model,
                                     runtime::LayerHeadValues (runtime::ImageAnalysis::*measure)() const,
                                     bool per_image_side = false) {
  QVector<PlotSeries> series;
  for (const auto& c : model.columns()) {
    const auto* a = model.analysis(c.id());
    if (!a) continue;
    auto values = (a->*measure)().per_layer;
    if (per_image_side)
      for (auto& v : values) v /= c.info.image_size;
    series << make_series(c.name(), c.color, values, 1);
  }
  return series;
}

}  // namespace

AttentionPanel::AttentionPanel(ComparisonModel& model, QWidget* parent)
    : ComparisonPanel(model, tr("Attention"),
                      tr("<b>Where each model looks.</b> The query patch's (or CLS's) attention over the image, per head "
                         "and rolled out over blocks. <i>Paper:</i> CL (MoCo) attends to the whole object with nearly the "
                         "same map for every query (attention collapse, low NMI, long distances in late blocks); MIM "
                         "(SimMIM, MAE) attends locally around the query."),
                      parent) {
  distance_ = new LinePlot(tr("Mean attention distance"), tr("block"), tr("distance (px)"));
  distance_->setToolTip(tr("Attention-weighted distance between query and key patches, averaged over queries and "
                           "heads (paper-analyses.md §3.2). Larger = more global. Pixels of each model's own input, "
                           "so models with other input sizes are on other scales."));
  nmi_ = new LinePlot(tr("Normalised mutual information"), tr("block"), tr("NMI"));
  nmi_->setPreferredYRange(0, 0.6);
  nmi_->setToolTip(tr("How much a query's attention depends on which query it is (§3.3). Near 0: every query "
                      "sees the same map (attention collapse, typical of CL in late blocks)."));
  plotsLayout()->addWidget(distance_);
  plotsLayout()->addWidget(nmi_);
  connect(&state_, &AppState::headChanged, this, &AttentionPanel::requestRefresh);
  connect(&state_, &AppState::queryChanged, this, &AttentionPanel::requestRefresh);
}

QStringList AttentionPanel::cliMetrics() const { return {"attention-distance", "nmi", "entropy", "rollout"}; }

PanelColumn* AttentionPanel::createColumn(const ModelColumn& column) { return new AttentionColumn(model_, column); }

void AttentionPanel::refreshPlots() {
  // Pixels, as in the paper, while every model sees the same input size; with mixed sizes the
  // distance as a fraction of the image side, so a 224-px and a 32-px model share one axis.
  bool mixed_sizes = false;
  for (const auto& c : model_.columns()) mixed_sizes |= c.info.image_size != model_.columns().first().info.image_size;
  distance_->yAxis->setLabel(mixed_sizes ? tr("distance / image side") : tr("distance (px)"));
  distance_->setSeries(per_layer_series(model_, &runtime::ImageAnalysis::attention_distance, mixed_sizes));
  nmi_->setSeries(per_layer_series(model_, &runtime::ImageAnalysis::nmi));
  distance_->setMarkerX(state_.layer() + 1);
  nmi_->setMarkerX(state_.layer() + 1);
}

QJsonObject AttentionPanel::columnData(const PanelColumn& column) {
  const auto* a = model_.analysis(column.modelId());
  if (!a) return {};
  const int block = column.block(), head = column.head();
  const auto cell = column.queryCell();
  const auto q = column.query();
  QJsonArray heads;
  for (const auto& m : a->head_attention_maps(block, q)) heads.append(grid_json(m));
  return {{"block", block + 1},
          {"head", head < 0 ? QJsonValue("mean") : QJsonValue(head + 1)},
          {"query", cell ? QJsonValue(QJsonArray{cell->row, cell->col}) : QJsonValue("CLS")},
          {"attention_map", grid_json(a->attention_map(block, head, q))},
          {"head_attention_maps", heads},
          {"rollout_map", grid_json(a->rollout_map(q, block))},
          {"attention_distance", layer_head_json(a->attention_distance())},
          {"nmi", layer_head_json(a->nmi())},
          {"entropy", layer_head_json(a->entropy())}};
}

}  // namespace vitscope::ui
