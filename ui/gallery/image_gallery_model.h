#pragma once
// The images to look at: sample images, files and folders the user dropped or opened, pasted
// pictures. Each is decoded once by the engine on a worker (so a bad file is found out at once,
// with the engine's own message) and shown with a thumbnail.
#include <QAbstractListModel>
#include <QIcon>
#include <QImage>
#include <QStringList>
#include <QVector>

#include "core/runtime/explorer.h"
#include "ui/jobs/job_runner.h"

namespace vitscope::ui {

class ImageGalleryModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role { ImageIdRole = Qt::UserRole + 1, PathRole, LoadingRole };

  ImageGalleryModel(runtime::Explorer& explorer, JobRunner& jobs, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

  // Files and folders (searched recursively for images). With `show_first`, the first one that
  // decodes becomes the current image (imageToShow). Images already present are not added twice.
  void addPaths(const QStringList& paths, bool show_first);
  // A picture from the clipboard: saved under `folder` (so that the CLI command can name a file)
  // and then added like a file.
  void addPastedImage(const QImage& image, const QString& folder);
  void removeImage(int row);
  int rowOfImage(const QString& image_id) const;

 signals:
  void imageToShow(const QString& image_id, const QString& name);
  void loadFailed(const QString& path, const QString& message);

 private:
  struct Entry {
    QString path, name, image_id;  // image_id empty while decoding
    QIcon thumbnail;
  };
  QStringList expand(const QStringList& paths) const;
  void load(const QString& path);
  void imageReady(int row);

  runtime::Explorer& explorer_;
  JobRunner& jobs_;
  QVector<Entry> entries_;
  QString show_when_ready_;  // the latest image asked to be shown, while it decodes
};

}  // namespace vitscope::ui
