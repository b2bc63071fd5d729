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

QString probe_cli_command(const QStringList& model_paths, const QString& image_path, const QString& stimuli_dir,
                          const QString& head_data, int head_per_class, const QString& out_dir) {
  QStringList parts{QStringLiteral("vitscope-cli"), QStringLiteral("probe")};
  for (const auto& m : model_paths) parts << QStringLiteral("--model") << shell_quote(m);
  parts << QStringLiteral("--image") << shell_quote(image_path);
  if (!stimuli_dir.isEmpty()) {
    parts << QStringLiteral("--cue-conflict") << shell_quote(stimuli_dir);
    if (!head_data.isEmpty())
      parts << QStringLiteral("--train-head") << shell_quote(head_data) << QStringLiteral("--head-per-class")
            << QString::number(head_per_class);
  }
  parts << QStringLiteral("--out") << shell_quote(out_dir);
  return parts.join(' ');
}

}  // namespace vitscope::ui
