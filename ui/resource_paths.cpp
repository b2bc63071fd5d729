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

}  // namespace vitscope::ui
