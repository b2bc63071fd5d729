#include "ui/lessons/lesson_view.h"

#include <QHBoxLayout>
#include <QVBoxLayout>

namespace vitscope::ui {

LessonView::LessonView(LessonPlayer& player, QWidget* parent) : QWidget(parent), player_(player) {
  title_ = new QLabel;
  title_->setWordWrap(true);
  progress_ = new QLabel;
  text_ = new QLabel;
  text_->setWordWrap(true);
  text_->setTextFormat(Qt::RichText);
  text_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  text_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Expanding);
  back_ = new QPushButton(tr("◀ Back"));
  next_ = new QPushButton(tr("Next ▶"));
  end_ = new QPushButton(tr("End"));
  back_->setToolTip(tr("Previous step (Page Up)"));
  next_->setToolTip(tr("Next step (Page Down)"));
  next_->setDefault(true);
  connect(back_, &QPushButton::clicked, &player_, &LessonPlayer::back);
  connect(next_, &QPushButton::clicked, &player_, [this] {
    if (!player_.next()) player_.stop();  // "Finish" on the last step
  });
  connect(end_, &QPushButton::clicked, &player_, &LessonPlayer::stop);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(back_);
  buttons->addWidget(next_);
  buttons->addStretch();
  buttons->addWidget(end_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(progress_);
  layout->addWidget(text_, 1);
  layout->addLayout(buttons);
  connect(&player_, &LessonPlayer::stepChanged, this, &LessonView::showStep);
}

void LessonView::showStep() {
  if (!player_.isActive()) return;
  const auto& step = player_.currentStep();
  const bool last = player_.step() + 1 == player_.stepCount();
  title_->setText(QStringLiteral("<b><big>%1</big></b>").arg(player_.lesson().title.toHtmlEscaped()));
  progress_->setText(step.title.isEmpty() ? tr("Step %1 of %2").arg(player_.step() + 1).arg(player_.stepCount())
                                          : tr("Step %1 of %2 — %3").arg(player_.step() + 1).arg(player_.stepCount()).arg(step.title));
  text_->setText(step.text);
  back_->setEnabled(player_.step() > 0);
  next_->setText(last ? tr("Finish") : tr("Next ▶"));
}

}  // namespace vitscope::ui
