#pragma once
// The lesson's text beside the workspace: lesson title, "Step 2 of 5", the step's text and
// Back / Next / End. A thin view of a LessonPlayer.
#include <QLabel>
#include <QPushButton>
#include <QWidget>

#include "ui/lessons/lesson_player.h"

namespace vitscope::ui {

class LessonView : public QWidget {
  Q_OBJECT

 public:
  explicit LessonView(LessonPlayer& player, QWidget* parent = nullptr);

 private:
  void showStep();

  LessonPlayer& player_;
  QLabel *title_, *progress_, *text_;
  QPushButton *back_, *next_, *end_;
};

}  // namespace vitscope::ui
