// MainWindow: the Lessons menu, the lesson dock and presentation mode.
#include <QApplication>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QMenuBar>
#include <QUrl>

#include <qcustomplot.h>

#include "ui/lessons/lesson_view.h"
#include "ui/main_window.h"
#include "ui/plots/plot_style.h"

namespace vitscope::ui {

namespace {

constexpr double kPresentationFontScale = 1.6;
constexpr double kPresentationLineScale = 2.0;
constexpr double kPresentationViewScale = 1.5;

}  // namespace

void MainWindow::createLessonsMenu() {
  lessons_menu_ = menuBar()->addMenu(tr("&Lessons"));
  lesson_dock_ = new QDockWidget(tr("Lesson"), this);
  lesson_dock_->setObjectName(QStringLiteral("lesson-dock"));
  lesson_dock_->setWidget(new LessonView(lesson_player_));
  addDockWidget(Qt::RightDockWidgetArea, lesson_dock_);
  lesson_dock_->hide();
  connect(&lesson_player_, &LessonPlayer::stepChanged, this, [this] {
    director_.apply(lesson_player_.currentSetup());
    updateStepShortcuts();
  });
  connect(&lesson_player_, &LessonPlayer::stopped, this, [this] {
    lesson_dock_->hide();
    updateStepShortcuts();
  });
  updateStepShortcuts();
}

void MainWindow::rebuildLessonsMenu() {
  lessons_menu_->clear();
  for (int i = 0; i < lessons_.size(); ++i) {
    auto* a = lessons_menu_->addAction(tr("%1. %2").arg(i + 1).arg(lessons_[i].title));
    a->setStatusTip(lessons_[i].summary);
    a->setToolTip(lessons_[i].summary);
    connect(a, &QAction::triggered, this, [this, i] { startLesson(lessons_[i]); });
  }
  if (lessons_.isEmpty()) lessons_menu_->addAction(tr("(no lessons found)"))->setEnabled(false);
  lessons_menu_->addSeparator();
  lessons_menu_->addActions({next_step_, previous_step_});
  lessons_menu_->addSeparator();
  connect(lessons_menu_->addAction(tr("Open Lesson &File…")), &QAction::triggered, this, &MainWindow::openLessonDialog);
  connect(lessons_menu_->addAction(tr("Open &My Lessons Folder")), &QAction::triggered, this, [] {
    const QString folder = lesson_folders().last();
    QDir().mkpath(folder);
    QDesktopServices::openUrl(QUrl::fromLocalFile(folder));
  });
  connect(lessons_menu_->addAction(tr("&Reload Lessons")), &QAction::triggered, this, &MainWindow::reloadLessons);
}

void MainWindow::reloadLessons() {
  QStringList errors;
  lessons_ = read_lessons(lesson_folders(), &errors);
  for (const auto& e : errors) messages_->showMessage(MessageBar::Level::Warning, tr("Lesson skipped: %1").arg(e));
  rebuildLessonsMenu();
}

void MainWindow::startLesson(const Lesson& lesson) {
  lesson_dock_->show();
  lesson_dock_->raise();
  lesson_player_.start(lesson);
}

void MainWindow::openLessonDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open Lesson"), settings_.value("dialogs/lessons").toString(),
                                                    tr("Lessons (*.json)"));
  if (path.isEmpty()) return;
  settings_.setValue("dialogs/lessons", QFileInfo(path).absolutePath());
  QString error;
  if (const auto lesson = read_lesson(path, &error)) startLesson(*lesson);
  else messages_->showMessage(MessageBar::Level::Error, tr("Could not open the lesson %1").arg(error));
}

void MainWindow::updateStepShortcuts() {
  // Presentation clickers send Page Up / Down; the arrow keys step only in presentation mode,
  // elsewhere they move the query patch.
  QList<QKeySequence> next{QKeySequence(Qt::Key_PageDown)}, previous{QKeySequence(Qt::Key_PageUp)};
  if (presenting_) {
    next << QKeySequence(Qt::Key_Right);
    previous << QKeySequence(Qt::Key_Left);
  }
  next_step_->setShortcuts(next);
  previous_step_->setShortcuts(previous);
  next_step_->setEnabled(lesson_player_.isActive() && lesson_player_.step() + 1 < lesson_player_.stepCount());
  previous_step_->setEnabled(lesson_player_.isActive() && lesson_player_.step() > 0);
}

void MainWindow::setPresentationMode(bool on) {
  presentation_->setChecked(on);
  if (on == presenting_) return;
  presenting_ = on;
  if (on) {
    normal_font_ = QApplication::font();
    QFont large = normal_font_;
    large.setPointSizeF(normal_font_.pointSizeF() * kPresentationFontScale);
    QApplication::setFont(large);
    set_plot_style({kPresentationLineScale, kPresentationViewScale, /*high_contrast=*/true});
    was_full_screen_ = isFullScreen();
    showFullScreen();
  } else {
    QApplication::setFont(normal_font_);
    set_plot_style({});
    if (!was_full_screen_) showNormal();
  }
  comparison_.setColumns(comparison_.columns());  // columns rebuilt at the new size; results are kept
  for (auto* plot : findChildren<QCustomPlot*>()) apply_plot_style(plot);
  for (auto* panel : workspace_->panels()) panel->requestRefresh();
  updateStepShortcuts();
}

}  // namespace vitscope::ui
