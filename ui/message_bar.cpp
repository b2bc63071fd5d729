#include "ui/message_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

namespace vitscope::ui {

namespace {
constexpr int kMaxMessages = 4;
}

MessageBar::MessageBar(QWidget* parent) : QWidget(parent) {
  rows_ = new QVBoxLayout(this);
  rows_->setContentsMargins(4, 2, 4, 2);
  rows_->setSpacing(2);
  hide();
}

void MessageBar::showMessage(Level level, const QString& text) {
  while (rows_->count() >= kMaxMessages) delete rows_->takeAt(0)->widget();
  auto* row = new QFrame;
  row->setObjectName(QStringLiteral("message"));
  const char* colours = level == Level::Error     ? "background: #fdecea; border: 1px solid #f5c2c0; color: #611a15;"
                        : level == Level::Warning ? "background: #fff4e5; border: 1px solid #ffd8a8; color: #663c00;"
                                                  : "background: #e8f4fd; border: 1px solid #b6dcf8; color: #0d3c61;";
  row->setStyleSheet(QStringLiteral("QFrame#message { %1 border-radius: 3px; } QLabel { border: none; background: transparent; }").arg(colours));
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(8, 4, 4, 4);
  auto* icon = new QLabel;
  const auto pixmap = level == Level::Error     ? QStyle::SP_MessageBoxCritical
                      : level == Level::Warning ? QStyle::SP_MessageBoxWarning
                                                : QStyle::SP_MessageBoxInformation;
  icon->setPixmap(style()->standardIcon(pixmap).pixmap(16, 16));
  auto* label = new QLabel(text);
  label->setObjectName(QStringLiteral("text"));
  label->setWordWrap(true);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* close = new QToolButton;
  close->setText(QStringLiteral("✕"));
  close->setAutoRaise(true);
  close->setToolTip(tr("Dismiss"));
  connect(close, &QToolButton::clicked, this, [this, row] {
    row->deleteLater();
    row->hide();
    setVisible(messages().size() > 0);
  });
  layout->addWidget(icon);
  layout->addWidget(label, 1);
  layout->addWidget(close);
  rows_->addWidget(row);
  show();
}

QStringList MessageBar::messages() const {
  QStringList out;
  for (int i = 0; i < rows_->count(); ++i)
    if (auto* w = rows_->itemAt(i)->widget(); w && !w->isHidden())
      out << w->findChild<QLabel*>(QStringLiteral("text"))->text();
  return out;
}


}  // namespace vitscope::ui
