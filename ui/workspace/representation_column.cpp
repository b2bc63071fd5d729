#include "ui/workspace/representation_column.h"

#include <QHBoxLayout>

namespace vitscope::ui {

RepresentationColumn::RepresentationColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent)
    : PanelColumn(model, column, parent) {
  pca_ = new HeatmapView(192);
  pca_->setToolTip(tr("Patch tokens of the selected block projected on their first 3 principal components "
                      "(red, green, blue). Similar colours = similar tokens."));
  input_ = new HeatmapView(72);
  input_->setToolTip(tr("The image as this model sees it."));
  caption_ = caption();
  auto* row = new QHBoxLayout;
  row->addWidget(input_);
  row->addWidget(caption_, 1);
  body()->addWidget(pca_);
  body()->addLayout(row);
}

void RepresentationColumn::refresh() {
  const auto* a = analysisOrStatus();
  if (!a) {
    pca_->setImage({});
    input_->setImage({});
    caption_->clear();
    return;
  }
  pca_->setImage(rgb_to_image(a->pca_rgb(featureTap())));
  input_->setImage(rgb_to_image(a->input()));
  caption_->setText(tr("Block %1/%2 tokens\neffective rank %3\nmean token cosine %4")
                        .arg(block() + 1)
                        .arg(modelColumn().info.depth)
                        .arg(a->effective_rank()[featureTap()], 0, 'f', 1)
                        .arg(a->token_cosine_similarity()[featureTap()], 0, 'f', 2));
}

}  // namespace vitscope::ui
