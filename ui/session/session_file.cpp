#include "ui/session/session_file.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "core/io/file_hash.h"
#include "ui/json_file.h"
#include "ui/session/controls_json.h"

namespace vitscope::ui {

namespace {

constexpr int kVersion = 1;

// Replaces every mention of `from` (models, images, shown image) by `to`.
void replace_path(Session& session, MissingFile::Kind kind, const QString& from, const QString& to) {
  auto& s = session.setup;
  if (kind == MissingFile::Kind::Model) {
    for (auto& m : *s.models)
      if (m.path == from) m.path = to;
    return;
  }
  for (auto& i : *s.images)
    if (i == from) i = to;
  if (s.image == from) s.image = to;
}

QString check_and_replace(Session& session, const MissingFile& file, const QString& new_path) {
  if (!QFileInfo::exists(new_path)) return QStringLiteral("%1 does not exist").arg(new_path);
  if (file.kind == MissingFile::Kind::Model) {
    for (const auto& m : *session.setup.models)
      if (m.path == file.path && !m.sha256.isEmpty() && file_sha256(new_path) != m.sha256)
        return QStringLiteral("%1 is not the same model: its SHA-256 differs from the one the session recorded")
            .arg(QFileInfo(new_path).fileName());
  }
  replace_path(session, file.kind, file.path, QFileInfo(new_path).absoluteFilePath());
  return {};
}

}  // namespace

QString file_sha256(const QString& path) {
  const QFileInfo info(path);
  if (info.isDir()) return {};
  // Every save (and the autosave on exit) fingerprints every model; a checkpoint of a few hundred
  // MB takes a second or more, so a file is hashed again only when its size or time changed.
  struct Known {
    qint64 size;
    QDateTime modified;
    QString sha256;
  };
  static QHash<QString, Known> known;  // UI thread only
  const QString key = info.absoluteFilePath();
  const auto it = known.constFind(key);
  if (it != known.cend() && it->size == info.size() && it->modified == info.lastModified()) return it->sha256;
  try {
    const auto digest = QString::fromStdString(io::sha256_file(path.toStdString()));
    known.insert(key, {info.size(), info.lastModified(), digest});
    return digest;
  } catch (const std::exception&) {
    return {};  // unreadable: no fingerprint (the caller reports the file as missing)
  }
}

bool write_session(const Session& session, const QString& path, QString* error) {
  const auto& s = session.setup;
  QJsonArray models, images;
  for (const auto& m : s.models.value_or(QVector<ModelRef>{}))
    models.append(QJsonObject{{"path", m.path}, {"name", m.name}, {"sha256", m.sha256}});
  for (const auto& i : s.images.value_or(QStringList{})) images.append(i);
  const QJsonObject root{{"format", kSessionSuffix},
                         {"version", kVersion},
                         {"models", models},
                         {"images", images},
                         {"image", s.image},
                         {"controls", s.controls},
                         {"window", QJsonObject{{"geometry", QString::fromLatin1(session.window_geometry.toBase64())},
                                                {"state", QString::fromLatin1(session.window_state.toBase64())}}}};
  QDir().mkpath(QFileInfo(path).absolutePath());
  QSaveFile f(path);  // never a half-written session, even when the disk fills up
  if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(root).toJson()) < 0 || !f.commit()) {
    if (error) *error = file_problem(path, f.errorString());
    return false;
  }
  return true;
}

std::optional<Session> read_session(const QString& path, QString* error) {
  auto fail = [&](const QString& problem) -> std::optional<Session> {
    if (error) *error = file_problem(path, problem);
    return std::nullopt;
  };
  const auto document = read_json_object(path, error);
  if (!document) return std::nullopt;
  const QJsonObject& root = *document;
  if (root.value("format").toString() != QLatin1String(kSessionSuffix)) return fail(QStringLiteral("not a ViTScope session file"));
  if (root.value("version").toInt() > kVersion)
    return fail(QStringLiteral("made by a newer ViTScope (session version %1)").arg(root.value("version").toInt()));
  if (!root.value("models").isArray() || !root.value("images").isArray()) return fail(QStringLiteral("\"models\" and \"images\" must be lists"));
  Session session;
  auto& s = session.setup;
  s.models.emplace();
  for (const auto& v : root.value("models").toArray()) {
    const QJsonObject m = v.toObject();
    if (m.value("path").toString().isEmpty()) return fail(QStringLiteral("a model without a \"path\""));
    s.models->append({m.value("path").toString(), m.value("name").toString(), m.value("sha256").toString()});
  }
  s.images.emplace();
  for (const auto& v : root.value("images").toArray()) s.images->append(v.toString());
  s.image = root.value("image").toString();
  s.controls = root.value("controls").toObject();
  if (const QString problem = controls_json_error(s.controls); !problem.isEmpty()) return fail(QStringLiteral("controls: ") + problem);
  const QJsonObject window = root.value("window").toObject();
  session.window_geometry = QByteArray::fromBase64(window.value("geometry").toString().toLatin1());
  session.window_state = QByteArray::fromBase64(window.value("state").toString().toLatin1());
  return session;
}

QVector<MissingFile> missing_files(const Session& session) {
  QVector<MissingFile> out;
  const auto& s = session.setup;
  for (const auto& m : s.models.value_or(QVector<ModelRef>{}))
    if (!QFileInfo::exists(m.path)) out.append({MissingFile::Kind::Model, m.path});
  QStringList images = s.images.value_or(QStringList{});
  if (!s.image.isEmpty() && !images.contains(s.image)) images << s.image;
  for (const auto& i : images)
    if (!QFileInfo::exists(i)) out.append({MissingFile::Kind::Image, i});
  return out;
}

QString relocate(Session& session, const MissingFile& file, const QString& new_path) {
  if (const QString problem = check_and_replace(session, file, new_path); !problem.isEmpty()) return problem;
  const QDir folder = QFileInfo(new_path).absoluteDir();
  for (const auto& other : missing_files(session)) {
    const QString candidate = folder.filePath(QFileInfo(other.path).fileName());
    if (QFileInfo::exists(candidate)) check_and_replace(session, other, candidate);  // a wrong hash stays missing
  }
  return {};
}

}  // namespace vitscope::ui
