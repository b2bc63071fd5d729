#pragma once
// Draws a shelf row: the model's plot colour, its name, and a grey line with objective, method,
// input size, parameters and device.
#include <QStyledItemDelegate>

namespace vitscope::ui {

class ModelItemDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace vitscope::ui
