#pragma once
// Where a lesson is: which lesson, which step, and the workspace that step wants. Going back
// gives the same picture as coming forward, because a step's set-up is every earlier step's
// with its own changes on top. Pure state; the window applies currentSetup() on stepChanged.
#include <QObject>

#include <optional>

#include "ui/lessons/lesson.h"

namespace vitscope::ui {

class LessonPlayer : public QObject {
  Q_OBJECT

 public:
  explicit LessonPlayer(QObject* parent = nullptr) : QObject(parent) {}

  void start(const Lesson& lesson);  // at step 1
  void stop();
  bool next();  // false at the last step
  bool back();  // false at the first step

  bool isActive() const { return lesson_.has_value(); }
  const Lesson& lesson() const { return *lesson_; }
  int step() const { return step_; }  // 0-based
  int stepCount() const { return lesson_ ? lesson_->steps.size() : 0; }
  const LessonStep& currentStep() const { return lesson_->steps[step_]; }
  WorkspaceSetup currentSetup() const;

 signals:
  void stepChanged(int step);
  void stopped();

 private:
  std::optional<Lesson> lesson_;
  int step_ = 0;
};

}  // namespace vitscope::ui
