#include "ui/plots/shape_bias_plot.h"

#include <cmath>

#include "ui/plots/plot_style.h"

namespace vitscope::ui {

ShapeBiasPlot::ShapeBiasPlot(QWidget* parent) : QCustomPlot(parent) {
  setMinimumSize(320, 280);
  plotLayout()->insertRow(0);
  plotLayout()->addElement(0, 0, new QCPTextElement(this, tr("Shape bias per category")));
  xAxis->setLabel(tr("fraction of shape decisions (0 = texture, 1 = shape)"));
  xAxis->setRange(-0.04, 1.04);
  yAxis->setLabel(tr("shape category"));
  yAxis->setRangeReversed(true);  // first category on top, as in Geirhos et al.
  yAxis->grid()->setZeroLinePen(Qt::NoPen);  // row 0 is a category like the others
  legend->setVisible(true);
  legend->setBorderPen(Qt::NoPen);
  legend->setFillOrder(QCPLegend::foRowsFirst);  // one model per row: names with their overall value are long
  axisRect()->insetLayout()->take(legend);
  plotLayout()->addElement(2, 0, legend);
  plotLayout()->setRowStretchFactor(2, 0.001);
  apply_plot_style(this);
}

void ShapeBiasPlot::setData(const QStringList& categories, const QVector<ShapeBiasSeries>& series) {
  clearGraphs();
  clearItems();
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int i = 0; i < categories.size(); ++i) ticker->addTick(i, categories[i]);
  yAxis->setTicker(ticker);
  yAxis->setRange(-0.6, std::max<qsizetype>(1, categories.size()) - 0.4);
  static const QCPScatterStyle::ScatterShape kShapes[] = {QCPScatterStyle::ssCircle, QCPScatterStyle::ssSquare,
                                                          QCPScatterStyle::ssDiamond, QCPScatterStyle::ssTriangle,
                                                          QCPScatterStyle::ssTriangleInverted, QCPScatterStyle::ssCross};
  for (int s = 0; s < series.size(); ++s) {
    const auto& m = series[s];
    auto* g = addGraph();
    g->setName(std::isnan(m.overall) ? m.name : tr("%1 (overall %2)").arg(m.name).arg(m.overall, 0, 'f', 2));
    g->setLineStyle(QCPGraph::lsNone);
    g->setPen(QPen(m.color, 2 * plot_style().line_scale));
    g->setScatterStyle(QCPScatterStyle(kShapes[s % 6], m.color, m.color, 9 * plot_style().line_scale));
    for (int c = 0; c < m.per_category.size() && c < categories.size(); ++c)
      if (!std::isnan(m.per_category[c])) g->addData(m.per_category[c], c);
    if (!std::isnan(m.overall)) {
      auto* line = new QCPItemStraightLine(this);
      line->setPen(QPen(m.color, 1.5 * plot_style().line_scale, Qt::DashLine));
      line->point1->setCoords(m.overall, 0);
      line->point2->setCoords(m.overall, 1);
    }
  }
  legend->setVisible(!series.isEmpty());
  replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace vitscope::ui
