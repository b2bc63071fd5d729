#include "ui/json_file.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonParseError>

namespace vitscope::ui {

QString file_problem(const QString& path, const QString& problem) {
  return QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), problem);
}

std::optional<QJsonObject> read_json_object(const QString& path, QString* error) {
  auto fail = [&](const QString& problem) -> std::optional<QJsonObject> {
    if (error) *error = file_problem(path, problem);
    return std::nullopt;
  };
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return fail(f.errorString());
  QJsonParseError parse;
  const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &parse);
  if (parse.error != QJsonParseError::NoError)
    return fail(QStringLiteral("not valid JSON (%1 at byte %2)").arg(parse.errorString()).arg(parse.offset));
  if (!doc.isObject()) return fail(QStringLiteral("not a JSON object"));
  return doc.object();
}

}  // namespace vitscope::ui
