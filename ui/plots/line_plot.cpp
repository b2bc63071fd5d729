#include "ui/plots/line_plot.h"

#include <algorithm>
#include <cmath>

#include "ui/plots/plot_style.h"

namespace vitscope::ui {

PlotSeries make_series(const QString& name, const QColor& color, const std::vector<double>& y, double first_x) {
  PlotSeries s{name, color, {}, {}};
  for (size_t i = 0; i < y.size(); ++i) {
    s.x << first_x + static_cast<double>(i);
    s.y << y[i];
  }
  return s;
}

LinePlot::LinePlot(const QString& title, const QString& x_label, const QString& y_label, QWidget* parent)
    : QCustomPlot(parent) {
  setMinimumSize(320, 280);
  plotLayout()->insertRow(0);
  title_ = new QCPTextElement(this, title);
  plotLayout()->addElement(0, 0, title_);
  xAxis->setLabel(x_label);
  yAxis->setLabel(y_label);
  // The legend goes under the axes, in rows, so it never hides a line.
  legend->setVisible(true);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLegend::foColumnsFirst);
  legend->setWrap(2);
  axisRect()->insetLayout()->take(legend);
  plotLayout()->addElement(2, 0, legend);
  plotLayout()->setRowStretchFactor(2, 0.001);
  marker_ = new QCPItemStraightLine(this);
  marker_->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
  marker_->setVisible(false);
  setIntegerXTicks(true);
  apply_plot_style(this);
}

void LinePlot::setIntegerXTicks(bool integer) {
  integer_x_ = integer;
  if (!integer) {
    xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    return;
  }
  QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  xAxis->setTicker(ticker);
}

void LinePlot::setSeries(const QVector<PlotSeries>& series) {
  clearGraphs();
  for (const auto& s : series) {
    auto* g = addGraph();
    g->setName(s.name);
    g->setPen(QPen(s.color, 2 * plot_style().line_scale, s.style));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, s.color, s.color, 5 * plot_style().line_scale));
    g->setData(s.x, s.y, /*alreadySorted=*/true);
    if (!s.in_legend) g->removeFromLegend();
  }
  legend->setVisible(!series.isEmpty());
  rescale();
  replot(QCustomPlot::rpQueuedReplot);
}

void LinePlot::setMarkerX(std::optional<double> x) {
  marker_->setVisible(x.has_value());
  if (x) {
    marker_->point1->setCoords(*x, 0);
    marker_->point2->setCoords(*x, 1);
  }
  replot(QCustomPlot::rpQueuedReplot);
}

void LinePlot::setLogY(bool log) {
  yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (log) {
    QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
    yAxis->setTicker(ticker);
    yAxis->setNumberFormat("eb");
    yAxis->setNumberPrecision(0);
  }
  rescale();
}

void LinePlot::setPreferredYRange(double lo, double hi) {
  preferred_y_ = {lo, hi};
  rescale();
}

void LinePlot::rescale() {
  if (graphCount() == 0) return;
  rescaleAxes();
  const auto x = xAxis->range();
  const double x_pad = integer_x_ ? 0.5 : 0.04 * std::max(1e-6, x.upper - x.lower);  // half a layer, or a margin
  xAxis->setRange(x.lower - x_pad, x.upper + x_pad);
  auto y = yAxis->range();
  if (preferred_y_) {
    // From the data itself: rescaleAxes widens a flat series (all values 1) to an arbitrary span.
    y = QCPRange(preferred_y_->first, preferred_y_->second);
    for (int i = 0; i < graphCount(); ++i) {
      bool found = false;
      const auto values = graph(i)->getValueRange(found);
      if (found) y.expand(values);
    }
  } else if (yAxis->scaleType() == QCPAxis::stLinear) {
    const double pad = std::max(1e-6, 0.08 * (y.upper - y.lower));
    y.lower -= pad;
    y.upper += pad;
  } else {
    y.lower /= 1.5;
    y.upper *= 1.5;
  }
  yAxis->setRange(y);
}

}  // namespace vitscope::ui
