#pragma once
// The `vitscope-cli analyze` line that reproduces a figure from the command line.
#include <QString>
#include <QStringList>

namespace vitscope::ui {

// vitscope-cli analyze --model M [--model M2 …] --image F --metrics a,b,… --out DIR
QString cli_command(const QStringList& model_paths, const QString& image_path, const QStringList& metrics,
                    const QString& out_dir);
QString shell_quote(const QString& s);  // POSIX shell single quotes where needed

}  // namespace vitscope::ui
