#include "ui/plots/bar_plot.h"

#include <algorithm>

#include "ui/plots/plot_style.h"

namespace vitscope::ui {

BarPlot::BarPlot(const QString& title, const QString& value_label, Qt::Orientation orientation, QWidget* parent)
    : QCustomPlot(parent), orientation_(orientation) {
  setMinimumSize(200, 160);
  plotLayout()->insertRow(0);
  plotLayout()->addElement(0, 0, new QCPTextElement(this, title));
  valueAxis()->setLabel(value_label);
  keyAxis()->setTickLength(0, 0);
  valueAxis()->ticker()->setTickCount(2);  // narrow plots: few value labels, so they never overlap
  keyAxis()->grid()->setVisible(false);
  if (orientation_ == Qt::Horizontal) keyAxis()->setRangeReversed(true);  // first bar on top
  apply_plot_style(this);
}

void BarPlot::setPreferredValueRange(double lo, double hi) { preferred_ = {lo, hi}; }

void BarPlot::setBars(const QVector<Bar>& bars) {
  clearPlottables();
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  double lo = 0, hi = 0;
  for (int i = 0; i < bars.size(); ++i) {
    auto* b = new QCPBars(keyAxis(), valueAxis());
    b->setWidth(0.7);
    b->setPen(Qt::NoPen);
    b->setBrush(bars[i].color);
    b->addData(i, bars[i].value);
    ticker->addTick(i, bars[i].label);
    lo = std::min(lo, bars[i].value);
    hi = std::max(hi, bars[i].value);
  }
  keyAxis()->setTicker(ticker);
  keyAxis()->setRange(-0.6, std::max<qsizetype>(1, bars.size()) - 0.4);
  if (preferred_) {
    lo = std::min(lo, preferred_->first);
    hi = std::max(hi, preferred_->second);
  }
  const double pad = std::max(1e-6, 0.08 * (hi - lo));
  valueAxis()->setRange(lo - (lo < 0 ? pad : 0), hi + pad);
  replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace vitscope::ui
