#pragma once
// Session files (*.vitscope-session, JSON; docs/TEACHING.md#sessions): the models by path and
// SHA-256, the gallery's images, the shown image, every shared control and the window layout.
// Reading checks the format and reports what is wrong with the file's name; files that moved
// are found by missing_files() and pointed to again with relocate().
#include <QByteArray>
#include <QString>
#include <QVector>

#include <optional>

#include "ui/session/workspace_setup.h"

namespace vitscope::ui {

inline constexpr char kSessionSuffix[] = "vitscope-session";

struct Session {
  WorkspaceSetup setup;  // models, images and controls are all set
  QByteArray window_geometry, window_state;  // QMainWindow::saveGeometry / saveState
};

// Hex SHA-256 of a file; "" for folders (Hugging Face models: not checked) and unreadable files.
// Remembered per file while its size and modification time stay the same. UI thread only.
QString file_sha256(const QString& path);

bool write_session(const Session& session, const QString& path, QString* error);
// nullopt with `error` ("FILE: problem") when the file is unreadable, not JSON or not a session.
std::optional<Session> read_session(const QString& path, QString* error);

struct MissingFile {
  enum class Kind { Model, Image } kind;
  QString path;  // as recorded in the session
};
// The session's models and images that are not where it says, shown image included.
QVector<MissingFile> missing_files(const Session& session);
// Points a missing file of the session to `new_path` (every mention of it). A model must have
// the recorded SHA-256. Then looks in the new folder for the other missing files (a moved folder)
// and relocates those too. "" when done, else why `new_path` was refused.
QString relocate(Session& session, const MissingFile& file, const QString& new_path);

}  // namespace vitscope::ui
