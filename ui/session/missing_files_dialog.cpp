#include "ui/session/missing_files_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QVBoxLayout>

namespace vitscope::ui {

MissingFilesDialog::MissingFilesDialog(Session session, const QString& session_path, QWidget* parent)
    : QDialog(parent), session_(std::move(session)), missing_(missing_files(session_)) {
  setWindowTitle(tr("Files of the session have moved"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(tr("These files of <b>%1</b> are not where the session says. Point to each with "
                              "<i>Locate…</i> (the other files of a moved folder are then found too), or open the "
                              "session without them.")
                               .arg(QFileInfo(session_path).fileName()));
  intro->setWordWrap(true);
  layout->addWidget(intro);
  rows_ = new QGridLayout;
  layout->addLayout(rows_);
  problem_ = new QLabel;
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b00020"));
  layout->addWidget(problem_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
  rebuildRows();
}

QString MissingFilesDialog::locate(int row, const QString& new_path) {
  if (row < 0 || row >= missing_.size()) return tr("no such row");
  const QString problem = relocate(session_, missing_[row], new_path);
  problem_->setText(problem);
  missing_ = missing_files(session_);
  rebuildRows();
  return problem;
}

void MissingFilesDialog::rebuildRows() {
  while (auto* item = rows_->takeAt(0)) {
    item->widget()->hide();
    item->widget()->deleteLater();  // the clicked button may be one of them
    delete item;
  }
  for (int row = 0; row < missing_.size(); ++row) {
    const auto& file = missing_[row];
    const bool model = file.kind == MissingFile::Kind::Model;
    rows_->addWidget(new QLabel(model ? tr("Model") : tr("Image")), row, 0);
    auto* path = new QLabel(QDir::toNativeSeparators(file.path));
    path->setTextInteractionFlags(Qt::TextSelectableByMouse);
    rows_->addWidget(path, row, 1);
    auto* button = new QPushButton(tr("Locate…"));
    connect(button, &QPushButton::clicked, this, [this, row, model, name = QFileInfo(file.path).fileName()] {
      const QString chosen = model && !name.contains('.')
                                 ? QFileDialog::getExistingDirectory(this, tr("Locate %1").arg(name))
                                 : QFileDialog::getOpenFileName(this, tr("Locate %1").arg(name), {}, name + ";;" + tr("All files (*)"));
      if (!chosen.isEmpty()) locate(row, chosen);
    });
    rows_->addWidget(button, row, 2);
  }
  if (missing_.isEmpty()) rows_->addWidget(new QLabel(tr("All files found.")), 0, 0, 1, 3);
}

}  // namespace vitscope::ui
