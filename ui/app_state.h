#pragma once
// The one set of controls shared by every model column: layer, head, query patch, mask ratio,
// seed and hand-painted mask edits, the current image and the visible panel. Widgets change it
// through the setters and redraw on its signals; nothing here knows about widgets.
//
// Models can differ in input size and grid (8×8 for the bundled 32-px models, 14×14 for a
// 224-px ViT-B/16), so the query and the painted mask live in *relative* image coordinates
// (0..1) and each column maps them into its own grid.
#include <QObject>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QVector>

#include <cstdint>
#include <vector>

#include "ui/plots/heatmap_view.h"

namespace vitscope::ui {

enum class Panel { Attention = 0, Reconstruction, Spectrum, Representation, Probes };
inline constexpr int kPanelCount = 5;

struct SharedQuery {
  bool cls = false;
  QPointF relative{0.5, 0.5};  // patch query: a point of the image, 0..1 in x and y
};

// A patch painted (masked = true) or erased by hand: the painted cell's area in relative
// coordinates; in another grid it covers the cells whose centres fall inside it.
struct MaskEdit {
  QRectF area;
  bool masked = true;
};

class AppState : public QObject {
  Q_OBJECT

 public:
  explicit AppState(QObject* parent = nullptr);

  int layer() const { return layer_; }  // 0-based block; a column with fewer blocks clamps
  int head() const { return head_; }    // -1: mean over heads
  const SharedQuery& query() const { return query_; }
  double maskRatio() const { return mask_ratio_; }
  int maskSeed() const { return mask_seed_; }
  const QVector<MaskEdit>& maskEdits() const { return mask_edits_; }
  const QString& imageId() const { return image_id_; }
  const QString& imageName() const { return image_name_; }
  Panel panel() const { return panel_; }
  int maxLayers() const { return max_layers_; }
  int maxHeads() const { return max_heads_; }

  // The query as a cell of a grid × grid layout (nullopt for CLS).
  std::optional<GridCell> queryCell(int grid) const;
  // A model's random mask with the hand edits applied (both grid × grid, row-major, 1 = masked).
  std::vector<uint8_t> applyMaskEdits(std::vector<uint8_t> mask, int grid) const;

 public slots:
  void setLayer(int layer);
  void setHead(int head);
  void stepLayer(int delta);
  void stepHead(int delta);  // cycles mean, 1, 2, …
  void setQueryPoint(QPointF relative);
  void setQueryCls(bool cls);
  // Moves the query by whole cells of a grid × grid layout (keyboard navigation).
  void stepQuery(int d_row, int d_col, int grid);
  void setMaskRatio(double ratio);  // clears the hand edits: they were made on the old mask
  void setMaskSeed(int seed);       // likewise
  void addMaskEdit(const MaskEdit& edit);
  void clearMaskEdits();
  void setImage(const QString& image_id, const QString& name);
  void setPanel(Panel panel);
  void setLimits(int max_layers, int max_heads);

 signals:
  void layerChanged(int layer);
  void headChanged(int head);
  void queryChanged();
  void maskChanged();
  void imageChanged(const QString& image_id);
  void panelChanged(Panel panel);
  void limitsChanged();

 private:
  int layer_ = 0, head_ = -1;
  SharedQuery query_;
  double mask_ratio_ = 0.75;
  int mask_seed_ = 0;
  QVector<MaskEdit> mask_edits_;
  QString image_id_, image_name_;
  Panel panel_ = Panel::Attention;
  int max_layers_ = 1, max_heads_ = 1;
};

}  // namespace vitscope::ui
