#pragma once
// The loaded models, in the order the user wants their columns: loads checkpoints on a worker
// (the row shows "loading…" meanwhile), renames, removes and reorders them. Each model keeps a
// colour for every plot; colours follow the objective (blues for CL, oranges / reds for MIM,
// purples for hybrids) so a glance at a legend tells the families apart.
#include <QAbstractListModel>
#include <QColor>
#include <QStringList>
#include <QVector>

#include "core/runtime/explorer.h"
#include "ui/jobs/job_runner.h"
#include "ui/workspace/comparison_model.h"

namespace vitscope::ui {

class ModelShelfModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role { ModelIdRole = Qt::UserRole + 1, ColorRole, SummaryRole, LoadingRole, PathRole };

  ModelShelfModel(runtime::Explorer& explorer, JobRunner& jobs, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;  // rename
  Qt::ItemFlags flags(const QModelIndex& index) const override;

  // Loads on a worker; `display_name` (optional) replaces the card's name once loaded.
  void addCheckpoint(const QString& path, const QString& display_name = {});
  void removeModel(int row);
  void moveModel(int from, int to);
  bool isLoading() const;
  void refreshSummaries();  // after a device change: the device is part of every summary

  QVector<ModelColumn> loadedColumns() const;
  QString details(int row) const;  // family, objective, sizes, device, file, load report
  // What to restore next launch: path + display name per row.
  QStringList savedPaths() const;
  QStringList savedNames() const;

 signals:
  void columnsChanged();  // loaded models, their order or names changed
  void loadFailed(const QString& path, const QString& message);
  void modelLoaded(const runtime::ModelInfo& info);

 private:
  struct Entry {
    QString path;
    QString display_name;
    std::optional<runtime::ModelInfo> info;  // nullopt while loading
    QColor color;                            // invalid until assigned (see assignColors)
  };
  void assignColors();
  QColor pickColor(const runtime::ModelInfo& info) const;
  QString summary(const Entry& e) const;

  runtime::Explorer& explorer_;
  JobRunner& jobs_;
  QVector<Entry> entries_;
};

}  // namespace vitscope::ui
