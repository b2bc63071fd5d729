#include "ui/export/cli_command.h"

#include <QRegularExpression>

namespace vitscope::ui {

QString shell_quote(const QString& s) {
  static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_@%+=:,./-]+$"));
  if (safe.match(s).hasMatch()) return s;
  return '\'' + QString(s).replace('\'', QStringLiteral("'\\''")) + '\'';
}

QString cli_command(const QStringList& model_paths, const QString& image_path, const QStringList& metrics,
                    const QString& out_dir) {
  QStringList parts{QStringLiteral("vitscope-cli"), QStringLiteral("analyze")};
  for (const auto& m : model_paths) parts << QStringLiteral("--model") << shell_quote(m);
  parts << QStringLiteral("--image") << shell_quote(image_path);
  parts << QStringLiteral("--metrics") << metrics.join(',');
  parts << QStringLiteral("--out") << shell_quote(out_dir);
  return parts.join(' ');
}

}  // namespace vitscope::ui
