#include "ui/workspace/attention_column.h"

#include <cmath>

namespace vitscope::ui {

namespace {
constexpr int kOverlaySide = 192;
constexpr double kOverlayOpacity = 0.55;
}  // namespace

AttentionColumn::AttentionColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent)
    : PanelColumn(model, column, parent) {
  overlay_ = new HeatmapView(kOverlaySide);
  overlay_->setInteractive(true);
  overlay_->setValueName(tr("attention"));
  overlay_->setToolTip(tr("Click a patch to make it the query in every model (arrow keys move it).\n"
                          "Models with other grids pick the patch under the same point of the image."));
  connect(overlay_, &HeatmapView::pressed, &state_, [this](QPointF p) { state_.setQueryPoint(p); });
  connect(overlay_, &HeatmapView::stepRequested, &state_,
          [this](int dr, int dc) { state_.stepQuery(dr, dc, grid()); });
  overlay_caption_ = caption();
  overlay_caption_->setToolTip(tr("Which block, head and query this map shows for this model."));
  body()->addWidget(overlay_);
  body()->addWidget(overlay_caption_);

  // Up to 4 heads share a row with the rollout; more heads (ViT-B has 12) get the full width.
  const int heads = column.info.heads;
  const bool few_heads = heads <= 4;
  const int per_row = few_heads ? 2 : 4;
  const int area = few_heads ? 112 : kOverlaySide;
  const int side = (area - (per_row - 1) * 4) / per_row;
  auto* heads_grid = new QGridLayout;
  heads_grid->setSpacing(4);
  for (int h = 0; h < heads; ++h) {
    auto* view = new HeatmapView(side);
    view->setInteractive(true);
    view->setValueName(tr("attention"));
    view->setToolTip(tr("Head %1: click to show it above, click again for the mean of all heads.").arg(h + 1));
    connect(view, &HeatmapView::pressed, &state_, [this, h] { state_.setHead(state_.head() == h ? -1 : h); });
    heads_grid->addWidget(view, h / per_row, h % per_row);
    heads_ << view;
  }
  auto* heads_box = new QVBoxLayout;
  heads_box->addLayout(heads_grid);
  heads_box->addWidget(caption(tr("Each head")));

  rollout_ = new HeatmapView(few_heads ? 112 : 96);
  rollout_->setValueName(tr("rollout weight"));
  rollout_->setToolTip(tr("Attention rollout (Abnar & Zuidema 2020): attention multiplied through blocks 1…N with "
                          "the residual path counted as half of every block; how much each patch feeds the query."));
  rollout_caption_ = caption();
  auto* rollout_box = new QVBoxLayout;
  rollout_box->addWidget(rollout_);
  rollout_box->addWidget(rollout_caption_);

  if (few_heads) {
    auto* row = new QHBoxLayout;
    row->addLayout(heads_box);
    row->addLayout(rollout_box);
    body()->addLayout(row);
  } else {
    body()->addLayout(heads_box);
    body()->addLayout(rollout_box);
  }
}

void AttentionColumn::refresh() {
  const auto* a = analysisOrStatus();
  if (!a) {
    overlay_->setImage({});
    overlay_->clearGrid();
    for (auto* v : heads_) v->clearGrid();
    rollout_->clearGrid();
    overlay_caption_->clear();
    rollout_caption_->clear();
    return;
  }
  const auto q = query();
  const auto cell = queryCell();
  const QImage input = rgb_to_image(a->input());
  overlay_->setImage(input);
  overlay_->setGrid(a->attention_map(block(), head(), q), Colormap::Plasma, kOverlayOpacity);
  overlay_->setOutlinedCell(cell, grid());
  overlay_caption_->setText(settingsText());
  const auto maps = a->head_attention_maps(block(), q);
  for (int h = 0; h < heads_.size() && h < static_cast<int>(maps.size()); ++h) {
    heads_[h]->setGrid(maps[h], Colormap::Plasma, 1.0);
    heads_[h]->setOutlinedCell(cell, grid());
    heads_[h]->setSelected(h == head());
  }
  rollout_->setImage(input);
  rollout_->setGrid(a->rollout_map(q, block()), Colormap::Plasma, kOverlayOpacity);
  rollout_->setOutlinedCell(cell, grid());
  rollout_caption_->setText(tr("Rollout to\nblock %1").arg(block() + 1));
}

}  // namespace vitscope::ui
