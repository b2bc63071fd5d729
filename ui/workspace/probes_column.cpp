#include "ui/workspace/probes_column.h"

#include <numeric>

namespace vitscope::ui {

QColor cue_color(const std::string& keeps) { return keeps == "shape" ? QColor("#2b8cbe") : QColor("#e6550d"); }

ProbesColumn::ProbesColumn(ComparisonModel& model, ProbesModel& probes, const ModelColumn& column, QWidget* parent)
    : PanelColumn(model, column, parent), probes_(probes) {
  views_ = new BarPlot(tr("Similarity to the original"), tr("s, mean over blocks"), Qt::Horizontal);
  views_->setSizeHint({kWidth - 12, 210});
  views_->setMinimumHeight(210);
  views_->setPreferredValueRange(0, 1);
  views_->setToolTip(tr("Cosine similarity of the mean patch token of each block for the view and for the original, "
                        "measured from a grey image's representation, averaged over the blocks. Blue views keep the "
                        "shape, orange views keep the texture."));
  index_caption_ = caption();
  shape_bias_ = caption();
  shape_bias_->setTextFormat(Qt::RichText);
  body()->addWidget(views_);
  body()->addWidget(index_caption_);
  body()->addWidget(shape_bias_);
}

void ProbesColumn::refresh() {
  const auto* p = probes_.imageProbe(modelId());
  if (!p) {
    const QString status = probes_.imageProbeStatus(modelId());
    if (state_.imageId().isEmpty()) setStatus(tr("Choose or drop an image."));
    else setStatus(status.isEmpty() ? tr("Probing…") : status, status.contains(tr("failed")));
    views_->setBars({});
    index_caption_->clear();
  } else {
    setStatus({});
    QVector<Bar> bars;
    for (size_t v = 0; v < p->views.size(); ++v) {
      const auto& s = p->similarity[v];
      bars.push_back({QString::fromStdString(p->views[v]), std::accumulate(s.begin(), s.end(), 0.0) / std::max<size_t>(1, s.size()),
                      cue_color(p->keeps[v])});
    }
    views_->setBars(bars);
    index_caption_->setText(tr("Shape-reliance index %1\n(> 0: relies on shape, < 0: texture)")
                                .arg(p->shape_reliance_index, 0, 'f', 3));
  }
  refreshShapeBias();
}

void ProbesColumn::refreshShapeBias() {
  // Short lines, no word wrap (see PanelColumn::caption); the whole status is in the tooltip.
  const QString status = probes_.shapeBiasStatus(modelId());
  const auto* r = probes_.shapeBias(modelId());
  QStringList lines;
  if (r) {
    lines << tr("<b>Cue-conflict shape bias %1</b>")
                 .arg(r->shape_bias ? QString::number(*r->shape_bias, 'f', 2) : tr("undefined"));
    lines << tr("shape %1, texture %2 of %3").arg(r->shape_hits).arg(r->texture_hits).arg(r->trials);
    auto percent = [](const std::optional<double>& v) { return v ? QStringLiteral("%1 %").arg(100 * *v, 0, 'f', 0) : QStringLiteral("–"); };
    lines << tr("silhouettes %1 · edges %2").arg(percent(r->silhouette_accuracy), percent(r->edge_accuracy));
  }
  QString tooltip = status;
  if (const auto* h = probes_.headTraining(modelId())) {
    lines << tr("linear head: %1 % test top-1").arg(100 * h->test_top1, 0, 'f', 1);
    if (!h->skipped.empty()) {
      lines << tr("%1 unreadable images left out (hover for names)").arg(h->skipped.size());
      for (const auto& s : h->skipped) tooltip += (tooltip.isEmpty() ? QString() : QStringLiteral("\n")) + QString::fromStdString(s);
    }
  }
  if (!status.isEmpty()) lines << QStringLiteral("<i>%1</i>").arg(status.toHtmlEscaped());
  shape_bias_->setText(lines.join(QStringLiteral("<br>")));
  shape_bias_->setToolTip(tooltip);
}

}  // namespace vitscope::ui
