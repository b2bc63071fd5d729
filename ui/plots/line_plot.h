#pragma once
// A QCustomPlot with one line per model: mean attention distance / NMI per layer, ΔLog
// amplitude over depth, singular values. A dashed vertical line marks the selected layer.
// Vector output (SVG / PDF) goes through QCustomPlot::toPainter (ui/export/figure_renderer).
#include <qcustomplot.h>

#include <QColor>
#include <QString>
#include <QVector>

#include <optional>
#include <vector>

namespace vitscope::ui {

struct PlotSeries {
  QString name;
  QColor color;
  QVector<double> x, y;
  Qt::PenStyle style = Qt::SolidLine;  // a second curve of the same model: dashed
  bool in_legend = true;               // the second curve of a model may share the first's entry
};

// y[i] plotted at x = first_x + i.
PlotSeries make_series(const QString& name, const QColor& color, const std::vector<double>& y, double first_x);

class LinePlot : public QCustomPlot {
  Q_OBJECT

 public:
  LinePlot(const QString& title, const QString& x_label, const QString& y_label, QWidget* parent = nullptr);

  void setTitle(const QString& title) { title_->setText(title); }
  void setSeries(const QVector<PlotSeries>& series);
  void setMarkerX(std::optional<double> x);  // the selected layer, nullopt: none
  void setLogY(bool log);
  // Fixed y range (e.g. the paper's 0–0.6 for NMI) that grows when the data do not fit.
  void setPreferredYRange(double lo, double hi);
  void setIntegerXTicks(bool integer);

  QSize sizeHint() const override { return {440, 300}; }

 private:
  void rescale();

  QCPTextElement* title_;
  QCPItemStraightLine* marker_;
  std::optional<std::pair<double, double>> preferred_y_;
  bool integer_x_ = true;
};

}  // namespace vitscope::ui
