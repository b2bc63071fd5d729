#pragma once
// What the Probes panel shows (docs/PROBES.md): the probe views of the current image and, per
// model column, its label-free probe on that image; the cue-conflict shape bias of each model once
// measured, with the linear head trained first for models without a classifier. All work runs on
// the JobRunner: image probes when the panel asks for them, shape-bias measurements one model at a
// time (a head takes minutes on a CPU and must not hold every worker), with progress and cancel.
#include <QHash>
#include <QObject>
#include <QQueue>
#include <QString>

#include <optional>
#include <vector>

#include "core/runtime/explorer.h"
#include "ui/workspace/comparison_model.h"

namespace vitscope::ui {

class ProbesModel : public QObject {
  Q_OBJECT

 public:
  explicit ProbesModel(ComparisonModel& comparison, QObject* parent = nullptr);

  // --- Label-free probes of the current image ---
  // Starts what is missing for the current image (views and every column's probe).
  void requestImageProbes();
  const std::vector<runtime::ProbeView>* views() const;  // nullptr while computing
  const runtime::ImageProbe* imageProbe(const QString& model_id) const;
  QString imageProbeStatus(const QString& model_id) const;  // "" when there is a result
  bool allImageProbesReady() const;

  // --- Cue-conflict shape bias ---
  // Geirhos et al.'s stimuli (default: ../shared/data/cue-conflict beside the sources, if there).
  QString stimuliDir() const { return stimuli_dir_; }
  void setStimuliDir(const QString& dir);
  // Labelled images for the linear heads of models without a classifier (default: the CIFAR-10
  // archive in ../shared, if there) and how many training images per class to use (0 = all).
  QString headData() const { return head_data_; }
  void setHeadData(const QString& path);
  int headImagesPerClass() const { return head_per_class_; }
  void setHeadImagesPerClass(int n) { head_per_class_ = n; }

  // Queues the model (a head first if it has no classifier); measured one at a time.
  void measureShapeBias(const QString& model_id);
  void measureAllShapeBias();
  void cancelShapeBias();  // the running measurement and the queue
  const runtime::ShapeBiasReport* shapeBias(const QString& model_id) const;
  const runtime::HeadTrainingReport* headTraining(const QString& model_id) const;
  QString shapeBiasStatus(const QString& model_id) const;  // progress, queued, errors; "" otherwise
  bool shapeBiasBusy() const { return running_.has_value() || !queue_.isEmpty(); }
  // The CLI line that recomputes the panel: vitscope-cli probe ….
  QString cliCommand(const QStringList& model_paths, const QString& image_path) const;

 signals:
  void viewsChanged();
  void imageProbeChanged(const QString& model_id);
  void shapeBiasChanged(const QString& model_id);

 private:
  struct Slot {
    std::optional<runtime::ImageProbe> probe;
    QString probe_status;
    bool probe_running = false;
    std::optional<runtime::ShapeBiasReport> shape_bias;
    std::optional<runtime::HeadTrainingReport> head;
    QString shape_bias_status;
  };
  struct Measured {  // a finished shape-bias job
    std::optional<runtime::HeadTrainingReport> head;
    runtime::ShapeBiasReport report;
  };

  void onImageChanged();
  void onColumnsChanged();
  void startNextShapeBias();
  void setShapeBiasStatus(const QString& model_id, const QString& text);

  ComparisonModel& comparison_;
  runtime::Explorer& explorer_;
  AppState& state_;
  JobRunner& jobs_;
  QHash<QString, Slot> slots_;
  std::optional<std::vector<runtime::ProbeView>> views_;
  bool views_running_ = false;
  int generation_ = 0;  // of the current image
  QVector<JobRunner::Handle> image_jobs_;

  QString stimuli_dir_, head_data_;
  int head_per_class_ = 1000;
  QQueue<QString> queue_;
  std::optional<QString> running_;
  JobRunner::Handle running_job_;
};

}  // namespace vitscope::ui
