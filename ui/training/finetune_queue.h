#pragma once
// The fine-tuning jobs of the app, in the order they run: one at a time, each on its own thread
// (not the analysis pool, so the comparison workspace stays interactive), with pause, resume and
// cancel. Holds what each job has reported — curves (loss, learning rate, throughput, validation
// accuracy) and the live diagnostics snapshots — for the panel to draw.
//
// Jobs are saved as JSON in the data folder (jobs.json, with one checkpoint folder per job).
// A job that was running or waiting when the app closed or crashed is picked up again by the
// next queue on the same folder and continues from its last checkpoint.
#include <QAbstractListModel>
#include <QJsonObject>
#include <QString>
#include <QThread>
#include <QVector>

#include <memory>

#include "core/runtime/finetune_job.h"

namespace vitscope::ui {

struct FineTuneCurves {
  QVector<double> step, loss, lr, images_per_second;  // one point per progress report
  QVector<double> epoch, val_top1;                     // one point per epoch (labelled modes)
  QVector<runtime::TrainingDiagnostics> diagnostics;  // in step order
};

// A job's curves in the shape of a panel's data (ui/export/data_export.h: {"panel", "models": [{
// "name", quantities…}]}), so that they export to the same tidy CSV or JSON: step, loss, lr,
// images_per_second; epoch, val_top1; diagnostics.{step, attention_distance, nmi,
// delta_log_amplitude}, one row per snapshot.
QJsonObject curves_to_json(const QString& jobName, const FineTuneCurves& curves);

class FineTuneQueue : public QAbstractListModel {
  Q_OBJECT

 public:
  enum class State { Queued, Running, Paused, Finished, Failed, Cancelled };
  static QString stateName(State state);

  struct Job {
    QString id;
    runtime::FineTuneSpec spec;
    State state = State::Queued;
    int64_t step = 0, total_steps = 0;  // as of the latest report (every few steps)
    int64_t paused_at = -1;             // the step the job waits before, once it has paused; -1 = not waiting
    QString message;     // the latest warning, error or how it started
    QString model_path;  // Finished: the new model
    FineTuneCurves curves;
  };

  // dataDir: where jobs.json, the checkpoints and the new models live (the app passes its
  // AppDataLocation + "/finetune"; tests a temporary folder). Unfinished jobs found there start
  // again (from their checkpoints) as soon as the event loop runs.
  explicit FineTuneQueue(const QString& dataDir, QObject* parent = nullptr);
  ~FineTuneQueue() override;  // interrupts the running job, which stays unfinished on disk

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

  // Fills in the checkpoint folder and, unless set, the output path and name; returns the row.
  int enqueue(runtime::FineTuneSpec spec);
  void pause(int row);
  void resume(int row);
  void cancel(int row);  // a running job stops at its next step; a waiting one is dropped
  // A failed job waits in the queue again and continues from its last checkpoint (after the
  // user freed disk space, chose another device, …).
  void retry(int row);
  // Drops ended jobs (finished, failed, cancelled) from the list and jobs.json with their
  // checkpoint folders; the models they made stay where they are (and on the shelf).
  void remove(int row);
  void removeEnded();
  static bool hasEnded(State state) { return state == State::Finished || state == State::Failed || state == State::Cancelled; }
  // Stops the running job so that the next launch resumes it (what closing the app does).
  void interrupt();

  const Job& job(int row) const { return jobs_[row]; }
  int runningRow() const;
  QString dataDir() const { return dir_; }
  int resumedAtStartup() const { return resumed_at_startup_; }
  // Why jobs.json could not be read (in full or for some jobs), "" when it could: a broken file
  // is kept beside as jobs.json.broken and the queue starts without what it could not read.
  QString loadProblem() const { return load_problem_; }

 signals:
  void curvesChanged(int row);
  void modelReady(const QString& modelPath, const QString& basePath, const QString& name);
  void jobFailed(const QString& name, const QString& message);
  void jobWarning(const QString& name, const QString& message);

 private:
  void startNext();
  void onUpdate(const QString& id, const runtime::FineTuneUpdate& update);
  void onFinished(const QString& id, const runtime::FineTuneOutcome& outcome, const QString& error);
  int rowOf(const QString& id) const;
  void setState(int row, State state);
  void save() const;
  void load();
  QString load_problem_;

  QString dir_;
  QVector<Job> jobs_;
  std::shared_ptr<runtime::FineTuneJob> running_;
  QString running_id_;
  QThread* thread_ = nullptr;
  bool interrupting_ = false;
  int resumed_at_startup_ = 0;
};

}  // namespace vitscope::ui
