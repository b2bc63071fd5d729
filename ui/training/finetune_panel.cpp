#include "ui/training/finetune_panel.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QMessageBox>
#include <QRegularExpression>
#include <QScrollArea>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/export/data_export.h"
#include "ui/export/figure_renderer.h"
#include "ui/plots/colormap.h"
#include "ui/shelf/model_shelf_model.h"
#include "ui/workspace/panel_column.h"

namespace vitscope::ui {

namespace {

const QStringList kModes{"linear-probe", "finetune", "pretrain-moco", "pretrain-simmim", "pretrain-mae", "pretrain-hybrid"};
constexpr int kMaxSnapshots = 6;  // diagnostics curves drawn at once (evenly spread, first and latest kept)

// A folder field with a "…" button that opens a folder dialog.
QWidget* folder_field(QLineEdit* edit, const QString& caption) {
  auto* w = new QWidget;
  auto* layout = new QHBoxLayout(w);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* browse = new QPushButton(QStringLiteral("…"));
  browse->setFixedWidth(32);
  browse->setToolTip(caption);
  QObject::connect(browse, &QPushButton::clicked, edit, [edit, caption] {
    const QString dir = QFileDialog::getExistingDirectory(edit, caption, edit->text());
    if (!dir.isEmpty()) edit->setText(dir);
  });
  layout->addWidget(edit, 1);
  layout->addWidget(browse);
  return w;
}

LinePlot* small_plot(const QString& title, const QString& x, const QString& y) {
  auto* p = new LinePlot(title, x, y);
  p->setMinimumSize(260, 200);
  p->legend->setVisible(false);
  return p;
}

// Light (early) to dark (latest) blue.
QColor snapshot_color(int i, int n) {
  const double t = n <= 1 ? 1.0 : static_cast<double>(i) / (n - 1);
  return QColor::fromHsvF(0.6, 0.25 + 0.7 * t, 0.95 - 0.45 * t);
}

QVector<int> spread_indices(int count, int max) {
  QVector<int> out;
  if (count <= max) {
    for (int i = 0; i < count; ++i) out << i;
    return out;
  }
  for (int k = 0; k < max; ++k) out << static_cast<int>(std::llround(static_cast<double>(k) * (count - 1) / (max - 1)));
  return out;
}

}  // namespace

FineTunePanel::FineTunePanel(FineTuneQueue& queue, ModelShelfModel& shelf, QWidget* parent)
    : QWidget(parent), queue_(queue), shelf_(shelf) {
  // In a short dock the form scrolls rather than squeezing its fields, and the job list below it
  // stays in view; the panel asks for enough height that the plots stay readable.
  auto* form_scroll = new QScrollArea;
  form_scroll->setWidgetResizable(true);
  form_scroll->setFrameShape(QFrame::NoFrame);
  form_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  form_scroll->setWidget(createForm());
  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(form_scroll, 1);
  left_layout->addWidget(createQueue());
  left->setMinimumWidth(360);  // the form scrolls, so it would not ask for room of its own
  left->setMaximumWidth(400);
  setMinimumHeight(440);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(left);
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  plots_ = createPlots();
  scroll->setWidget(plots_);
  auto* empty = new QLabel(tr("<p><b>No job selected.</b></p><p>Set up a job on the left and press <i>Add to "
                              "Queue</i>. Its loss, learning rate, throughput and validation accuracy appear here "
                              "as it trains, with the attention distance, NMI and ΔLog amplitude of a fixed probe "
                              "batch every few steps.</p>"));
  empty->setWordWrap(true);
  empty->setAlignment(Qt::AlignCenter);
  empty->setMargin(40);
  plots_or_empty_ = new QStackedWidget;
  plots_or_empty_->addWidget(empty);
  plots_or_empty_->addWidget(scroll);
  layout->addWidget(plots_or_empty_, 1);

  connect(&queue_, &FineTuneQueue::curvesChanged, this, [this](int row) {
    if (row == selectedRow()) refreshPlots();
  });
  connect(&queue_, &QAbstractItemModel::dataChanged, this, [this] {
    refreshButtons();
    if (selectedRow() < 0 && queue_.runningRow() >= 0) selectRow(queue_.runningRow());
  });
  connect(&queue_, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int first, int) { selectRow(first); });
  connect(&queue_, &QAbstractItemModel::rowsRemoved, this, [this] {
    refreshButtons();
    refreshPlots();
  });
  refreshButtons();
}

QWidget* FineTunePanel::createForm() {
  auto* box = new QGroupBox(tr("New job"));
  auto* form = new QFormLayout(box);
  base_ = new QComboBox;
  base_->setModel(&shelf_);
  base_->setToolTip(tr("The model to start from: its weights initialise the run"));
  form->addRow(tr("Base model"), base_);
  data_ = new QLineEdit;
  data_->setPlaceholderText(tr("folder with class folders (or images, for pre-training)"));
  form->addRow(tr("Data"), folder_field(data_, tr("Training images")));
  val_ = new QLineEdit;
  val_->setPlaceholderText(tr("none: hold out a part of the data"));
  form->addRow(tr("Validation"), folder_field(val_, tr("Validation images (same class folders)")));
  // A fraction from 0 to `hi` in steps of 0.05.
  auto fraction = [](double hi, double value) {
    auto* s = new QDoubleSpinBox;
    s->setRange(0.0, hi);
    s->setSingleStep(0.05);
    s->setValue(value);
    return s;
  };
  val_split_ = fraction(0.5, 0.1);
  form->addRow(tr("Held out"), val_split_);
  mode_ = new QComboBox;
  mode_->addItems(kModes);
  mode_->setCurrentText(QStringLiteral("finetune"));
  mode_->setToolTip(tr("linear-probe: frozen encoder + linear head; finetune: encoder + head; pretrain-*: continued "
                       "self-supervised pre-training"));
  form->addRow(tr("Mode"), mode_);
  lambda_ = fraction(1.0, 0.2);
  lambda_->setToolTip(tr("Hybrid: L = (1-λ) L_SimMIM + λ L_MoCo"));
  form->addRow(tr("λ"), lambda_);
  auto spin = [](int lo, int hi, int value) {
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(value);
    return s;
  };
  epochs_ = spin(1, 10000, 10);
  batch_ = spin(1, 8192, 64);
  image_size_ = spin(0, 1024, 0);
  image_size_->setSpecialValueText(tr("model's"));
  diagnostics_every_ = spin(0, 100000, 50);
  diagnostics_every_->setSpecialValueText(tr("off"));
  diagnostics_every_->setSuffix(tr(" steps"));
  form->addRow(tr("Epochs"), epochs_);
  form->addRow(tr("Batch"), batch_);
  lr_ = new QLineEdit;
  lr_->setObjectName(QStringLiteral("learningRate"));
  form->addRow(tr("Learning rate"), lr_);
  layer_decay_ = fraction(1.0, 0.0);  // 0: the mode's default
  layer_decay_->setToolTip(tr("Layer-wise learning-rate decay: block i of d learns at decay^(d + 1 - i) of the rate, "
                              "the classifier at the full rate; 1 = one rate for all"));
  form->addRow(tr("Layer decay"), layer_decay_);
  form->addRow(tr("Image size"), image_size_);
  crop_scale_ = fraction(1.0, 0.0);  // 0: the mode's default
  crop_scale_->setObjectName(QStringLiteral("cropScale"));
  crop_scale_->setToolTip(tr("Random resized crop: the smallest crop, as a fraction of the image area (1 = the whole "
                             "image; default 0.5). Pre-training modes augment as their objective does."));
  form->addRow(tr("Crop scale"), crop_scale_);
  flip_ = new QCheckBox(tr("random horizontal flip"));
  flip_->setChecked(true);
  flip_->setToolTip(tr("Turn off for images whose left and right differ in meaning (text, digits, …)"));
  form->addRow(tr("Flip"), flip_);
  device_ = new QComboBox;
  device_->addItems({"auto", "cpu", "cuda"});
  device_->setToolTip(tr("Without a GPU the job runs on the CPU (with a warning)"));
  form->addRow(tr("Device"), device_);
  form->addRow(tr("Diagnostics every"), diagnostics_every_);
  add_ = new QPushButton(tr("Add to Queue"));
  form->addRow(add_);
  auto update_mode_fields = [this] {
    const QString mode = mode_->currentText();
    // The fields left at their default show what that default is for this mode.
    const auto defaults = runtime::finetune_defaults(mode.toStdString());
    lr_->setPlaceholderText(tr("default %1").arg(defaults.lr));
    layer_decay_->setSpecialValueText(tr("default (%1)").arg(defaults.layer_decay));
    crop_scale_->setSpecialValueText(tr("default (%1)").arg(defaults.crop_scale));
    lambda_->setEnabled(mode == QLatin1String("pretrain-hybrid"));
    crop_scale_->setEnabled(defaults.needs_labels);
    flip_->setEnabled(defaults.needs_labels);
    layer_decay_->setEnabled(mode != QLatin1String("linear-probe"));  // a probe trains only its head
  };
  connect(mode_, &QComboBox::currentTextChanged, this, update_mode_fields);
  update_mode_fields();
  auto update_add = [this] { add_->setEnabled(base_->count() > 0 && !data_->text().trimmed().isEmpty()); };
  connect(data_, &QLineEdit::textChanged, this, update_add);
  connect(&shelf_, &QAbstractItemModel::rowsInserted, this, update_add);
  connect(&shelf_, &QAbstractItemModel::rowsRemoved, this, update_add);
  update_add();
  connect(add_, &QPushButton::clicked, this, [this] { queue_.enqueue(specFromForm()); });
  return box;
}

QWidget* FineTunePanel::createQueue() {
  auto* box = new QGroupBox(tr("Jobs"));
  auto* layout = new QVBoxLayout(box);
  list_ = new QListView;
  list_->setModel(&queue_);
  list_->setMaximumHeight(120);  // about six jobs; more scroll
  layout->addWidget(list_, 1);
  auto* buttons = new QHBoxLayout;
  pause_ = new QPushButton(tr("Pause"));
  resume_ = new QPushButton(tr("Resume"));
  cancel_ = new QPushButton(tr("Cancel"));
  remove_ = new QPushButton(tr("Remove"));
  remove_->setToolTip(tr("Remove the ended job from the list with its checkpoints; the model it made stays (Delete)"));
  clear_ = new QPushButton(tr("Clear Ended"));
  clear_->setToolTip(tr("Remove every finished, failed or cancelled job from the list; their models stay"));
  for (auto* b : {pause_, resume_, cancel_}) buttons->addWidget(b);
  layout->addLayout(buttons);
  auto* list_buttons = new QHBoxLayout;  // what acts on the list, apart from what acts on a run
  export_ = new QPushButton(tr("Export…"));
  export_->setToolTip(tr("Save the selected job's curves and diagnostics as a figure (PNG, SVG, PDF) or numbers (CSV, JSON)"));
  list_buttons->addWidget(export_);
  list_buttons->addStretch(1);
  list_buttons->addWidget(remove_);
  list_buttons->addWidget(clear_);
  layout->addLayout(list_buttons);
  status_ = new QLabel;
  status_->setWordWrap(true);
  layout->addWidget(status_);
  connect(pause_, &QPushButton::clicked, this, [this] { queue_.pause(selectedRow()); });
  connect(resume_, &QPushButton::clicked, this, [this] {
    const int row = selectedRow();
    if (row < 0) return;
    if (queue_.job(row).state == FineTuneQueue::State::Failed) queue_.retry(row);
    else queue_.resume(row);
  });
  connect(cancel_, &QPushButton::clicked, this, [this] { queue_.cancel(selectedRow()); });
  connect(remove_, &QPushButton::clicked, this, [this] { queue_.remove(selectedRow()); });
  connect(export_, &QPushButton::clicked, this, &FineTunePanel::exportDialog);
  connect(clear_, &QPushButton::clicked, this, [this] { queue_.removeEnded(); });
  auto* remove_key = new QShortcut(QKeySequence::Delete, list_, nullptr, nullptr, Qt::WidgetShortcut);
  connect(remove_key, &QShortcut::activated, remove_, &QPushButton::click);
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] {
    refreshButtons();
    refreshPlots();
  });
  return box;
}

QWidget* FineTunePanel::createPlots() {
  auto* w = new QWidget;
  auto* grid = new QGridLayout(w);
  loss_ = small_plot(tr("Loss"), tr("step"), tr("loss"));
  lr_plot_ = small_plot(tr("Learning rate"), tr("step"), tr("lr"));
  throughput_ = small_plot(tr("Throughput"), tr("step"), tr("images / s"));
  accuracy_ = small_plot(tr("Validation accuracy"), tr("epoch"), tr("top-1"));
  for (auto* p : {loss_, lr_plot_, throughput_}) p->setIntegerXTicks(false);
  accuracy_->setPreferredYRange(0.0, 1.0);
  distance_ = small_plot(tr("Mean attention distance"), tr("block"), tr("pixels"));
  nmi_ = small_plot(tr("NMI"), tr("block"), tr("NMI"));
  spectrum_ = small_plot(tr("ΔLog amplitude"), tr("depth"), tr("ΔLog amplitude"));
  for (auto* p : {distance_, nmi_, spectrum_}) p->legend->setVisible(true);
  attention_ = new HeatmapView(200);
  attention_->setValueName(tr("attention"));
  attention_->setToolTip(tr("CLS attention of the last block on the first probe image, at the latest snapshot"));
  grid->addWidget(loss_, 0, 0);
  grid->addWidget(lr_plot_, 0, 1);
  grid->addWidget(throughput_, 0, 2);
  grid->addWidget(accuracy_, 0, 3);
  grid->addWidget(distance_, 1, 0);
  grid->addWidget(nmi_, 1, 1);
  grid->addWidget(spectrum_, 1, 2);
  auto* overlay = new QGroupBox(tr("CLS attention, last block"));
  auto* overlay_layout = new QVBoxLayout(overlay);
  overlay_layout->addWidget(attention_, 0, Qt::AlignCenter);
  grid->addWidget(overlay, 1, 3);
  return w;
}

runtime::FineTuneSpec FineTunePanel::specFromForm() const {
  runtime::FineTuneSpec s;
  s.base_model = base_->currentData(ModelShelfModel::PathRole).toString().toStdString();
  s.data = data_->text().trimmed().toStdString();
  s.val_data = val_->text().trimmed().toStdString();
  s.val_split = val_split_->value();
  s.mode = mode_->currentText().toStdString();
  s.lambda = lambda_->value();
  s.epochs = epochs_->value();
  s.batch_size = batch_->value();
  bool ok = false;
  const double lr = lr_->text().toDouble(&ok);
  s.lr = ok && lr > 0 ? lr : 0.0;
  s.layer_decay = layer_decay_->value();
  s.crop_scale = crop_scale_->value();
  s.flip = flip_->isChecked();
  s.image_size = image_size_->value();
  s.device = device_->currentText().toStdString();
  s.diagnostics_every = diagnostics_every_->value();
  s.log_every = 5;  // each report waits for the device: not every step
  return s;
}

void FineTunePanel::setDataFolder(const QString& path) { data_->setText(path); }
void FineTunePanel::setMode(const QString& mode) { mode_->setCurrentText(mode); }
void FineTunePanel::setEpochs(int epochs) { epochs_->setValue(epochs); }
void FineTunePanel::setBatchSize(int batch) { batch_->setValue(batch); }
void FineTunePanel::setDiagnosticsEvery(int steps) { diagnostics_every_->setValue(steps); }

void FineTunePanel::setBaseModel(const QString& path) {
  const int row = base_->findData(path, ModelShelfModel::PathRole);
  if (row >= 0) base_->setCurrentIndex(row);
}

int FineTunePanel::selectedRow() const { return list_->currentIndex().isValid() ? list_->currentIndex().row() : -1; }

void FineTunePanel::selectRow(int row) { list_->setCurrentIndex(queue_.index(row)); }

void FineTunePanel::refreshButtons() {
  const int row = selectedRow();
  const auto state = row >= 0 ? queue_.job(row).state : FineTuneQueue::State::Finished;
  using S = FineTuneQueue::State;
  pause_->setEnabled(state == S::Running);
  resume_->setText(row >= 0 && state == S::Failed ? tr("Retry") : tr("Resume"));
  resume_->setToolTip(row >= 0 && state == S::Failed ? tr("Queue the failed job again; it continues from its last checkpoint")
                                                     : QString());
  resume_->setEnabled(row >= 0 && (state == S::Paused || state == S::Failed));
  cancel_->setEnabled(row >= 0 && (state == S::Running || state == S::Paused || state == S::Queued));
  remove_->setEnabled(row >= 0 && FineTuneQueue::hasEnded(state));
  export_->setEnabled(row >= 0);
  bool any_ended = false;
  for (int r = 0; r < queue_.rowCount(); ++r) any_ended = any_ended || FineTuneQueue::hasEnded(queue_.job(r).state);
  clear_->setEnabled(any_ended);
  status_->setText(row >= 0 ? queue_.job(row).message : QString());
}

void FineTunePanel::refreshPlots() {
  const int row = selectedRow();
  plots_or_empty_->setCurrentIndex(row < 0 ? 0 : 1);
  if (row < 0) return;
  const auto& c = queue_.job(row).curves;
  const QColor line(40, 90, 170);
  loss_->setSeries({{tr("loss"), line, c.step, c.loss}});
  lr_plot_->setSeries({{tr("lr"), line, c.step, c.lr}});
  throughput_->setSeries({{tr("images/s"), line, c.step, c.images_per_second}});
  accuracy_->setSeries({{tr("val top-1"), line, c.epoch, c.val_top1}});
  for (auto* p : {loss_, lr_plot_, throughput_, accuracy_}) p->legend->setVisible(false);

  QVector<PlotSeries> distance, nmi, spectrum;
  const auto picked = spread_indices(c.diagnostics.size(), kMaxSnapshots);
  for (int k = 0; k < picked.size(); ++k) {
    const auto& d = c.diagnostics[picked[k]];
    const QString name = tr("step %1").arg(d.step);
    const QColor color = snapshot_color(k, picked.size());
    distance << make_series(name, color, d.attention_distance, 1);
    nmi << make_series(name, color, d.nmi, 1);
    spectrum << make_series(name, color, values_per_depth(d.delta_log_amplitude), 0);
  }
  distance_->setSeries(distance);
  nmi_->setSeries(nmi);
  spectrum_->setSeries(spectrum);
  if (!c.diagnostics.isEmpty()) {
    const auto& latest = c.diagnostics.back();
    attention_->setImage(rgb_to_image(latest.probe_image));
    attention_->setGrid(latest.cls_attention, Colormap::Inferno, 0.6);
  }
}

bool FineTunePanel::exportJob(int row, const QString& path, int dpi, QString* error) {
  if (row < 0 || row >= queue_.rowCount()) {
    if (error) *error = tr("no job selected");
    return false;
  }
  const auto& job = queue_.job(row);
  const QString name = QString::fromStdString(job.spec.name);
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "csv" || suffix == "json") return save_panel_data({curves_to_json(name, job.curves)}, path, error);
  const auto format = figure_format_for(path);
  if (!format) {
    if (error) *error = tr("unknown file type \".%1\" (use .png, .svg, .pdf, .csv or .json)").arg(suffix);
    return false;
  }
  if (row != selectedRow()) selectRow(row);  // the plots show the selected job (selecting redraws them)
  const auto& s = job.spec;
  const QString caption =
      tr("<b>%1</b> — %2 from %3 on %4; %5 epochs, batch %6, step %7 of %8 (%9)")
          .arg(name.toHtmlEscaped(), QString::fromStdString(s.mode),
               QFileInfo(QString::fromStdString(s.base_model)).fileName().toHtmlEscaped(),
               QString::fromStdString(s.data).toHtmlEscaped())
          .arg(s.epochs)
          .arg(s.batch_size)
          .arg(job.step)
          .arg(job.total_steps)
          .arg(FineTuneQueue::stateName(job.state));
  return save_figure({FigureSection{caption, plots_}}, path, *format, dpi, error);
}

void FineTunePanel::exportDialog() {
  const int row = selectedRow();
  if (row < 0) return;
  QString base = QString::fromStdString(queue_.job(row).spec.name);
  base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-"));
  const QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export Fine-tuning Curves"), QDir(pictures).filePath(base + ".png"),
      tr("PNG image (*.png);;SVG vector figure (*.svg);;PDF vector figure (*.pdf);;CSV numbers (*.csv);;JSON numbers (*.json)"));
  if (path.isEmpty()) return;
  QString error;
  if (!exportJob(row, path, 192, &error)) QMessageBox::warning(this, tr("Export failed"), error);
}

}  // namespace vitscope::ui

