#include "ui/workspace/spectrum_panel.h"

#include "ui/export/json_values.h"
#include "ui/workspace/spectrum_column.h"

namespace vitscope::ui {

SpectrumPanel::SpectrumPanel(ComparisonModel& model, QWidget* parent)
    : ComparisonPanel(model, tr("Spectrum"),
                      tr("<b>Which frequencies the features keep.</b> Log-amplitude Fourier spectrum of the token "
                         "feature map (zero frequency in the centre), and ΔLog amplitude (highest frequency minus DC) over depth; higher = more "
                         "high-frequency signal. <i>Paper:</i> CL features are low-pass (shape-like); MIM keeps more "
                         "high frequencies (texture-like) at every depth."),
                      parent) {
  delta_ = new LinePlot(tr("ΔLog amplitude of the highest frequency"), tr("depth (0 = embedding, k = after block k)"),
                        tr("ΔLog amplitude"));
  delta_->setToolTip(tr("ln|F| at the highest diagonal frequency below Nyquist (6/7·π per axis on a 14×14 grid, "
                        "3/4·π on 8×8) minus ln|F| at zero frequency, averaged over channels "
                        "(paper-analyses.md §3.6)."));
  plotsLayout()->addWidget(delta_);
  plotsLayout()->addStretch(1);
}

PanelColumn* SpectrumPanel::createColumn(const ModelColumn& column) { return new SpectrumColumn(model_, column); }

void SpectrumPanel::refreshPlots() {
  QVector<PlotSeries> series;
  for (const auto& c : model_.columns()) {
    const auto* a = model_.analysis(c.id());
    if (!a) continue;
    series << make_series(c.name(), c.color, values_per_depth(a->delta_log_amplitude()), 0);
  }
  delta_->setSeries(series);
  delta_->setMarkerX(state_.layer() + 1);
}

QJsonObject SpectrumPanel::columnData(const PanelColumn& column) {
  const auto* a = model_.analysis(column.modelId());
  if (!a) return {};
  const int tap = column.featureTap();
  return {{"block", column.block() + 1},
          {"tap", tap},
          {"spectrum", grid_json(a->spectrum(tap))},
          {"delta_log_amplitude_per_depth", values_json(values_per_depth(a->delta_log_amplitude()))}};
}

}  // namespace vitscope::ui
