#pragma once
// Attention of one model: the query's attention over the image for the selected block and head
// (click to move the query in every model), the same map for each head (click to select a
// head), and the attention rollout through the selected block.
#include <QGridLayout>
#include <QVector>

#include "ui/plots/heatmap_view.h"
#include "ui/workspace/panel_column.h"

namespace vitscope::ui {

class AttentionColumn : public PanelColumn {
  Q_OBJECT

 public:
  AttentionColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent = nullptr);
  void refresh() override;
  HeatmapView* overlay() const { return overlay_; }

 private:
  HeatmapView* overlay_;
  QLabel* overlay_caption_;
  QVector<HeatmapView*> heads_;
  HeatmapView* rollout_;
  QLabel* rollout_caption_;
};

}  // namespace vitscope::ui
