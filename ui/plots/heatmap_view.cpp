#include "ui/plots/heatmap_view.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPaintEngine>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

#include "ui/plots/plot_style.h"

namespace vitscope::ui {

namespace {

// SVG and PDF embed a picture as it is, and their viewers smooth it when scaling it up: hand
// them the picture already scaled up with nearest-neighbour, so patches stay squares.
QImage for_output(const QImage& image, const QPainter& p, const QRectF& target) {
  const auto* engine = p.paintEngine();
  if (!engine || (engine->type() != QPaintEngine::SVG && engine->type() != QPaintEngine::Pdf)) return image;
  const int factor = std::max(1, static_cast<int>(std::ceil(2 * target.width() / image.width())));
  return image.scaled(image.size() * factor, Qt::IgnoreAspectRatio, Qt::FastTransformation);
}

}  // namespace

HeatmapView::HeatmapView(int side, QWidget* parent)
    : QWidget(parent), side_(static_cast<int>(std::lround(side * plot_style().view_scale))) {
  setFixedSize(side_, side_);
  setAttribute(Qt::WA_OpaquePaintEvent, false);
}

void HeatmapView::setImage(const QImage& image) {
  image_ = image;
  update();
}

void HeatmapView::setGrid(const runtime::FloatGrid& grid, Colormap map, double opacity) {
  grid_ = grid;
  grid_image_ = grid_to_image(grid, map);
  opacity_ = opacity;
  update();
}

void HeatmapView::clearGrid() {
  grid_ = {};
  grid_image_ = {};
  update();
}

void HeatmapView::setOutlinedCell(std::optional<GridCell> cell, int grid) {
  outlined_ = cell;
  outline_grid_ = grid;
  update();
}

void HeatmapView::setGridLines(int grid) {
  grid_lines_ = grid;
  update();
}

void HeatmapView::setMaskedCells(const std::vector<uint8_t>& mask, int grid) {
  mask_ = mask;
  mask_grid_ = grid;
  update();
}

void HeatmapView::setSelected(bool selected) {
  if (selected_ == selected) return;
  selected_ = selected;
  update();
}

void HeatmapView::setValueName(const QString& name) { value_name_ = name; }

void HeatmapView::setInteractive(bool interactive) {
  interactive_ = interactive;
  setCursor(interactive ? Qt::PointingHandCursor : Qt::ArrowCursor);
  setFocusPolicy(interactive ? Qt::StrongFocus : Qt::NoFocus);
}

QRectF HeatmapView::pictureRect() const {
  const double m = 2;  // room for the selection frame
  return QRectF(m, m, width() - 2 * m, height() - 2 * m);
}

QPointF HeatmapView::relative(QPointF p) const {
  const auto r = pictureRect();
  return {std::clamp((p.x() - r.left()) / r.width(), 0.0, 0.9999),
          std::clamp((p.y() - r.top()) / r.height(), 0.0, 0.9999)};
}

void HeatmapView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  // Nearest-neighbour on purpose: a patch is a square, not a blur.
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  const QRectF r = pictureRect();
  p.fillRect(r, palette().color(QPalette::Mid));
  if (!image_.isNull()) p.drawImage(r, for_output(image_, p, r));
  if (!grid_image_.isNull()) {
    p.setOpacity(image_.isNull() ? 1.0 : opacity_);
    p.drawImage(r, for_output(grid_image_, p, r));
    p.setOpacity(1.0);
  }
  if (mask_grid_ > 0 && mask_.size() == static_cast<size_t>(mask_grid_) * mask_grid_) {
    const double cw = r.width() / mask_grid_, ch = r.height() / mask_grid_;
    for (int row = 0; row < mask_grid_; ++row)
      for (int col = 0; col < mask_grid_; ++col)
        if (mask_[static_cast<size_t>(row) * mask_grid_ + col])
          p.fillRect(QRectF(r.left() + col * cw, r.top() + row * ch, cw, ch), QColor(128, 128, 128, 225));
  }
  p.setRenderHint(QPainter::Antialiasing, true);
  if (grid_lines_ > 0) {
    p.setPen(QPen(QColor(255, 255, 255, 70), 1));
    for (int i = 1; i < grid_lines_; ++i) {
      const double x = r.left() + r.width() * i / grid_lines_, y = r.top() + r.height() * i / grid_lines_;
      p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()));
      p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y));
    }
  }
  if (outlined_ && outline_grid_ > 0) {
    // A cell is exactly 1/grid of the picture (patch_size pixels of the model's input), the
    // §3.1 pitfall of the paper's notebook drawn right.
    const double cw = r.width() / outline_grid_, ch = r.height() / outline_grid_;
    const QRectF cell(r.left() + outlined_->col * cw, r.top() + outlined_->row * ch, cw, ch);
    p.setPen(QPen(Qt::black, 3.5 * plot_style().line_scale));
    p.drawRect(cell);
    p.setPen(QPen(QColor(0, 230, 255), 1.8 * plot_style().line_scale));
    p.drawRect(cell);
  }
  if (selected_ || hasFocus()) {
    p.setPen(QPen(palette().color(QPalette::Highlight), selected_ ? 3 : 1.5));
    p.drawRect(QRectF(rect()).adjusted(1, 1, -1, -1));
  }
}

void HeatmapView::mousePressEvent(QMouseEvent* e) {
  if (!interactive_) return QWidget::mousePressEvent(e);
  dragging_ = true;
  emit pressed(relative(e->position()), e->button());
}

void HeatmapView::mouseMoveEvent(QMouseEvent* e) {
  if (dragging_) emit dragged(relative(e->position()));
  QWidget::mouseMoveEvent(e);
}

void HeatmapView::mouseReleaseEvent(QMouseEvent* e) {
  dragging_ = false;
  QWidget::mouseReleaseEvent(e);
}

void HeatmapView::keyPressEvent(QKeyEvent* e) {
  switch (e->key()) {
    case Qt::Key_Left: emit stepRequested(0, -1); break;
    case Qt::Key_Right: emit stepRequested(0, 1); break;
    case Qt::Key_Up: emit stepRequested(-1, 0); break;
    case Qt::Key_Down: emit stepRequested(1, 0); break;
    default: QWidget::keyPressEvent(e);
  }
}

bool HeatmapView::event(QEvent* e) {
  // Hovering shows the value under the cursor: the colours alone are min -> max scaled.
  if (e->type() == QEvent::ToolTip && !grid_.values.empty()) {
    auto* help = static_cast<QHelpEvent*>(e);
    const QPointF rel = relative(help->pos());
    const int row = static_cast<int>(rel.y() * grid_.rows), col = static_cast<int>(rel.x() * grid_.cols);
    QString text = QStringLiteral("%1 %2 at row %3, column %4")
                       .arg(value_name_.isEmpty() ? tr("value") : value_name_)
                       .arg(grid_.at(row, col), 0, 'g', 4)
                       .arg(row)
                       .arg(col);
    if (!toolTip().isEmpty()) text = toolTip() + "\n" + text;
    QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return QWidget::event(e);
}

}  // namespace vitscope::ui
