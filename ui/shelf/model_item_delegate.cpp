#include "ui/shelf/model_item_delegate.h"

#include <QApplication>
#include <QPainter>

#include "ui/shelf/model_shelf_model.h"

namespace vitscope::ui {

namespace {
constexpr int kPad = 6, kSwatch = 6;
}

void ModelItemDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QStyleOptionViewItem opt = option;
  initStyleOption(&opt, index);
  opt.text.clear();
  const QWidget* widget = option.widget;
  QStyle* style = widget ? widget->style() : QApplication::style();
  style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);  // background, selection, focus

  const QRect r = option.rect.adjusted(kPad, kPad / 2, -kPad, -kPad / 2);
  painter->save();
  painter->fillRect(QRect(r.left(), r.top() + 2, kSwatch, r.height() - 4),
                    index.data(ModelShelfModel::ColorRole).value<QColor>());
  const bool selected = option.state & QStyle::State_Selected;
  const QPalette& pal = option.palette;
  QFont name_font = option.font;
  name_font.setBold(true);
  const QRect text = r.adjusted(kSwatch + kPad, 0, 0, 0);
  const QFontMetrics name_metrics(name_font);
  painter->setFont(name_font);
  painter->setPen(pal.color(selected ? QPalette::HighlightedText : QPalette::Text));
  painter->drawText(QRect(text.left(), text.top(), text.width(), name_metrics.height()), Qt::AlignLeft | Qt::AlignVCenter,
                    name_metrics.elidedText(index.data(Qt::DisplayRole).toString(), Qt::ElideRight, text.width()));
  QFont detail_font = option.font;
  detail_font.setItalic(index.data(ModelShelfModel::LoadingRole).toBool());
  const QFontMetrics detail_metrics(detail_font);
  painter->setFont(detail_font);
  painter->setPen(selected ? pal.color(QPalette::HighlightedText) : pal.color(QPalette::PlaceholderText));
  const QString detail = index.data(ModelShelfModel::SummaryRole).toString();
  const QRect detail_rect(text.left(), text.top() + name_metrics.height() + 1, text.width(), detail_metrics.height() * 2);
  painter->drawText(detail_rect, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, detail);
  painter->restore();
}

QSize ModelItemDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
  const QFontMetrics m(option.font);
  return {200, m.height() * 3 + kPad + 2};
}

}  // namespace vitscope::ui
