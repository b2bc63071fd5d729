#pragma once
// Where the bundled models and the sample images are, for a build tree and an installed app.
#include <QString>

namespace vitscope::ui {

// The first existing folder `name` ("models", "samples") among: $VITSCOPE_MODELS_DIR (for
// "models", used by tests), <exe>/../share/vitscope/<name> (relocated install),
// <source>/resources/<name> (build tree), <install prefix>/share/vitscope/<name>. "" if none.
QString resource_dir(const QString& name);
// A path of the shared reference data (`relative` inside ../shared): under $VITSCOPE_SHARED, else
// beside the source tree. "" when it does not exist.
QString shared_data_path(const QString& relative);

}  // namespace vitscope::ui
