#pragma once
// The Fine-tuning panel: a form that sets up a job (base model from the shelf, data and
// validation folders, mode, epochs, batch, learning rate and layer decay, image size,
// augmentation, device, diagnostics interval), the job queue with pause / resume / cancel /
// retry / remove, the live curves of the selected job (loss, learning rate, throughput,
// validation accuracy) and its live diagnostics — attention distance and NMI per block and ΔLog
// amplitude over depth, one curve per snapshot from light (early) to dark (latest), and the CLS
// attention of the probe image. Thin: the state lives in FineTuneQueue.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QStackedWidget>
#include <QWidget>

#include "ui/plots/heatmap_view.h"
#include "ui/plots/line_plot.h"
#include "ui/training/finetune_queue.h"

namespace vitscope::ui {

class ModelShelfModel;

class FineTunePanel : public QWidget {
  Q_OBJECT

 public:
  FineTunePanel(FineTuneQueue& queue, ModelShelfModel& shelf, QWidget* parent = nullptr);

  // The job the form describes (what "Add to Queue" enqueues).
  runtime::FineTuneSpec specFromForm() const;
  void setDataFolder(const QString& path);
  void setBaseModel(const QString& path);  // selects the shelf row with this path
  void setMode(const QString& mode);
  void setEpochs(int epochs);
  void setBatchSize(int batch);
  void setDiagnosticsEvery(int steps);
  int selectedRow() const;
  void selectRow(int row);
  // The job's curves and live diagnostics as they are drawn: a figure (.png at `dpi`, .svg,
  // .pdf) with the job's settings as caption, or the numbers (.csv, .json). False + why on failure.
  bool exportJob(int row, const QString& path, int dpi, QString* error);

  LinePlot* lossPlot() const { return loss_; }
  LinePlot* accuracyPlot() const { return accuracy_; }
  LinePlot* distancePlot() const { return distance_; }
  LinePlot* nmiPlot() const { return nmi_; }
  LinePlot* spectrumPlot() const { return spectrum_; }
  HeatmapView* attentionView() const { return attention_; }
  QPushButton* addButton() const { return add_; }
  QPushButton* removeButton() const { return remove_; }

 private:
  QWidget* createForm();
  QWidget* createQueue();
  QWidget* createPlots();
  void refreshButtons();
  void refreshPlots();
  void exportDialog();

  FineTuneQueue& queue_;
  ModelShelfModel& shelf_;
  QComboBox *base_, *mode_, *device_;
  QLineEdit *data_, *val_, *lr_;
  QDoubleSpinBox *val_split_, *lambda_, *layer_decay_, *crop_scale_;
  QCheckBox* flip_;
  QSpinBox *epochs_, *batch_, *image_size_, *diagnostics_every_;
  QPushButton *add_, *pause_, *resume_, *cancel_, *remove_, *clear_, *export_;
  QWidget* plots_;
  QStackedWidget* plots_or_empty_;  // a hint while no job is selected, else the plots
  QListView* list_;
  QLabel* status_;
  LinePlot *loss_, *lr_plot_, *throughput_, *accuracy_, *distance_, *nmi_, *spectrum_;
  HeatmapView* attention_;
};

}  // namespace vitscope::ui
