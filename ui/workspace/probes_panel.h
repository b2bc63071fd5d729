#pragma once
// Probes panel (docs/PROBES.md): is each model shape- or texture-reliant? Per model, the
// label-free probe of the current image (similarity of shape-keeping and texture-keeping views to
// the original, the shape-reliance index) and the cue-conflict shape bias of Geirhos et al. once
// measured; under the columns, the probe views, the index of every model (bars, and per block),
// similarity under low-pass / high-pass filtering, and the Geirhos-style shape-bias plot.
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>

#include "ui/plots/bar_plot.h"
#include "ui/plots/heatmap_view.h"
#include "ui/plots/line_plot.h"
#include "ui/plots/shape_bias_plot.h"
#include "ui/workspace/comparison_panel.h"
#include "ui/workspace/probes_model.h"

namespace vitscope::ui {

class ProbesPanel : public ComparisonPanel {
  Q_OBJECT

 public:
  explicit ProbesPanel(ComparisonModel& model, QWidget* parent = nullptr);
  QStringList cliMetrics() const override { return {}; }
  QString cliCommand(const QStringList& model_paths, const QString& image_path) const override;
  ProbesModel& probes() { return probes_; }
  // The current image's shape with the texture of `texture_path` (outline / OpenCV transfer when
  // asked), made on a worker; arrives as cueConflictImageMade.
  void makeCueConflictImage(const QString& texture_path, bool outline, bool transfer);

 signals:
  // A probe image the user built; the window adds it to the gallery.
  void cueConflictImageMade(const QImage& image, const QString& name);
  void cueConflictImageFailed(const QString& error);

 protected:
  PanelColumn* createColumn(const ModelColumn& column) override;
  void refreshPlots() override;
  QJsonObject columnData(const PanelColumn& column) override;

 private:
  QWidget* createToolRow();
  void refreshToolRow();
  void refreshViews();

  ProbesModel probes_;
  QLabel *stimuli_, *head_data_;
  QSpinBox* per_class_;
  QPushButton *measure_, *cancel_;
  QList<HeatmapView*> view_pictures_;  // one per probe view, in Explorer::probe_view_kinds() order
  BarPlot* index_;
  LinePlot *per_block_, *frequency_;
  ShapeBiasPlot* shape_bias_;
};

}  // namespace vitscope::ui
