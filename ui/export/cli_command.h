#pragma once
// The `vitscope-cli` line that reproduces a figure from the command line.
#include <QString>
#include <QStringList>

namespace vitscope::ui {

// vitscope-cli analyze --model M [--model M2 …] --image F --metrics a,b,… --out DIR
QString cli_command(const QStringList& model_paths, const QString& image_path, const QStringList& metrics,
                    const QString& out_dir);
// vitscope-cli probe --model M [--model M2 …] --image F [--cue-conflict DIR [--train-head DATA
// --head-per-class N]] --out DIR (empty stimuli_dir / head_data: those options are left out).
QString probe_cli_command(const QStringList& model_paths, const QString& image_path, const QString& stimuli_dir,
                          const QString& head_data, int head_per_class, const QString& out_dir);
QString shell_quote(const QString& s);  // POSIX shell single quotes where needed

}  // namespace vitscope::ui
