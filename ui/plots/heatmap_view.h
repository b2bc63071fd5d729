#pragma once
// A square picture made of layers: the model's input image, a colour-mapped grid (attention,
// spectrum, error) drawn over it with some opacity, patch grid lines, and an outline around one
// cell (the query patch). Tiny grids (8×8) are scaled up with nearest-neighbour so every patch
// stays a crisp square. Reports presses and drags in relative coordinates (0..1), so callers can
// map them into grids of any size.
#include <QImage>
#include <QPointF>
#include <QWidget>

#include <optional>

#include "core/runtime/explorer.h"
#include "ui/plots/colormap.h"

namespace vitscope::ui {

struct GridCell {
  int row = 0, col = 0;
};

class HeatmapView : public QWidget {
  Q_OBJECT

 public:
  explicit HeatmapView(int side, QWidget* parent = nullptr);

  void setImage(const QImage& image);  // null: no picture under the grid
  // The grid is auto-scaled min -> max; opacity 1 hides the picture.
  void setGrid(const runtime::FloatGrid& grid, Colormap map, double opacity);
  void clearGrid();
  // Outline of one cell of a grid × grid patch layout; nullopt: none.
  void setOutlinedCell(std::optional<GridCell> cell, int grid);
  void setGridLines(int grid);  // 0: none
  // Masked patches (grid × grid, row-major, 1 = masked) drawn as grey squares, as MAE shows them.
  void setMaskedCells(const std::vector<uint8_t>& mask, int grid);
  void setSelected(bool selected);  // a frame, e.g. the selected head in the heads grid
  void setValueName(const QString& name);  // shown in the hover tooltip ("attention", …)
  void setInteractive(bool interactive);   // hand cursor, presses reported

  const runtime::FloatGrid& grid() const { return grid_; }
  QSize sizeHint() const override { return {side_, side_}; }

 signals:
  void pressed(QPointF relative, Qt::MouseButton button);
  void dragged(QPointF relative);
  void stepRequested(int d_row, int d_col);  // arrow keys while focused

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  bool event(QEvent* e) override;

 private:
  QRectF pictureRect() const;
  QPointF relative(QPointF widget_pos) const;

  int side_;
  QImage image_, grid_image_;
  runtime::FloatGrid grid_;
  double opacity_ = 0.6;
  std::optional<GridCell> outlined_;
  int outline_grid_ = 0, grid_lines_ = 0;
  std::vector<uint8_t> mask_;
  int mask_grid_ = 0;
  bool selected_ = false, interactive_ = false, dragging_ = false;
  QString value_name_;
};

}  // namespace vitscope::ui
