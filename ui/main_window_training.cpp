// The main window's fine-tuning dock: the job queue (its jobs and checkpoints in the app data
// folder), the panel, a Training menu, and what a finished job does — its model joins the shelf
// next to its base model, so the two can be compared at once.
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QMenuBar>
#include <QStandardPaths>

#include "ui/main_window.h"

namespace vitscope::ui {

void MainWindow::createTrainingDock() {
  finetune_ = new FineTuneQueue(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/finetune", this);
  finetune_panel_ = new FineTunePanel(*finetune_, shelf_);
  finetune_dock_ = new QDockWidget(tr("Fine-tuning"), this);
  finetune_dock_->setObjectName(QStringLiteral("finetune-dock"));
  finetune_dock_->setWidget(finetune_panel_);
  addDockWidget(Qt::BottomDockWidgetArea, finetune_dock_);
  finetune_dock_->hide();

  auto* menu = new QMenu(tr("&Training"), this);
  auto* toggle = finetune_dock_->toggleViewAction();
  toggle->setText(tr("&Fine-tuning Panel"));
  toggle->setShortcut(QKeySequence(tr("Ctrl+T")));
  toggle->setStatusTip(tr("Fine-tune a model or continue its pre-training in the background, with live diagnostics"));
  menu->addAction(toggle);
  const auto top = menuBar()->actions();
  menuBar()->insertMenu(top.isEmpty() ? nullptr : top.back(), menu);  // before Help

  connect(finetune_, &FineTuneQueue::modelReady, this, [this](const QString& path, const QString& base, const QString& name) {
    if (!shelf_.savedPaths().contains(base) && QFileInfo::exists(base)) shelf_.addCheckpoint(base);
    shelf_.addCheckpoint(path, name);
    messages_->showMessage(MessageBar::Level::Info, tr("The fine-tuned model %1 joined the shelf next to its base model.").arg(name));
  });
  connect(finetune_, &FineTuneQueue::jobFailed, this, [this](const QString& name, const QString& message) {
    messages_->showMessage(MessageBar::Level::Error, tr("The fine-tuning job %1 failed: %2").arg(name, message));
  });
  connect(finetune_, &FineTuneQueue::jobWarning, this, [this](const QString& name, const QString& message) {
    messages_->showMessage(MessageBar::Level::Warning, tr("Fine-tuning %1: %2").arg(name, message));
  });
  if (!finetune_->loadProblem().isEmpty())
    messages_->showMessage(MessageBar::Level::Warning, tr("The fine-tuning queue of the last session: %1").arg(finetune_->loadProblem()));
  if (finetune_->resumedAtStartup() > 0) {
    finetune_dock_->show();
    messages_->showMessage(MessageBar::Level::Info, tr("%n unfinished fine-tuning job(s) of the last session continue from their last checkpoint.",
                                                       nullptr, finetune_->resumedAtStartup()));
  }
}

}  // namespace vitscope::ui
