#pragma once
// Messages inside the window (not modal dialogs): a dropped file that is not an image, a
// checkpoint that cannot be loaded, no CUDA, a model with another input size. Each message has
// a close button; the newest few are kept.
#include <QFrame>
#include <QStringList>
#include <QVBoxLayout>

namespace vitscope::ui {

class MessageBar : public QWidget {
  Q_OBJECT

 public:
  enum class Level { Info, Warning, Error };

  explicit MessageBar(QWidget* parent = nullptr);
  void showMessage(Level level, const QString& text);
  QStringList messages() const;  // shown texts, oldest first

 private:
  QVBoxLayout* rows_;
};

}  // namespace vitscope::ui
