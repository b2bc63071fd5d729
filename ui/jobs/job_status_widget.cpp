#include "ui/jobs/job_status_widget.h"

#include <QHBoxLayout>

namespace vitscope::ui {

namespace {
constexpr int kShowAfterMs = 300;
}

JobStatusWidget::JobStatusWidget(JobRunner& jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  label_ = new QLabel;
  bar_ = new QProgressBar;
  bar_->setRange(0, 0);  // busy: the engine reports no fractions
  bar_->setMaximumWidth(120);
  bar_->setMaximumHeight(14);
  cancel_ = new QToolButton;
  cancel_->setText(tr("Cancel"));
  cancel_->setToolTip(tr("Stop the running analyses and loads (Esc)"));
  cancel_->setShortcut(Qt::Key_Escape);
  connect(cancel_, &QToolButton::clicked, &jobs_, &JobRunner::cancelAll);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(label_);
  layout->addWidget(bar_);
  layout->addWidget(cancel_);
  hide();
  delay_.setSingleShot(true);
  delay_.setInterval(kShowAfterMs);
  connect(&delay_, &QTimer::timeout, this, &JobStatusWidget::refreshLabel);
  connect(&jobs_, &JobRunner::activityChanged, this, [this] {
    if (jobs_.activeCount() == 0) hide();
    else if (isVisible()) refreshLabel();
    else if (!delay_.isActive()) delay_.start();
  });
}

void JobStatusWidget::refreshLabel() {
  const QStringList labels = jobs_.activeLabels();
  if (labels.isEmpty()) return hide();
  label_->setText(labels.size() == 1 ? labels.first() + QStringLiteral("…")
                                     : tr("%1… (+%2 more)").arg(labels.first()).arg(labels.size() - 1));
  show();
}

}  // namespace vitscope::ui
