#include "ui/workspace/reconstruction_column.h"

#include <QGridLayout>

#include <algorithm>

namespace vitscope::ui {

namespace {
constexpr int kSmallSide = 94;
}  // namespace

ReconstructionColumn::ReconstructionColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent)
    : PanelColumn(model, column, parent) {
  if (!column.info.can_reconstruct) {
    auto* note = caption(tr("No pixel decoder: %1 learns without predicting pixels, so there is no "
                            "reconstruction to show. MIM models (MAE, SimMIM) and hybrids have one.")
                             .arg(column.info.method.empty() ? tr("this model") : QString::fromStdString(column.info.method)));
    note->setWordWrap(true);
    note->setFixedWidth(192);
    body()->addWidget(note);
    return;
  }
  masked_ = new HeatmapView(192);
  masked_->setInteractive(true);
  masked_->setGridLines(column.info.grid);
  masked_->setToolTip(tr("Grey patches are hidden from the model. Click or drag to mask patches, click a grey "
                         "patch (or use the right button) to unmask; the edit applies to every model, mapped by "
                         "position into its own grid."));
  connect(masked_, &HeatmapView::pressed, this, [this](QPointF p, Qt::MouseButton button) {
    const auto mask = model_.currentMask(modelId());
    const int g = grid();
    const int row = std::clamp(static_cast<int>(p.y() * g), 0, g - 1), col = std::clamp(static_cast<int>(p.x() * g), 0, g - 1);
    const bool masked = !mask.empty() && mask[static_cast<size_t>(row) * g + col];
    paint_masked_ = button != Qt::RightButton && !masked;
    last_painted_.reset();
    paintCell(p);
  });
  connect(masked_, &HeatmapView::dragged, this, &ReconstructionColumn::paintCell);
  body()->addWidget(masked_);
  body()->addWidget(caption(tr("Masked input: click or drag to edit")));

  auto* views = new QGridLayout;
  views->setSpacing(4);
  auto add = [&](HeatmapView*& view, const QString& title, const QString& tip, int index) {
    view = new HeatmapView(kSmallSide);
    view->setToolTip(tip);
    auto* label = caption(title);
    label->setAlignment(Qt::AlignHCenter);
    views->addWidget(view, (index / 2) * 2, index % 2, Qt::AlignHCenter);
    views->addWidget(label, (index / 2) * 2 + 1, index % 2);
  };
  add(original_, tr("Original"), tr("The input as the model sees it (after resizing)."), 0);
  add(prediction_, tr("Reconstruction"), tr("The decoder's prediction for every patch."), 1);
  add(composite_, tr("Prediction + visible"), tr("Prediction in the masked patches, the input elsewhere."), 2);
  add(error_, tr("Error"), tr("Mean absolute error per pixel between prediction and input (bright = large)."), 3);
  error_->setValueName(tr("error"));
  body()->addLayout(views);
  caption_ = caption();
  body()->addWidget(caption_);
}

void ReconstructionColumn::paintCell(QPointF p) {
  const int g = grid();
  const GridCell cell{std::clamp(static_cast<int>(p.y() * g), 0, g - 1), std::clamp(static_cast<int>(p.x() * g), 0, g - 1)};
  if (last_painted_ && last_painted_->row == cell.row && last_painted_->col == cell.col) return;
  last_painted_ = cell;
  state_.addMaskEdit({QRectF(double(cell.col) / g, double(cell.row) / g, 1.0 / g, 1.0 / g), paint_masked_});
}

void ReconstructionColumn::refresh() {
  if (!masked_) return;
  const auto* a = analysisOrStatus();
  const auto mask = model_.currentMask(modelId());
  masked_->setImage(a ? rgb_to_image(a->input()) : QImage());
  masked_->setMaskedCells(mask, grid());
  const auto* r = model_.reconstruction(modelId());
  const int masked = static_cast<int>(std::count(mask.begin(), mask.end(), 1));
  if (!r) {
    // Keep the previous pictures while the next reconstruction runs (painting stays smooth).
    const QString status = model_.reconstructionStatus(modelId());
    caption_->setText(status.isEmpty() ? tr("%1 of %2 patches masked\nreconstructing…").arg(masked).arg(mask.size())
                                       : status);
    if (state_.imageId().isEmpty())
      for (auto* v : {original_, prediction_, composite_, error_}) v->setImage({}), v->clearGrid();
    return;
  }
  original_->setImage(rgb_to_image(r->original));
  prediction_->setImage(rgb_to_image(r->prediction));
  composite_->setImage(rgb_to_image(r->composite));
  error_->setGrid(r->error, Colormap::Plasma, 1.0);
  QString text = tr("%1 of %2 patches masked\n%3 · masked-patch MSE %4")
                     .arg(masked)
                     .arg(mask.size())
                     .arg(QString::fromStdString(r->kind))
                     .arg(r->masked_mse, 0, 'g', 3);
  QString tip = tr("Mean squared error between prediction and input over the masked patches, in the model's "
                   "normalised pixel space.");
  if (r->borrowed_patch_statistics) {
    text += tr("\n(hidden patches: own mean, variance)");
    tip += tr("\nThe model predicts normalised patches (MAE norm-pix loss); the picture de-normalises each hidden "
              "patch with that patch's true mean and variance.");
  }
  caption_->setToolTip(tip);
  caption_->setText(text);
}

}  // namespace vitscope::ui
