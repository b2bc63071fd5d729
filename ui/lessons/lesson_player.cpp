#include "ui/lessons/lesson_player.h"

namespace vitscope::ui {

void LessonPlayer::start(const Lesson& lesson) {
  lesson_ = lesson;
  step_ = 0;
  emit stepChanged(step_);
}

void LessonPlayer::stop() {
  if (!lesson_) return;
  lesson_.reset();
  step_ = 0;
  emit stopped();
}

bool LessonPlayer::next() {
  if (!lesson_ || step_ + 1 >= lesson_->steps.size()) return false;
  emit stepChanged(++step_);
  return true;
}

bool LessonPlayer::back() {
  if (!lesson_ || step_ == 0) return false;
  emit stepChanged(--step_);
  return true;
}

WorkspaceSetup LessonPlayer::currentSetup() const {
  WorkspaceSetup setup;
  if (!lesson_) return setup;
  for (int i = 0; i <= step_; ++i) {
    const auto& s = lesson_->steps[i].setup;
    if (s.models) setup.models = s.models;
    if (!s.image.isEmpty()) setup.image = s.image;
    for (auto it = s.controls.begin(); it != s.controls.end(); ++it) setup.controls.insert(it.key(), it.value());
  }
  return setup;
}

}  // namespace vitscope::ui
