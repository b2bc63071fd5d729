#include "ui/resource_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace vitscope::ui {

QString resource_dir(const QString& name) {
  QStringList candidates;
  if (name == QLatin1String("models")) {
    const QString override_dir = qEnvironmentVariable("VITSCOPE_MODELS_DIR");
    if (!override_dir.isEmpty()) return override_dir;
  }
  candidates << QCoreApplication::applicationDirPath() + "/../share/vitscope/" + name
             << QStringLiteral(VITSCOPE_SOURCE_RESOURCES "/") + name
             << QStringLiteral(VITSCOPE_INSTALLED_RESOURCES "/") + name;
  for (const auto& c : candidates)
    if (QFileInfo(c).isDir()) return QDir(c).canonicalPath();
  return {};
}

QString shared_data_path(const QString& relative) {
  QStringList roots;
  const QString env = qEnvironmentVariable("VITSCOPE_SHARED");
  if (!env.isEmpty()) roots << env;
  roots << QStringLiteral(VITSCOPE_SOURCE_RESOURCES "/../../shared");
  for (const auto& root : roots) {
    const QFileInfo candidate(QDir(root).filePath(relative));
    if (candidate.exists()) return candidate.canonicalFilePath();
  }
  return {};
}

}  // namespace vitscope::ui
