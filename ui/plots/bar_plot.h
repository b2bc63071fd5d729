#pragma once
// A QCustomPlot of labelled bars, each in its own colour: one bar per model (the shape-reliance
// index) or per probe view (a model's similarity to the original). Horizontal bars keep long
// labels readable in a narrow column.
#include <qcustomplot.h>

#include <QColor>
#include <QString>
#include <QVector>

#include <optional>

namespace vitscope::ui {

struct Bar {
  QString label;
  double value = 0;
  QColor color;
};

class BarPlot : public QCustomPlot {
  Q_OBJECT

 public:
  BarPlot(const QString& title, const QString& value_label, Qt::Orientation orientation, QWidget* parent = nullptr);

  void setBars(const QVector<Bar>& bars);
  // Fixed value range that grows when a bar does not fit (0 is always shown).
  void setPreferredValueRange(double lo, double hi);

  QSize sizeHint() const override { return size_hint_; }
  void setSizeHint(QSize size) { size_hint_ = size; }

 private:
  QCPAxis* keyAxis() const { return orientation_ == Qt::Horizontal ? yAxis : xAxis; }
  QCPAxis* valueAxis() const { return orientation_ == Qt::Horizontal ? xAxis : yAxis; }

  Qt::Orientation orientation_;
  std::optional<std::pair<double, double>> preferred_;
  QSize size_hint_{440, 300};
};

}  // namespace vitscope::ui
