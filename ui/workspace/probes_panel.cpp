#include "ui/workspace/probes_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>
#include <limits>

#include "ui/export/json_values.h"
#include "ui/plots/colormap.h"
#include "ui/workspace/probes_column.h"

namespace vitscope::ui {

ProbesPanel::ProbesPanel(ComparisonModel& model, QWidget* parent)
    : ComparisonPanel(model, tr("Probes"),
                      tr("<b>Shape or texture?</b> How close each model keeps views of the image that keep only its "
                         "shape (silhouette, edges, blur, stylised) or only its texture (shuffled patches, scrambled "
                         "phase), and its cue-conflict shape bias once measured. <i>Paper:</i> CL is shape-oriented "
                         "(low frequencies), MIM texture-oriented (high frequencies)."),
                      parent),
      probes_(model) {
  addToolRow(createToolRow());
  auto* plots = new QWidget;
  auto* rows = new QVBoxLayout(plots);
  rows->setContentsMargins(0, 0, 0, 0);
  // The probe views of the image, one cell each (made once: exports lay out what exists).
  auto* views = new QWidget;
  auto* views_layout = new QHBoxLayout(views);
  views_layout->setContentsMargins(0, 4, 0, 4);
  for (const auto& kind : runtime::Explorer::probe_view_kinds()) {
    auto* cell = new QVBoxLayout;
    cell->setSpacing(1);
    auto* picture = new HeatmapView(96);
    picture->setToolTip(QString::fromStdString(kind.description));
    auto* label = new QLabel(QString::fromStdString(kind.name) + "\n" + (kind.keeps == "shape" ? tr("keeps shape") : tr("keeps texture")));
    label->setStyleSheet(QStringLiteral("color: %1;").arg(cue_color(kind.keeps).name()));
    cell->addWidget(picture);
    cell->addWidget(label);
    views_layout->addLayout(cell);
    view_pictures_ << picture;
  }
  views_layout->addStretch(1);
  index_ = new BarPlot(tr("Shape-reliance index"), tr("SRI (> 0: shape, < 0: texture)"), Qt::Horizontal);
  index_->setSizeHint({360, 300});
  index_->setToolTip(tr("Mean over blocks of [mean similarity of the shape-keeping views − mean similarity of the "
                        "texture-keeping views] (docs/PROBES.md)."));
  per_block_ = new LinePlot(tr("Shape-reliance index per block"), tr("block"), tr("SRI"));
  frequency_ = new LinePlot(tr("Low-pass (solid), high-pass (dashed)"), tr("cut-off (fraction of Nyquist)"),
                            tr("similarity to the original, last block"));
  frequency_->setIntegerXTicks(false);
  frequency_->setToolTip(tr("Only the frequencies below (low-pass) or above (high-pass, plus the mean colour) the "
                            "cut-off are kept, at each model's input size (paper-analyses.md §3.7)."));
  shape_bias_ = new ShapeBiasPlot;
  // Lines broken by hand: wrapped labels get too little height in exports (PanelColumn::caption).
  auto* credit = new QLabel(tr("Cue-conflict stimuli: Geirhos et al., ICLR 2019 (CC BY 4.0).\n"
                               "One marker per model and shape category; dashed: each model's overall shape bias."));
  credit->setForegroundRole(QPalette::PlaceholderText);
  auto* plot_row = new QHBoxLayout;
  plot_row->addWidget(index_);
  plot_row->addWidget(per_block_);
  plot_row->addWidget(frequency_);
  plot_row->addStretch(1);
  auto* bias_column = new QVBoxLayout;
  bias_column->addWidget(shape_bias_);
  bias_column->addWidget(credit);
  auto* bias_row = new QHBoxLayout;
  bias_row->addLayout(bias_column);
  bias_row->addStretch(1);
  rows->addWidget(views);
  rows->addLayout(plot_row);
  rows->addLayout(bias_row);
  plotsLayout()->addWidget(plots);

  connect(&probes_, &ProbesModel::imageProbeChanged, this, &ProbesPanel::refreshColumn);
  connect(&probes_, &ProbesModel::shapeBiasChanged, this, [this](const QString& id) {
    refreshToolRow();
    refreshColumn(id);
  });
  connect(&probes_, &ProbesModel::viewsChanged, this, &ProbesPanel::requestRefresh);
}

QWidget* ProbesPanel::createToolRow() {
  auto* row = new QWidget;
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(8, 2, 8, 2);
  auto path_label = [](const QString& path) {
    auto* label = new QLabel;
    label->setMaximumWidth(280);
    label->setToolTip(path);
    return label;
  };
  stimuli_ = path_label(probes_.stimuliDir());
  head_data_ = path_label(probes_.headData());
  auto* choose_stimuli = new QPushButton(tr("Stimuli…"));
  choose_stimuli->setToolTip(tr("The cue-conflict stimuli of Geirhos et al.: the data folder with stimuli/cue-conflict/, "
                                "or that folder (<shape>/<shape><i>-<texture><j>.png)."));
  auto* choose_head = new QPushButton(tr("Head data…"));
  choose_head->setToolTip(tr("Labelled images (class folders, or a .tar.gz with train/ and test/) to train a linear "
                             "classifier for models that have none."));
  per_class_ = new QSpinBox;
  per_class_->setRange(0, 100000);
  per_class_->setSingleStep(500);
  per_class_->setValue(probes_.headImagesPerClass());
  per_class_->setSpecialValueText(tr("all"));
  per_class_->setSuffix(tr(" per class"));
  per_class_->setToolTip(tr("Training images per class for the linear heads (all = the whole training split)."));
  measure_ = new QPushButton(tr("Measure Shape Bias"));
  measure_->setToolTip(tr("Classify the cue-conflict stimuli with every model, one after the other; models without a "
                          "classifier first get a linear head trained on the head data (minutes on a CPU)."));
  cancel_ = new QPushButton(tr("Cancel"));
  auto* make = new QPushButton(tr("Make Cue-Conflict Image…"));
  make->setToolTip(tr("Combine the current image's shape (its silhouette) with the texture of another image, tiled, "
                      "and add the result to the gallery: a probe image of your own."));
  layout->addWidget(new QLabel(tr("Cue-conflict:")));
  layout->addWidget(stimuli_);
  layout->addWidget(choose_stimuli);
  layout->addSpacing(12);
  layout->addWidget(new QLabel(tr("Heads from:")));
  layout->addWidget(head_data_);
  layout->addWidget(choose_head);
  layout->addWidget(per_class_);
  layout->addSpacing(12);
  layout->addWidget(measure_);
  layout->addWidget(cancel_);
  layout->addSpacing(12);
  layout->addWidget(make);
  layout->addStretch(1);
  connect(choose_stimuli, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Cue-Conflict Stimuli"), probes_.stimuliDir());
    if (!dir.isEmpty()) probes_.setStimuliDir(dir);
    refreshToolRow();
  });
  connect(choose_head, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Labelled Images for the Linear Heads"), probes_.headData(),
                                                      tr("Archives (*.tar.gz);;All files (*)"));
    if (!file.isEmpty()) probes_.setHeadData(file);
    refreshToolRow();
  });
  connect(per_class_, &QSpinBox::valueChanged, this, [this](int n) { probes_.setHeadImagesPerClass(n); });
  connect(measure_, &QPushButton::clicked, this, [this] { probes_.measureAllShapeBias(); });
  connect(cancel_, &QPushButton::clicked, this, [this] { probes_.cancelShapeBias(); });
  connect(make, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Image Whose Texture to Use"), QString(),
                                                      tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)"));
    if (!file.isEmpty()) makeCueConflictImage(file, false, false);
  });
  refreshToolRow();
  return row;
}

void ProbesPanel::refreshToolRow() {
  auto show_path = [](QLabel* label, const QString& path, const QString& none) {
    label->setText(path.isEmpty() ? none : QFileInfo(path).fileName());
    label->setToolTip(path);
  };
  show_path(stimuli_, probes_.stimuliDir(), tr("(none chosen)"));
  show_path(head_data_, probes_.headData(), tr("(none chosen)"));
  cancel_->setEnabled(probes_.shapeBiasBusy());
}

void ProbesPanel::makeCueConflictImage(const QString& texture_path, bool outline, bool transfer) {
  const QString image = state_.imageId();
  if (image.isEmpty()) return;
  const QString name = QStringLiteral("%1-with-%2-texture")
                           .arg(QFileInfo(state_.imageName()).completeBaseName(), QFileInfo(texture_path).completeBaseName());
  const std::string shape_id = image.toStdString(), texture = texture_path.toStdString();
  model_.jobs().run<runtime::RgbImage>(
      tr("Making %1").arg(name), this,
      [this, shape_id, texture, outline, transfer](const runtime::CancelToken&) {
        return model_.explorer().make_cue_conflict(shape_id, texture, outline, transfer);
      },
      [this, name](runtime::RgbImage rgb) { emit cueConflictImageMade(rgb_to_image(rgb), name); },
      [this](const QString& error) {
        if (!error.isEmpty()) emit cueConflictImageFailed(error);
      });
}

PanelColumn* ProbesPanel::createColumn(const ModelColumn& column) { return new ProbesColumn(model_, probes_, column); }

QString ProbesPanel::cliCommand(const QStringList& model_paths, const QString& image_path) const {
  return probes_.cliCommand(model_paths, image_path);
}

void ProbesPanel::refreshViews() {
  const auto* views = probes_.views();
  for (int i = 0; i < view_pictures_.size(); ++i)
    view_pictures_[i]->setImage(views && i < static_cast<int>(views->size()) ? rgb_to_image((*views)[i].image) : QImage());
}

void ProbesPanel::refreshPlots() {
  probes_.requestImageProbes();
  refreshViews();
  QVector<Bar> bars;
  QVector<PlotSeries> per_block, frequency;
  QStringList categories;
  QVector<ShapeBiasSeries> bias;
  for (const auto& c : model_.columns()) {
    if (const auto* p = probes_.imageProbe(c.id())) {
      bars.push_back({c.name(), p->shape_reliance_index, c.color});
      per_block << make_series(c.name(), c.color, p->index_per_block, 1);
      PlotSeries low{c.name(), c.color, {}, {}}, high{c.name() + tr(" high-pass"), c.color, {}, {}, Qt::DashLine, false};
      for (size_t i = 0; i < p->cutoffs.size(); ++i) {
        low.x << p->cutoffs[i];
        low.y << p->low_pass[i];
        high.x << p->cutoffs[i];
        high.y << p->high_pass[i];
      }
      frequency << low << high;
    }
    if (const auto* r = probes_.shapeBias(c.id())) {
      if (categories.isEmpty())
        for (const auto& pc : r->per_category) categories << QString::fromStdString(pc.category);
      ShapeBiasSeries s{c.name(), c.color, {}, r->shape_bias.value_or(std::numeric_limits<double>::quiet_NaN())};
      for (const auto& category : categories) {
        double v = std::numeric_limits<double>::quiet_NaN();
        for (const auto& pc : r->per_category)
          if (QString::fromStdString(pc.category) == category && pc.shape_bias) v = *pc.shape_bias;
        s.per_category << v;
      }
      bias << s;
    }
  }
  index_->setBars(bars);
  per_block_->setSeries(per_block);
  frequency_->setSeries(frequency);
  shape_bias_->setData(categories, bias);
  refreshToolRow();
}

QJsonObject ProbesPanel::columnData(const PanelColumn& column) {
  QJsonObject out;
  if (const auto* p = probes_.imageProbe(column.modelId())) {
    QJsonArray views;
    for (size_t v = 0; v < p->views.size(); ++v)
      views.append(QJsonObject{{"name", QString::fromStdString(p->views[v])},
                               {"keeps", QString::fromStdString(p->keeps[v])},
                               {"similarity_per_block", values_json(p->similarity[v])}});
    out["shape_reliance_index"] = p->shape_reliance_index;
    out["index_per_block"] = values_json(p->index_per_block);
    out["views"] = views;
    out["frequency"] = QJsonObject{{"cutoffs_fraction_of_nyquist", values_json(p->cutoffs)},
                                   {"low_pass_last_block", values_json(p->low_pass)},
                                   {"high_pass_last_block", values_json(p->high_pass)}};
    out["definition"] = QString::fromStdString(p->definition);
  }
  if (const auto* r = probes_.shapeBias(column.modelId()))
    out["cue_conflict"] = QJsonDocument::fromJson(QByteArray::fromStdString(r->json)).object();
  if (const auto* h = probes_.headTraining(column.modelId()))
    out["classifier_head"] = QJsonObject{{"train_top1", h->train_top1},
                                         {"test_top1", h->test_top1},
                                         {"train_images", static_cast<double>(h->train_images)},
                                         {"test_images", static_cast<double>(h->test_images)},
                                         {"test_data", QString::fromStdString(h->test_data)},
                                         {"skipped_images", static_cast<double>(h->skipped.size())}};
  return out;
}

}  // namespace vitscope::ui
