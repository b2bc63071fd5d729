#include "ui/plots/plot_style.h"

#include <qcustomplot.h>

#include <QApplication>

#include <algorithm>

namespace vitscope::ui {

namespace {

PlotStyle& current() {
  static PlotStyle style;
  return style;
}

}  // namespace

const PlotStyle& plot_style() { return current(); }
void set_plot_style(const PlotStyle& style) { current() = style; }

void apply_plot_style(QCustomPlot* plot) {
  const QFont base = QApplication::font();
  QFont title = base, small = base;
  title.setBold(true);
  small.setPointSizeF(std::max(7.0, base.pointSizeF() - 1));
  for (auto* axis : plot->axisRect() ? plot->axisRect()->axes() : QList<QCPAxis*>{}) {
    axis->setLabelFont(base);
    axis->setTickLabelFont(base);
  }
  plot->legend->setFont(small);
  for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
    if (auto* text = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i))) text->setFont(title);
  plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace vitscope::ui
