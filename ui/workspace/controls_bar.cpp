#include "ui/workspace/controls_bar.h"

#include <QHBoxLayout>
#include <QSignalBlocker>

#include <cmath>

namespace vitscope::ui {

ControlsBar::ControlsBar(AppState& state, QWidget* parent) : QWidget(parent), state_(state) {
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(6, 4, 6, 4);
  row->setSpacing(8);

  layer_label_ = new QLabel;
  layer_label_->setMinimumWidth(layer_label_->fontMetrics().horizontalAdvance(tr("Block 88/88")));
  layer_ = new QSlider(Qt::Horizontal);
  layer_->setMinimumWidth(140);
  layer_->setPageStep(1);
  layer_->setTickPosition(QSlider::TicksBelow);
  layer_->setToolTip(tr("Transformer block shown in every panel (Ctrl+Up / Ctrl+Down).\n"
                        "A model with fewer blocks shows its last one."));
  layer_label_->setBuddy(layer_);
  connect(layer_, &QSlider::valueChanged, &state_, [this](int v) { state_.setLayer(v - 1); });

  head_ = new QComboBox;
  head_->setToolTip(tr("Attention head (Ctrl+Left / Ctrl+Right). \"Mean\" averages the per-head maps.\n"
                       "A model with fewer heads shows its last one."));
  connect(head_, &QComboBox::currentIndexChanged, &state_, [this](int i) { state_.setHead(i - 1); });
  auto* head_label = new QLabel(tr("&Head"));
  head_label->setBuddy(head_);

  cls_ = new QToolButton;
  cls_->setText(tr("CLS"));
  cls_->setCheckable(true);
  cls_->setToolTip(tr("Show the CLS token's attention instead of a patch's (Ctrl+L).\n"
                      "Click a patch in any attention map to query that patch again."));
  connect(cls_, &QToolButton::toggled, &state_, &AppState::setQueryCls);
  query_label_ = new QLabel;
  query_label_->setToolTip(tr("The query patch is shared in relative image coordinates: every model uses the patch "
                              "under the same point of the image, in its own grid."));

  ratio_label_ = new QLabel;
  ratio_label_->setMinimumWidth(ratio_label_->fontMetrics().horizontalAdvance(tr("Mask 95 %")));
  ratio_ = new QSlider(Qt::Horizontal);
  ratio_->setRange(0, 95);
  ratio_->setSingleStep(5);
  ratio_->setPageStep(5);
  ratio_->setMinimumWidth(100);
  ratio_->setToolTip(tr("Share of patches hidden from the models with a decoder (MAE: random patches; SimMIM: "
                        "random 2×2 blocks). Changing it discards hand-painted edits."));
  connect(ratio_, &QSlider::valueChanged, &state_, [this](int v) { state_.setMaskRatio(v / 100.0); });
  seed_ = new QSpinBox;
  seed_->setRange(0, 9999);
  seed_->setPrefix(tr("seed "));
  seed_->setToolTip(tr("Random seed of the mask: the same seed gives the same mask. Changing it discards "
                       "hand-painted edits."));
  connect(seed_, &QSpinBox::valueChanged, &state_, &AppState::setMaskSeed);
  clear_edits_ = new QToolButton;
  clear_edits_->setText(tr("Reset painted"));
  clear_edits_->setToolTip(tr("Forget the patches painted by hand; back to the random mask."));
  connect(clear_edits_, &QToolButton::clicked, &state_, &AppState::clearMaskEdits);

  row->addWidget(layer_label_);
  row->addWidget(layer_, 2);
  row->addSpacing(8);
  row->addWidget(head_label);
  row->addWidget(head_);
  row->addSpacing(8);
  row->addWidget(new QLabel(tr("Query")));
  row->addWidget(cls_);
  row->addWidget(query_label_);
  row->addSpacing(8);
  row->addWidget(ratio_label_);
  row->addWidget(ratio_, 1);
  row->addWidget(seed_);
  row->addWidget(clear_edits_);

  for (auto signal : {&AppState::layerChanged, &AppState::headChanged})
    connect(&state_, signal, this, &ControlsBar::syncFromState);
  connect(&state_, &AppState::queryChanged, this, &ControlsBar::syncFromState);
  connect(&state_, &AppState::maskChanged, this, &ControlsBar::syncFromState);
  connect(&state_, &AppState::limitsChanged, this, &ControlsBar::syncFromState);
  syncFromState();
}

void ControlsBar::syncFromState() {
  // Programmatic updates must not echo back into the state.
  const QSignalBlocker b1(layer_), b2(head_), b3(cls_), b4(ratio_), b5(seed_);
  layer_->setRange(1, state_.maxLayers());
  layer_->setValue(state_.layer() + 1);
  layer_label_->setText(tr("&Block %1/%2").arg(state_.layer() + 1).arg(state_.maxLayers()));
  if (head_->count() != state_.maxHeads() + 1) {
    head_->clear();
    head_->addItem(tr("Mean"));
    for (int h = 1; h <= state_.maxHeads(); ++h) head_->addItem(tr("Head %1").arg(h));
  }
  head_->setCurrentIndex(state_.head() + 1);
  const auto& q = state_.query();
  cls_->setChecked(q.cls);
  query_label_->setText(q.cls ? tr("CLS token")
                              : tr("patch at x %1 %, y %2 %")
                                    .arg(std::lround(q.relative.x() * 100))
                                    .arg(std::lround(q.relative.y() * 100)));
  ratio_->setValue(static_cast<int>(std::lround(state_.maskRatio() * 100)));
  ratio_label_->setText(tr("&Mask %1 %").arg(ratio_->value()));
  ratio_label_->setBuddy(ratio_);
  seed_->setValue(state_.maskSeed());
  clear_edits_->setEnabled(!state_.maskEdits().isEmpty());
}

}  // namespace vitscope::ui
