#pragma once
// What the comparison workspace shows, per model column, for the current image: the cached
// analysis (one forward + all measurements; layer / head / query changes only read views of
// it) and the reconstruction for the current mask. Work runs on the JobRunner; a generation
// counter drops results that arrive after the image or the models changed.
#include <QColor>
#include <QHash>
#include <QObject>
#include <QString>
#include <QVector>

#include <optional>
#include <vector>

#include "core/runtime/explorer.h"
#include "ui/app_state.h"
#include "ui/jobs/job_runner.h"

namespace vitscope::ui {

struct ModelColumn {
  runtime::ModelInfo info;
  QColor color;
  QString id() const { return QString::fromStdString(info.id); }
  QString name() const { return QString::fromStdString(info.name); }
};

class ComparisonModel : public QObject {
  Q_OBJECT

 public:
  ComparisonModel(runtime::Explorer& explorer, AppState& state, JobRunner& jobs, QObject* parent = nullptr);

  runtime::Explorer& explorer() { return explorer_; }
  AppState& state() { return state_; }
  JobRunner& jobs() { return jobs_; }

  void setColumns(const QVector<ModelColumn>& columns);  // shelf order
  const QVector<ModelColumn>& columns() const { return columns_; }
  const ModelColumn* column(const QString& model_id) const;

  // nullptr while computing, after a failure, or without an image.
  const runtime::ImageAnalysis* analysis(const QString& model_id) const;
  const runtime::ReconstructionView* reconstruction(const QString& model_id) const;
  // "" when fine; otherwise what the column should say ("analysing…", an error).
  QString analysisStatus(const QString& model_id) const;
  QString reconstructionStatus(const QString& model_id) const;
  // The mask the model's reconstruction uses now: its random mask + the hand edits.
  std::vector<uint8_t> currentMask(const QString& model_id) const;
  bool allAnalysesReady() const;
  // Drops every result and computes again (after a device change, a cancel, F5).
  void recompute();
  bool allReconstructionsReady() const;

 signals:
  void columnsChanged();
  void analysisChanged(const QString& model_id);
  void reconstructionChanged(const QString& model_id);

 private:
  struct Slot {
    std::optional<runtime::ImageAnalysis> analysis;
    QString analysis_status;
    bool analysis_running = false;
    // Reconstructions of the current image, by mask (its bytes); the shown one is the current
    // mask's.
    QHash<QByteArray, runtime::ReconstructionView> reconstructions;
    QString reconstruction_status;
    bool reconstruction_running = false;
  };

  void startAnalyses();
  void startReconstruction(const QString& model_id);
  void startReconstructions();
  void onImageChanged();

  runtime::Explorer& explorer_;
  AppState& state_;
  JobRunner& jobs_;
  QVector<ModelColumn> columns_;
  QHash<QString, Slot> slots_;
  int generation_ = 0;
  QVector<JobRunner::Handle> image_jobs_;  // cancelled when the image changes
};

}  // namespace vitscope::ui
