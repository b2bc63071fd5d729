#include "ui/shelf/model_shelf_model.h"

#include <QFileInfo>

#include "ui/plots/model_colors.h"

namespace vitscope::ui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString parameter_text(int64_t n) {
  if (n >= 1'000'000) return QObject::tr("%1 M parameters").arg(n / 1e6, 0, 'f', 1);
  return QObject::tr("%1 k parameters").arg(n / 1e3, 0, 'f', 0);
}

}  // namespace

ModelShelfModel::ModelShelfModel(runtime::Explorer& explorer, JobRunner& jobs, QObject* parent)
    : QAbstractListModel(parent), explorer_(explorer), jobs_(jobs) {}

int ModelShelfModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : entries_.size(); }

QString ModelShelfModel::summary(const Entry& e) const {
  if (!e.info) return tr("loading %1…").arg(QFileInfo(e.path).fileName());
  const auto& i = *e.info;
  QStringList parts{qs(i.objective_label)};
  if (!i.method.empty()) parts << qs(i.method);
  parts << tr("%1 px, %2×%2 patches").arg(i.image_size).arg(i.grid) << parameter_text(i.parameters)
        << qs(explorer_.device());
  return parts.join(QStringLiteral(" · "));
}

QVariant ModelShelfModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= entries_.size()) return {};
  const Entry& e = entries_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
    case Qt::EditRole:
      return e.info ? qs(e.info->name) : QFileInfo(e.path).fileName();
    case Qt::ToolTipRole: return details(index.row());
    case ModelIdRole: return e.info ? qs(e.info->id) : QString();
    case ColorRole: return e.color;
    case SummaryRole: return summary(e);
    case LoadingRole: return !e.info.has_value();
    case PathRole: return e.path;
    default: return {};
  }
}

bool ModelShelfModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (role != Qt::EditRole || !index.isValid()) return false;
  Entry& e = entries_[index.row()];
  const QString name = value.toString().trimmed();
  if (!e.info || name.isEmpty()) return false;
  explorer_.rename_model(e.info->id, name.toStdString());
  e.info->name = name.toStdString();
  e.display_name = name;
  emit dataChanged(index, index);
  emit columnsChanged();
  return true;
}

Qt::ItemFlags ModelShelfModel::flags(const QModelIndex& index) const {
  auto f = QAbstractListModel::flags(index);
  if (index.isValid() && entries_[index.row()].info) f |= Qt::ItemIsEditable;
  return f;
}

void ModelShelfModel::assignColors() {
  // In row order, and only once every row above has loaded: the colours do not depend on which
  // load finishes first.
  for (auto& e : entries_) {
    if (!e.info) return;
    if (!e.color.isValid()) e.color = pickColor(*e.info);
  }
}

QColor ModelShelfModel::pickColor(const runtime::ModelInfo& info) const {
  std::vector<std::string> taken;
  for (const auto& e : entries_)
    if (e.color.isValid()) taken.push_back(e.color.name().toStdString());
  return QColor(QString::fromStdString(next_model_color(info.objective, taken)));
}

void ModelShelfModel::addCheckpoint(const QString& path, const QString& display_name) {
  for (const auto& e : entries_)
    if (e.path == path) return emit loadFailed(path, tr("this checkpoint is already on the shelf"));
  const int row = entries_.size();
  beginInsertRows({}, row, row);
  entries_.push_back({path, display_name, std::nullopt, QColor()});
  endInsertRows();
  auto finish = [this, path](std::optional<runtime::ModelInfo> info, const QString& error) {
    int r = -1;
    for (int i = 0; i < entries_.size(); ++i)
      if (entries_[i].path == path && !entries_[i].info) r = i;
    if (r < 0) {  // removed while loading
      if (info) explorer_.remove_model(info->id);
      return;
    }
    if (!info) {
      beginRemoveRows({}, r, r);
      entries_.removeAt(r);
      endRemoveRows();
      emit loadFailed(path, error);
      return;
    }
    Entry& e = entries_[r];
    if (!e.display_name.isEmpty()) {
      explorer_.rename_model(info->id, e.display_name.toStdString());
      info->name = e.display_name.toStdString();
    }
    e.info = std::move(info);
    assignColors();
    emit dataChanged(index(r), index(r));
    emit modelLoaded(*e.info);
    emit columnsChanged();
  };
  const std::string file = path.toStdString();
  jobs_.run<runtime::ModelInfo>(
      tr("Loading %1").arg(QFileInfo(path).fileName()), this,
      [this, file](const runtime::CancelToken&) { return explorer_.load_model(file); },
      [finish](runtime::ModelInfo info) { finish(std::move(info), {}); },
      [finish](const QString& error) { finish(std::nullopt, error.isEmpty() ? tr("loading was cancelled") : error); });
}

void ModelShelfModel::removeModel(int row) {
  if (row < 0 || row >= entries_.size()) return;
  beginRemoveRows({}, row, row);
  const Entry e = entries_.takeAt(row);
  endRemoveRows();
  if (!e.info) {  // still loading: the finished load sees the row gone and unloads
    assignColors();
    return emit columnsChanged();
  }
  assignColors();
  emit columnsChanged();  // columns go first, then the engine forgets the model
  explorer_.remove_model(e.info->id);
}

void ModelShelfModel::moveModel(int from, int to) {
  if (from < 0 || from >= entries_.size() || to < 0 || to >= entries_.size() || from == to) return;
  beginMoveRows({}, from, from, {}, to > from ? to + 1 : to);
  entries_.move(from, to);
  endMoveRows();
  emit columnsChanged();
}

void ModelShelfModel::refreshSummaries() {
  if (!entries_.isEmpty()) emit dataChanged(index(0), index(entries_.size() - 1));
}

bool ModelShelfModel::isLoading() const {
  for (const auto& e : entries_)
    if (!e.info) return true;
  return false;
}

QVector<ModelColumn> ModelShelfModel::loadedColumns() const {
  QVector<ModelColumn> out;
  for (const auto& e : entries_)
    if (e.info && e.color.isValid()) out.push_back({*e.info, e.color});
  return out;
}

QString ModelShelfModel::details(int row) const {
  if (row < 0 || row >= entries_.size()) return {};
  const Entry& e = entries_[row];
  if (!e.info) return tr("Loading %1…").arg(e.path);
  const auto& i = *e.info;
  QString text = tr("%1\n%2\nViT: %3-d, %4 blocks, %5 heads, patch %6, %7×%7 input (%8×%8 patches)\n")
                     .arg(qs(i.name), summary(e))
                     .arg(i.embed_dim)
                     .arg(i.depth)
                     .arg(i.heads)
                     .arg(i.patch_size)
                     .arg(i.image_size)
                     .arg(i.grid);
  text += i.can_reconstruct ? tr("Decoder: %1 (can reconstruct masked patches)\n").arg(qs(i.reconstruction_kind))
                            : tr("No pixel decoder: no reconstruction view\n");
  text += tr("Family: %1\nFile: %2\n").arg(qs(i.family), e.path);
  if (!i.description.empty()) text += qs(i.description) + "\n";
  text += "\n" + tr("Load report:") + "\n" + qs(i.load_report).trimmed();
  return text;
}

QStringList ModelShelfModel::savedPaths() const {
  QStringList out;
  for (const auto& e : entries_) out << e.path;
  return out;
}

QStringList ModelShelfModel::savedNames() const {
  QStringList out;
  for (const auto& e : entries_) out << e.display_name;
  return out;
}

}  // namespace vitscope::ui
