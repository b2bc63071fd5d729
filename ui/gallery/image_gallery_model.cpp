#include "ui/gallery/image_gallery_model.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QPixmap>

#include "ui/plots/colormap.h"

namespace vitscope::ui {

namespace {

const QStringList& image_suffixes() {
  static const QStringList s{"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "gif", "ppm", "pgm", "jfif"};
  return s;
}

constexpr int kThumbnailSide = 96;
constexpr int kFolderLimit = 500;  // a dropped photo library should not freeze the gallery

struct Decoded {
  std::string image_id;
  runtime::RgbImage thumbnail;
};

}  // namespace

ImageGalleryModel::ImageGalleryModel(runtime::Explorer& explorer, JobRunner& jobs, QObject* parent)
    : QAbstractListModel(parent), explorer_(explorer), jobs_(jobs) {}

int ImageGalleryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : entries_.size(); }

QVariant ImageGalleryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= entries_.size()) return {};
  const Entry& e = entries_[index.row()];
  switch (role) {
    case Qt::DisplayRole: return e.image_id.isEmpty() ? tr("%1 (loading…)").arg(e.name) : e.name;
    case Qt::DecorationRole: return e.thumbnail;
    case Qt::ToolTipRole: return e.path;
    case ImageIdRole: return e.image_id;
    case PathRole: return e.path;
    case LoadingRole: return e.image_id.isEmpty();
    default: return {};
  }
}

QStringList ImageGalleryModel::expand(const QStringList& paths) const {
  QStringList files;
  for (const auto& p : paths) {
    if (!QFileInfo(p).isDir()) {
      files << p;
      continue;
    }
    QStringList filters;
    for (const auto& s : image_suffixes()) filters << "*." + s << "*." + s.toUpper();
    QDirIterator it(p, filters, QDir::Files, QDirIterator::Subdirectories);
    QStringList found;
    while (it.hasNext() && found.size() < kFolderLimit) found << it.next();
    found.sort();
    files << found;
  }
  return files;
}

void ImageGalleryModel::addPaths(const QStringList& paths, bool show_first) {
  bool show = show_first;
  for (const auto& file : expand(paths)) {
    const QString path = QFileInfo(file).absoluteFilePath();
    int existing = -1;
    for (int i = 0; i < entries_.size(); ++i)
      if (entries_[i].path == path) existing = i;
    if (existing < 0) {
      existing = entries_.size();
      load(path);
    }
    if (show) {
      show_when_ready_ = path;
      if (!entries_[existing].image_id.isEmpty()) imageReady(existing);
    }
    show = false;
  }
}

void ImageGalleryModel::imageReady(int row) {
  if (entries_[row].path != show_when_ready_) return;
  show_when_ready_.clear();
  emit imageToShow(entries_[row].image_id, entries_[row].name);
}

void ImageGalleryModel::addPastedImage(const QImage& image, const QString& folder) {
  QDir().mkpath(folder);
  const QString path =
      QDir(folder).filePath(QStringLiteral("pasted-%1.png").arg(QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss-zzz")));
  if (!image.save(path)) return emit loadFailed(path, tr("could not save the pasted picture"));
  addPaths({path}, true);
}

void ImageGalleryModel::load(const QString& path) {
  const int row = entries_.size();
  beginInsertRows({}, row, row);
  entries_.push_back({path, QFileInfo(path).fileName(), {}, {}});
  endInsertRows();
  const std::string file = path.toStdString();
  auto find_row = [this, path] {
    for (int i = 0; i < entries_.size(); ++i)
      if (entries_[i].path == path && entries_[i].image_id.isEmpty()) return i;
    return -1;
  };
  jobs_.run<Decoded>(
      tr("Decoding %1").arg(QFileInfo(path).fileName()), this,
      [this, file](const runtime::CancelToken&) {
        Decoded d;
        d.image_id = explorer_.add_image(file);
        d.thumbnail = explorer_.image_preview(d.image_id, kThumbnailSide);
        return d;
      },
      [this, find_row](Decoded d) {
        const int r = find_row();
        const QString id = QString::fromStdString(d.image_id);
        if (r < 0) return explorer_.remove_image(d.image_id);  // removed meanwhile
        entries_[r].image_id = id;
        entries_[r].thumbnail = QIcon(QPixmap::fromImage(rgb_to_image(d.thumbnail)));
        emit dataChanged(index(r), index(r));
        imageReady(r);
      },
      [this, find_row, path](const QString& error) {
        if (show_when_ready_ == path) show_when_ready_.clear();
        const int r = find_row();
        if (r >= 0) {
          beginRemoveRows({}, r, r);
          entries_.removeAt(r);
          endRemoveRows();
        }
        emit loadFailed(path, error.isEmpty() ? tr("decoding was cancelled") : error);
      });
}

void ImageGalleryModel::removeImage(int row) {
  if (row < 0 || row >= entries_.size()) return;
  beginRemoveRows({}, row, row);
  const Entry e = entries_.takeAt(row);
  endRemoveRows();
  if (!e.image_id.isEmpty()) explorer_.remove_image(e.image_id.toStdString());
}

int ImageGalleryModel::rowOfImage(const QString& image_id) const {
  for (int i = 0; i < entries_.size(); ++i)
    if (entries_[i].image_id == image_id) return i;
  return -1;
}

}  // namespace vitscope::ui
