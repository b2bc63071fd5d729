#include "ui/workspace/spectrum_column.h"

namespace vitscope::ui {

SpectrumColumn::SpectrumColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent)
    : PanelColumn(model, column, parent) {
  spectrum_ = new HeatmapView(192);
  spectrum_->setValueName(tr("log amplitude"));
  spectrum_->setToolTip(tr("Mean over channels of ln|FFT| of the token feature map: zero frequency in the centre, "
                           "higher frequencies towards the edges (both axes from −π to π)."));
  caption_ = caption();
  body()->addWidget(spectrum_);
  body()->addWidget(caption_);
}

void SpectrumColumn::refresh() {
  const auto* a = analysisOrStatus();
  if (!a) {
    spectrum_->clearGrid();
    caption_->clear();
    return;
  }
  spectrum_->setGrid(a->spectrum(featureTap()), Colormap::Viridis, 1.0);
  const auto delta = a->delta_log_amplitude();
  caption_->setText(tr("Output of block %1/%2\nΔLog amplitude %3")
                        .arg(block() + 1)
                        .arg(modelColumn().info.depth)
                        .arg(delta[featureTap()], 0, 'f', 2));
}

}  // namespace vitscope::ui
