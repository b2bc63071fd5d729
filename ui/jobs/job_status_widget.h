#pragma once
// Status-bar progress for long work: what runs, a busy bar and a Cancel button. Appears only
// when work takes longer than a moment, so quick redraws do not make it flicker.
#include <QLabel>
#include <QProgressBar>
#include <QTimer>
#include <QToolButton>
#include <QWidget>

#include "ui/jobs/job_runner.h"

namespace vitscope::ui {

class JobStatusWidget : public QWidget {
  Q_OBJECT

 public:
  explicit JobStatusWidget(JobRunner& jobs, QWidget* parent = nullptr);

 private:
  void refreshLabel();

  JobRunner& jobs_;
  QLabel* label_;
  QProgressBar* bar_;
  QToolButton* cancel_;
  QTimer delay_;
};

}  // namespace vitscope::ui
