// MainWindow: session files (save, open, autosave on exit, restore on launch, moved files).
#include <QFileDialog>

#include <algorithm>
#include <QFileInfo>
#include <QStandardPaths>
#include <QStatusBar>

#include "ui/main_window.h"
#include "ui/session/controls_json.h"
#include "ui/session/missing_files_dialog.h"

namespace vitscope::ui {

QString MainWindow::autosavePath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave." + kSessionSuffix;
}

Session MainWindow::currentSession() const {
  Session session;
  auto& s = session.setup;
  s.models.emplace();
  const QStringList paths = shelf_.savedPaths(), names = shelf_.savedNames();
  for (int i = 0; i < paths.size(); ++i) s.models->append({paths[i], names.value(i), file_sha256(paths[i])});
  s.images.emplace();
  for (int row = 0; row < gallery_.rowCount(); ++row) s.images->append(gallery_.index(row).data(ImageGalleryModel::PathRole).toString());
  s.image = currentImagePath();
  s.controls = controls_to_json(state_);
  session.window_geometry = saveGeometry();
  session.window_state = saveState();
  return session;
}

bool MainWindow::saveSession(const QString& path, QString* error) { return write_session(currentSession(), path, error); }

bool MainWindow::openSession(const QString& path) {
  QString error;
  const auto session = read_session(path, &error);
  if (!session) {
    messages_->showMessage(MessageBar::Level::Error, tr("Could not open the session %1").arg(error));
    return false;
  }
  if (missing_files(*session).isEmpty()) {
    applySession(*session);
    return true;
  }
  // Window-modal and not blocking: the window keeps drawing; the session opens when it closes.
  auto* dialog = new MissingFilesDialog(*session, path, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    const Session found = dialog->session();
    for (const auto& file : missing_files(found))
      messages_->showMessage(MessageBar::Level::Warning, tr("Left out of the session (not found): %1").arg(file.path));
    applySession(found);
  });
  dialog->open();
  return true;
}

void MainWindow::applySession(const Session& session) {
  Session found = session;
  auto& s = found.setup;  // what is still missing is left out
  const auto missing = missing_files(session);
  auto is_missing = [&](const QString& path) {
    return std::any_of(missing.begin(), missing.end(), [&](const MissingFile& m) { return m.path == path; });
  };
  s.models->removeIf([&](const ModelRef& m) { return is_missing(m.path); });
  s.images->removeIf(is_missing);
  if (is_missing(s.image)) s.image.clear();
  restoreGeometry(found.window_geometry);
  restoreState(found.window_state);
  if (!lesson_player_.isActive()) lesson_dock_->hide();  // the saved layout may have shown it
  director_.apply(s);
}

void MainWindow::openSessionDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"), settings_.value("dialogs/sessions").toString(),
                                                    tr("ViTScope sessions (*.%1);;All files (*)").arg(kSessionSuffix));
  if (path.isEmpty()) return;
  settings_.setValue("dialogs/sessions", QFileInfo(path).absolutePath());
  openSession(path);
}

void MainWindow::saveSessionDialog() {
  QString path = QFileDialog::getSaveFileName(this, tr("Save Session"), settings_.value("dialogs/sessions").toString(),
                                              tr("ViTScope sessions (*.%1)").arg(kSessionSuffix));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix() != QLatin1String(kSessionSuffix)) path += QStringLiteral(".") + kSessionSuffix;
  settings_.setValue("dialogs/sessions", QFileInfo(path).absolutePath());
  QString error;
  if (saveSession(path, &error)) statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  else messages_->showMessage(MessageBar::Level::Error, tr("Could not save the session: %1").arg(error));
}

}  // namespace vitscope::ui
