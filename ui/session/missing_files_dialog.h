#pragma once
// Lists the files of a session that are not where it says, with a "Locate…" button per file.
// Pointing to one file also finds the others of a moved folder; a model must match the recorded
// SHA-256. "Open" goes on with what is found (the rest is left out); "Cancel" opens nothing.
#include <QDialog>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>

#include "ui/session/session_file.h"

namespace vitscope::ui {

class MissingFilesDialog : public QDialog {
  Q_OBJECT

 public:
  MissingFilesDialog(Session session, const QString& session_path, QWidget* parent = nullptr);

  const Session& session() const { return session_; }
  // The files still missing, in the order of the rows.
  const QVector<MissingFile>& missing() const { return missing_; }
  // What the row's "Locate…" button does after its file dialog: "" or why the file was refused.
  QString locate(int row, const QString& new_path);

 private:
  void rebuildRows();

  Session session_;
  QVector<MissingFile> missing_;
  QGridLayout* rows_;
  QLabel* problem_;
};

}  // namespace vitscope::ui
