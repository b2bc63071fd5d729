#include "ui/workspace/representation_panel.h"

#include <algorithm>

#include "ui/export/json_values.h"
#include "ui/workspace/representation_column.h"

namespace vitscope::ui {

RepresentationPanel::RepresentationPanel(ComparisonModel& model, QWidget* parent)
    : ComparisonPanel(model, tr("Representation"),
                      tr("<b>How the patch tokens are spread.</b> Tokens of one image on their first three principal "
                         "components (as RGB), and the singular values of the token matrix. <i>Paper:</i> CL tokens "
                         "of an image collapse onto a few directions (fast-decaying spectrum, low rank); MIM tokens "
                         "stay diverse (high rank)."),
                      parent) {
  singular_ = new LinePlot(tr("Singular values of the tokens (selected block)"), tr("index"), tr("σᵢ / σ₁"));
  singular_->setLogY(true);
  singular_->setIntegerXTicks(false);
  singular_->setToolTip(tr("Singular values of the image's patch-token matrix, divided by the largest "
                           "(paper-analyses.md §3.5). A fast decay means the tokens lie in a few directions."));
  rank_ = new LinePlot(tr("Effective rank of the tokens"), tr("depth (0 = embedding, k = after block k)"),
                       tr("effective rank"));
  rank_->setToolTip(tr("exp(entropy of the normalised singular values): how many directions the tokens really use."));
  plotsLayout()->addWidget(singular_);
  plotsLayout()->addWidget(rank_);
}

PanelColumn* RepresentationPanel::createColumn(const ModelColumn& column) {
  return new RepresentationColumn(model_, column);
}

void RepresentationPanel::refreshPlots() {
  QVector<PlotSeries> singular, rank;
  for (auto* column : columns()) {
    const auto* a = model_.analysis(column->modelId());
    if (!a) continue;
    const auto& c = column->modelColumn();
    const int tap = column->featureTap();
    auto values = a->singular_values(tap);
    values.erase(std::find_if(values.begin(), values.end(), [](double v) { return v <= 0; }), values.end());  // log axis
    singular << make_series(c.name(), c.color, values, 1);
    rank << make_series(c.name(), c.color, values_per_depth(a->effective_rank()), 0);
  }
  singular_->setSeries(singular);
  rank_->setSeries(rank);
  rank_->setMarkerX(state_.layer() + 1);
}

QJsonObject RepresentationPanel::columnData(const PanelColumn& column) {
  const auto* a = model_.analysis(column.modelId());
  if (!a) return {};
  const int tap = column.featureTap();
  return {{"block", column.block() + 1},
          {"tap", tap},
          {"singular_values", values_json(a->singular_values(tap))},
          {"effective_rank_per_depth", values_json(values_per_depth(a->effective_rank()))},
          {"token_cosine_similarity_per_depth", values_json(values_per_depth(a->token_cosine_similarity()))}};
}

}  // namespace vitscope::ui
