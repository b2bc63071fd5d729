#pragma once
// The cue-conflict result in the style of Geirhos et al. 2019, Fig. 4: one row per shape
// category, one marker per model at its shape bias in that category (x: 0 = only texture
// decisions, 1 = only shape decisions), and a dashed line per model at its overall shape bias.
#include <qcustomplot.h>

#include <QColor>
#include <QStringList>
#include <QVector>

namespace vitscope::ui {

struct ShapeBiasSeries {
  QString name;
  QColor color;
  QVector<double> per_category;  // one per category; NaN where the model made no shape or texture decision
  double overall = 0;            // NaN: undefined
};

class ShapeBiasPlot : public QCustomPlot {
  Q_OBJECT

 public:
  explicit ShapeBiasPlot(QWidget* parent = nullptr);
  void setData(const QStringList& categories, const QVector<ShapeBiasSeries>& series);
  QSize sizeHint() const override { return {520, 400}; }
};

}  // namespace vitscope::ui
