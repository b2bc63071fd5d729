#include "ui/workspace/spectrum_panel.h"

#include "core/runtime/explorer.h"
#include "ui/export/json_values.h"
#include "ui/workspace/spectrum_column.h"

namespace vitscope::ui {

SpectrumPanel::SpectrumPanel(ComparisonModel& model, QWidget* parent)
    : ComparisonPanel(model, tr("Spectrum"),
                      tr("<b>Which frequencies the features keep.</b> Log-amplitude Fourier spectrum of the token "
                         "feature map (zero frequency in the centre); below, ΔLog amplitude (highest frequency minus "
                         "DC) over depth and, for the selected block, over frequency; higher = more high-frequency "
                         "signal. <i>Paper:</i> CL features are low-pass (shape-like); MIM keeps more high "
                         "frequencies (texture-like) at every depth."),
                      parent) {
  delta_ = new LinePlot(tr("ΔLog amplitude of the highest frequency"), tr("depth (0 = embedding, k = after block k)"),
                        tr("ΔLog amplitude"));
  delta_->setToolTip(tr("ln|F| at the highest diagonal frequency below Nyquist (6/7·π per axis on a 14×14 grid, "
                        "3/4·π on 8×8) minus ln|F| at zero frequency, averaged over channels "
                        "(paper-analyses.md §3.6)."));
  profile_ = new LinePlot(tr("Relative log amplitude at the selected block"),
                          tr("frequency along the diagonal (× π per axis)"), tr("ΔLog amplitude"));
  profile_->setIntegerXTicks(false);
  profile_->setToolTip(tr("ln|F| along the diagonal of the selected block's spectrum, from zero frequency "
                          "outwards, minus ln|F| at zero frequency (paper-analyses.md §3.6 step 6); the "
                          "right end is the value the left plot shows for that depth."));
  plotsLayout()->addWidget(delta_);
  plotsLayout()->addWidget(profile_);
  plotsLayout()->addStretch(1);
}

PanelColumn* SpectrumPanel::createColumn(const ModelColumn& column) { return new SpectrumColumn(model_, column); }

void SpectrumPanel::refreshPlots() {
  QVector<PlotSeries> over_depth, over_frequency;
  for (const auto* column : columns()) {
    const auto& c = column->modelColumn();
    const auto* a = model_.analysis(c.id());
    if (!a) continue;
    over_depth << make_series(c.name(), c.color, values_per_depth(a->delta_log_amplitude()), 0);
    PlotSeries profile{c.name(), c.color, {}, {}};
    const auto values = a->relative_log_amplitude(column->featureTap());
    for (size_t k = 0; k < values.size(); ++k) {
      profile.x << runtime::diagonal_frequency_pi(static_cast<int64_t>(k), column->grid());
      profile.y << values[k];
    }
    over_frequency << profile;
  }
  delta_->setSeries(over_depth);
  delta_->setMarkerX(state_.layer() + 1);
  profile_->setSeries(over_frequency);
  profile_->setTitle(tr("Relative log amplitude at block %1").arg(state_.layer() + 1));
}

QJsonObject SpectrumPanel::columnData(const PanelColumn& column) {
  const auto* a = model_.analysis(column.modelId());
  if (!a) return {};
  const int tap = column.featureTap();
  return {{"block", column.block() + 1},
          {"tap", tap},
          {"spectrum", grid_json(a->spectrum(tap))},
          {"relative_log_amplitude", values_json(a->relative_log_amplitude(tap))},
          {"delta_log_amplitude_per_depth", values_json(values_per_depth(a->delta_log_amplitude()))}};
}

}  // namespace vitscope::ui
