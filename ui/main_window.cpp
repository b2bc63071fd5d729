#include "ui/main_window.h"

#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QStandardPaths>
#include <QScreen>
#include <QStatusBar>
#include <QThread>
#include <QToolBar>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/export/cli_command.h"
#include "ui/export/data_export.h"
#include "ui/export/figure_renderer.h"
#include "ui/gallery/image_gallery_view.h"
#include "ui/jobs/job_status_widget.h"
#include "ui/resource_paths.h"
#include "ui/shelf/model_shelf_view.h"
#include "ui/workspace/probes_panel.h"

namespace vitscope::ui {

namespace {

constexpr int kRecentImages = 10;
constexpr int kDefaultDpi = 300;

// The engine's messages start with the file's path; the window names the file already.
QString without_path(const QString& message, const QString& path) {
  const QString prefix = path + QStringLiteral(": ");
  return message.startsWith(prefix) ? message.mid(prefix.size()) : message;
}

bool is_checkpoint(const QString& path) {
  const QFileInfo fi(path);
  if (fi.isDir()) return QFileInfo::exists(path + "/config.json");  // a Hugging Face model folder
  static const QStringList suffixes{"safetensors", "pth", "pt", "bin", "ckpt", "tar"};
  return suffixes.contains(fi.suffix().toLower());
}

// Bundled models in a teaching order: CL first, then hybrids, then MIM (objective from the card).
QStringList bundled_checkpoints() {
  const QString dir = resource_dir(QStringLiteral("models"));
  if (dir.isEmpty()) return {};
  QStringList files = QDir(dir).entryList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name);
  auto rank = [&](const QString& file) {
    QFile card(QDir(dir).filePath(QFileInfo(file).completeBaseName() + ".json"));
    const QString objective = card.open(QIODevice::ReadOnly)
                                  ? QJsonDocument::fromJson(card.readAll()).object().value("objective").toString()
                                  : QString();
    return objective == "CL" ? 0 : objective == "hybrid" ? 1 : objective == "MIM" ? 2 : 3;
  };
  std::stable_sort(files.begin(), files.end(), [&](const QString& a, const QString& b) { return rank(a) < rank(b); });
  for (auto& f : files) f = QDir(dir).filePath(f);
  return files;
}

// Models run side by side, one job per core (up to 4), each forward with its share of the
// cores: small models gain more from running in parallel than from threads inside one forward.
int worker_count() { return std::clamp(QThread::idealThreadCount(), 1, 4); }

}  // namespace

MainWindow::MainWindow(runtime::Explorer& explorer, QWidget* parent)
    : QMainWindow(parent),
      explorer_(explorer),
      jobs_(worker_count()),
      shelf_(explorer, jobs_),
      gallery_(explorer, jobs_),
      comparison_(explorer, state_, jobs_),
      director_(shelf_, gallery_, state_) {
  explorer_.set_cpu_threads(std::max(1, QThread::idealThreadCount() / worker_count()));
  setWindowTitle(tr("ViTScope"));
  setAcceptDrops(true);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);

  messages_ = new MessageBar;
  workspace_ = new WorkspaceView(comparison_);
  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(messages_);
  layout->addWidget(workspace_, 1);
  setCentralWidget(central);

  createActions();
  createMenusAndToolbar();
  createDocks();
  createStatusBar();
  createTrainingDock();

  connect(&shelf_, &ModelShelfModel::columnsChanged, this, [this] { comparison_.setColumns(shelf_.loadedColumns()); });
  connect(&shelf_, &ModelShelfModel::loadFailed, this, [this](const QString& path, const QString& message) {
    messages_->showMessage(MessageBar::Level::Error, tr("Could not load the model %1: %2").arg(QFileInfo(path).fileName(), without_path(message, path)));
  });
  connect(&shelf_, &ModelShelfModel::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(&gallery_, &ImageGalleryModel::imageToShow, &state_, &AppState::setImage);
  connect(&gallery_, &ImageGalleryModel::loadFailed, this, [this](const QString& path, const QString& message) {
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("%1 is not an image ViTScope can read: %2").arg(QFileInfo(path).fileName(), without_path(message, path)));
  });
  auto* probes = static_cast<ProbesPanel*>(workspace_->panel(Panel::Probes));
  connect(probes, &ProbesPanel::cueConflictImageFailed, this, [this](const QString& error) {
    messages_->showMessage(MessageBar::Level::Error, tr("Could not make the cue-conflict image: %1").arg(error));
  });
  connect(probes, &ProbesPanel::cueConflictImageMade, this,
          [this](const QImage& image, const QString& name) {
            const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/cue-conflict";
            QDir().mkpath(dir);
            const QString path = QDir(dir).filePath(name + ".png");
            if (!image.save(path)) return messages_->showMessage(MessageBar::Level::Error, tr("Could not save %1").arg(path));
            gallery_.addPaths({path}, true);
          });
  connect(&state_, &AppState::imageChanged, this, [this] {
    setWindowTitle(state_.imageName().isEmpty() ? tr("ViTScope") : tr("%1 — ViTScope").arg(state_.imageName()));
  });
  restoreSettings();
  reloadLessons();
}

MainWindow::~MainWindow() { jobs_.shutdown(); }

// ---------------------------------------------------------------------------------------------
// Actions, menus, docks, status bar

void MainWindow::createActions() {
  auto make = [this](const QString& text, const QKeySequence& key, const QString& tip, auto slot) {
    auto* a = new QAction(text, this);
    if (!key.isEmpty()) a->setShortcut(key);
    a->setToolTip(tip);
    a->setStatusTip(tip);
    connect(a, &QAction::triggered, this, slot);
    return a;
  };
  open_images_ = make(tr("&Open Images…"), QKeySequence::Open, tr("Add image files to the gallery"),
                      &MainWindow::openImagesDialog);
  open_folder_ = make(tr("Open Image &Folder…"), QKeySequence(), tr("Add every image of a folder to the gallery"),
                      &MainWindow::openImageFolderDialog);
  add_checkpoint_ = make(tr("Add &Model Checkpoint…"), QKeySequence(tr("Ctrl+Shift+O")),
                         tr("Load a checkpoint (.safetensors, .pth, .bin …) as a new column"),
                         &MainWindow::addCheckpointDialog);
  add_folder_ = make(tr("Add &Hugging Face Model Folder…"), QKeySequence(),
                     tr("Load a folder with config.json and model weights"), &MainWindow::addHuggingFaceFolderDialog);
  paste_ = make(tr("&Paste Image"), QKeySequence::Paste, tr("Add the picture on the clipboard to the gallery"),
                &MainWindow::pasteImage);
  export_panel_ = make(tr("&Export Panel…"), QKeySequence(tr("Ctrl+E")),
                       tr("Save the current panel as PNG, SVG or PDF, or its numbers as CSV or JSON"),
                       [this] { exportDialog({workspace_->currentPanel()}, workspace_->currentPanel()->title()); });
  export_all_ = make(tr("Export &Comparison…"), QKeySequence(tr("Ctrl+Shift+E")),
                     tr("Save all panels as one figure, or all their numbers"),
                     [this] { exportDialog(workspace_->panels(), tr("comparison")); });
  copy_command_ = make(tr("Copy &Command"), QKeySequence(tr("Ctrl+Shift+C")),
                       tr("Copy the vitscope-cli command that computes the current panel's numbers"),
                       &MainWindow::copyCommand);
  quit_ = make(tr("&Quit"), QKeySequence::Quit, tr("Quit ViTScope"), &QWidget::close);
  open_session_ = make(tr("Open &Session…"), QKeySequence(tr("Ctrl+Shift+S")),
                       tr("Restore models, images, controls and layout from a session file"), &MainWindow::openSessionDialog);
  save_session_ = make(tr("&Save Session As…"), QKeySequence::Save,
                       tr("Save models (path and SHA-256), images, controls and layout to a session file"),
                       &MainWindow::saveSessionDialog);
  presentation_ = make(tr("&Presentation Mode"), QKeySequence(tr("Shift+F5")),
                       tr("Full screen, large fonts, thick lines and a high-contrast colormap; arrows step lessons"),
                       [this] { setPresentationMode(!presenting_); });
  presentation_->setCheckable(true);
  next_step_ = make(tr("&Next Step"), QKeySequence(), tr("Next step of the lesson"), [this] { lesson_player_.next(); });
  previous_step_ = make(tr("&Previous Step"), QKeySequence(), tr("Previous step of the lesson"), [this] { lesson_player_.back(); });
}

void MainWindow::createMenusAndToolbar() {
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addActions({open_images_, open_folder_, paste_});
  recent_menu_ = file->addMenu(tr("&Recent Images"));
  file->addSeparator();
  file->addActions({open_session_, save_session_});
  file->addSeparator();
  file->addActions({add_checkpoint_, add_folder_});
  file->addSeparator();
  file->addActions({export_panel_, export_all_, copy_command_});
  file->addSeparator();
  file->addAction(quit_);

  auto* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < kPanelCount; ++i) {
    auto* a = view->addAction(workspace_->panel(static_cast<Panel>(i))->title());
    a->setShortcut(QKeySequence(tr("Ctrl+%1").arg(i + 1)));
    connect(a, &QAction::triggered, this, [this, i] { state_.setPanel(static_cast<Panel>(i)); });
  }
  view->addSeparator();
  auto step = [&](const QString& text, const QString& key, auto fn) {
    auto* a = view->addAction(text);
    a->setShortcut(QKeySequence(key));
    connect(a, &QAction::triggered, this, fn);
  };
  step(tr("Next Block"), tr("Ctrl+Down"), [this] { state_.stepLayer(1); });
  step(tr("Previous Block"), tr("Ctrl+Up"), [this] { state_.stepLayer(-1); });
  step(tr("Next Head"), tr("Ctrl+Right"), [this] { state_.stepHead(1); });
  step(tr("Previous Head"), tr("Ctrl+Left"), [this] { state_.stepHead(-1); });
  step(tr("Query CLS Token"), tr("Ctrl+L"), [this] { state_.setQueryCls(!state_.query().cls); });
  step(tr("Analyse Again"), tr("F5"), [this] { comparison_.recompute(); });
  view->addSeparator();
  auto* full = view->addAction(tr("Full Screen"));
  full->setShortcut(QKeySequence::FullScreen);
  connect(full, &QAction::triggered, this, [this] { isFullScreen() ? showNormal() : showFullScreen(); });
  view->addAction(presentation_);

  auto* models = menuBar()->addMenu(tr("&Models"));
  models->addActions({add_checkpoint_, add_folder_});
  auto* bundled = models->addAction(tr("Load &Bundled Models"));
  bundled->setToolTip(tr("Add the models that ship with ViTScope"));
  connect(bundled, &QAction::triggered, this, [this] {
    for (const auto& path : bundled_checkpoints())
      if (!shelf_.savedPaths().contains(path)) shelf_.addCheckpoint(path);
  });

  createLessonsMenu();

  auto* help = menuBar()->addMenu(tr("&Help"));
  auto* shortcuts = help->addAction(tr("&Keyboard Shortcuts"));
  shortcuts->setShortcut(QKeySequence::HelpContents);
  connect(shortcuts, &QAction::triggered, this, &MainWindow::showShortcuts);
  connect(help->addAction(tr("&About ViTScope")), &QAction::triggered, this, &MainWindow::showAbout);
  connect(help->addAction(tr("About &Qt")), &QAction::triggered, qApp, &QApplication::aboutQt);

  auto* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("main-toolbar"));
  bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  bar->addActions({open_images_, add_checkpoint_});
  bar->addSeparator();
  auto* device_label = new QLabel(tr(" Device "));
  device_box_ = new QComboBox;
  device_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  device_box_->setToolTip(tr("Where the models run. Changing it analyses the image again."));
  device_label->setBuddy(device_box_);
  bar->addWidget(device_label);
  bar->addWidget(device_box_);
  bar->addSeparator();
  bar->addActions({export_panel_, export_all_, copy_command_});
  connect(device_box_, &QComboBox::activated, this,
          [this](int i) { setDevice(device_box_->itemData(i).toString()); });
}

void MainWindow::createDocks() {
  auto* shelf_dock = new QDockWidget(tr("Models"), this);
  shelf_dock->setObjectName(QStringLiteral("models-dock"));
  shelf_dock->setWidget(new ModelShelfView(shelf_, add_checkpoint_, add_folder_));
  addDockWidget(Qt::LeftDockWidgetArea, shelf_dock);
  auto* gallery_dock = new QDockWidget(tr("Images"), this);
  gallery_dock->setObjectName(QStringLiteral("images-dock"));
  gallery_dock->setWidget(new ImageGalleryView(gallery_, state_, {open_images_, paste_}));
  addDockWidget(Qt::LeftDockWidgetArea, gallery_dock);
  resizeDocks({shelf_dock, gallery_dock}, {300, 300}, Qt::Horizontal);
}

void MainWindow::createStatusBar() {
  statusBar()->addPermanentWidget(new JobStatusWidget(jobs_));
  device_label_ = new QLabel;
  memory_label_ = new QLabel;
  memory_label_->setToolTip(tr("Memory used by ViTScope (and by the GPU when it runs there)"));
  statusBar()->addPermanentWidget(device_label_);
  statusBar()->addPermanentWidget(memory_label_);
  refreshDeviceBox();
  auto update_memory = [this] { memory_label_->setText(QString::fromStdString(explorer_.memory_summary())); };
  connect(&memory_timer_, &QTimer::timeout, this, update_memory);
  memory_timer_.start(2000);
  update_memory();
}

// ---------------------------------------------------------------------------------------------
// Settings and startup

void MainWindow::restoreSettings() {
  restoreGeometry(settings_.value("window/geometry").toByteArray());
  restoreState(settings_.value("window/state").toByteArray());
  if (settings_.value("window/geometry").isNull() && screen())  // first launch: most of the screen
    resize(screen()->availableSize() * 0.9);
  state_.setPanel(static_cast<Panel>(std::clamp(settings_.value("view/panel", 0).toInt(), 0, kPanelCount - 1)));
  rebuildRecentMenu();
  const QString device = settings_.value("engine/device").toString();
  if (!device.isEmpty() && device != QString::fromStdString(explorer_.device())) setDevice(device);
}

void MainWindow::saveSettings() {
  settings_.setValue("window/geometry", saveGeometry());
  settings_.setValue("window/state", saveState());
  settings_.setValue("view/panel", static_cast<int>(state_.panel()));
  settings_.setValue("engine/device", QString::fromStdString(explorer_.device()));
}

void MainWindow::loadStartupContent() {
  // A broken autosave is reported by openSession; the window then starts as on first launch.
  if (QFileInfo::exists(autosavePath()) && openSession(autosavePath())) return;
  const QStringList bundled = bundled_checkpoints();
  if (bundled.isEmpty())
    messages_->showMessage(MessageBar::Level::Info,
                           tr("No bundled models were found. Add a checkpoint with File ▸ Add Model Checkpoint… or "
                              "drop one on the window."));
  for (const auto& path : bundled) shelf_.addCheckpoint(path);
  // Photos first (the first one is shown), the project's drawn test patterns last.
  const QString samples = resource_dir(QStringLiteral("samples"));
  if (samples.isEmpty()) return;
  QStringList folders;
  for (const auto& f : QDir(samples).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    f == QLatin1String("generated") ? folders.append(QDir(samples).filePath(f)) : folders.prepend(QDir(samples).filePath(f));
  gallery_.addPaths(folders.isEmpty() ? QStringList{samples} : folders, true);
}

// ---------------------------------------------------------------------------------------------
// Opening files

void MainWindow::openPaths(const QStringList& paths) {
  QStringList images;
  for (const auto& path : paths) {
    if (QFileInfo(path).suffix() == QLatin1String(kSessionSuffix)) openSession(path);
    else if (is_checkpoint(path)) shelf_.addCheckpoint(QFileInfo(path).absoluteFilePath());
    else images << path;
  }
  if (images.isEmpty()) return;
  gallery_.addPaths(images, true);
  rememberRecentImages(images);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls() || e->mimeData()->hasImage()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  QStringList paths;
  for (const auto& url : e->mimeData()->urls())
    if (url.isLocalFile()) paths << url.toLocalFile();
  if (!paths.isEmpty()) openPaths(paths);
  else if (e->mimeData()->hasImage())
    gallery_.addPastedImage(qvariant_cast<QImage>(e->mimeData()->imageData()),
                            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/pasted");
  else
    messages_->showMessage(MessageBar::Level::Warning, tr("Only local files and pictures can be dropped here."));
  e->acceptProposedAction();
}

void MainWindow::openImagesDialog() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Open Images"), settings_.value("dialogs/images").toString(),
      tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif);;All files (*)"));
  if (files.isEmpty()) return;
  settings_.setValue("dialogs/images", QFileInfo(files.first()).absolutePath());
  openPaths(files);
}

void MainWindow::openImageFolderDialog() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Image Folder"), settings_.value("dialogs/images").toString());
  if (dir.isEmpty()) return;
  settings_.setValue("dialogs/images", dir);
  gallery_.addPaths({dir}, true);
  rememberRecentImages({dir});
}

void MainWindow::addCheckpointDialog() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Add Model Checkpoints"), settings_.value("dialogs/models").toString(),
      tr("Checkpoints (*.safetensors *.pth *.pt *.bin *.ckpt *.tar);;All files (*)"));
  if (files.isEmpty()) return;
  settings_.setValue("dialogs/models", QFileInfo(files.first()).absolutePath());
  for (const auto& f : files) shelf_.addCheckpoint(f);
}

void MainWindow::addHuggingFaceFolderDialog() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Add Hugging Face Model Folder"),
                                                        settings_.value("dialogs/models").toString());
  if (dir.isEmpty()) return;
  settings_.setValue("dialogs/models", dir);
  shelf_.addCheckpoint(dir);
}

void MainWindow::pasteImage() {
  const QMimeData* mime = QApplication::clipboard()->mimeData();
  if (mime && mime->hasImage()) {
    gallery_.addPastedImage(qvariant_cast<QImage>(mime->imageData()),
                            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/pasted");
  } else if (mime && mime->hasUrls()) {
    QStringList paths;
    for (const auto& url : mime->urls())
      if (url.isLocalFile()) paths << url.toLocalFile();
    openPaths(paths);
  } else {
    messages_->showMessage(MessageBar::Level::Info, tr("The clipboard holds no picture or image file."));
  }
}

void MainWindow::rememberRecentImages(const QStringList& paths) {
  QStringList recent = settings_.value("images/recent").toStringList();
  for (const auto& p : paths) {
    const QString abs = QFileInfo(p).absoluteFilePath();
    recent.removeAll(abs);
    recent.prepend(abs);
  }
  while (recent.size() > kRecentImages) recent.removeLast();
  settings_.setValue("images/recent", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = settings_.value("images/recent").toStringList();
  for (const auto& path : recent)
    connect(recent_menu_->addAction(QFileInfo(path).fileName()), &QAction::triggered, this,
            [this, path] { openPaths({path}); });
  if (recent.isEmpty()) recent_menu_->addAction(tr("(none)"))->setEnabled(false);
  else {
    recent_menu_->addSeparator();
    connect(recent_menu_->addAction(tr("Clear")), &QAction::triggered, this, [this] {
      settings_.remove("images/recent");
      rebuildRecentMenu();
    });
  }
}

void MainWindow::onModelLoaded(const runtime::ModelInfo& info) {
  for (const auto& c : shelf_.loadedColumns()) {
    if (c.info.id == info.id || c.info.image_size == info.image_size) continue;
    messages_->showMessage(
        MessageBar::Level::Info,
        tr("%1 takes %2×%2-pixel images (%3×%3 patches), %4 takes %5×%5 (%6×%6). Each column shows the image at its "
           "model's own size and grid; the query patch and painted masks are shared by position in the image.")
            .arg(QString::fromStdString(info.name))
            .arg(info.image_size)
            .arg(info.grid)
            .arg(c.name())
            .arg(c.info.image_size)
            .arg(c.info.grid));
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// Export

bool MainWindow::exportPanels(const QList<ComparisonPanel*>& panels, const QString& path, int dpi, QString* error) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "csv" || suffix == "json") {
    QList<QJsonObject> data;
    for (auto* p : panels) data << p->data();
    return save_panel_data(data, path, error);
  }
  const auto format = figure_format_for(path);
  if (!format) {
    if (error) *error = tr("unknown file type \".%1\" (use .png, .svg, .pdf, .csv or .json)").arg(suffix);
    return false;
  }
  QList<FigureSection> sections;
  for (auto* p : panels) sections << p->figure();
  if (sections.size() > 1) {  // name the panels in a stacked figure
    for (int i = 0; i < sections.size(); ++i)
      sections[i].caption = QStringLiteral("<h3>%1</h3>").arg(panels[i]->title()) + sections[i].caption;
  }
  return save_figure(sections, path, *format, dpi, error);
}

void MainWindow::exportDialog(const QList<ComparisonPanel*>& panels, const QString& what) {
  QString base = what.toLower();
  if (!state_.imageName().isEmpty()) base += "-" + QFileInfo(state_.imageName()).completeBaseName();
  const QString dir = settings_.value("export/dir", QStandardPaths::writableLocation(QStandardPaths::PicturesLocation)).toString();
  QString filter = settings_.value("export/filter").toString();
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export %1").arg(what), QDir(dir).filePath(base + ".png"),
      tr("PNG image (*.png);;SVG vector figure (*.svg);;PDF vector figure (*.pdf);;CSV numbers (*.csv);;JSON numbers (*.json)"),
      &filter);
  if (path.isEmpty()) return;
  settings_.setValue("export/dir", QFileInfo(path).absolutePath());
  settings_.setValue("export/filter", filter);
  int dpi = settings_.value("export/dpi", kDefaultDpi).toInt();
  if (figure_format_for(path) == FigureFormat::Png) {
    bool ok = false;
    dpi = QInputDialog::getInt(this, tr("PNG Resolution"), tr("Dots per inch (96 = as on screen):"), dpi, 48, 1200, 1, &ok);
    if (!ok) return;
    settings_.setValue("export/dpi", dpi);
  }
  QString error;
  if (exportPanels(panels, path, dpi, &error)) statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  else messages_->showMessage(MessageBar::Level::Error, tr("Export failed: %1").arg(error));
}

QString MainWindow::currentImagePath() const {
  const int row = gallery_.rowOfImage(state_.imageId());
  return row >= 0 ? gallery_.index(row).data(ImageGalleryModel::PathRole).toString() : QString();
}

QString MainWindow::cliCommand(const QList<ComparisonPanel*>& panels) const {
  QStringList models, metrics;
  for (const auto& c : comparison_.columns()) models << QString::fromStdString(c.info.path);
  const QString path = currentImagePath();
  const QString image = path.isEmpty() ? QStringLiteral("IMAGE") : path;
  if (panels.size() == 1) return panels.first()->cliCommand(models, image);
  for (auto* p : panels)
    for (const auto& m : p->cliMetrics())
      if (!metrics.contains(m)) metrics << m;
  return cli_command(models, image, metrics, QStringLiteral("vitscope-comparison"));
}

void MainWindow::copyCommand() {
  const QString command = cliCommand({workspace_->currentPanel()});
  if (command.isEmpty())
    return messages_->showMessage(MessageBar::Level::Info,
                                  tr("The %1 view has no vitscope-cli command yet; the other panels have one.")
                                      .arg(workspace_->currentPanel()->title()));
  QApplication::clipboard()->setText(command);
  statusBar()->showMessage(tr("Copied: %1").arg(command), 8000);
}

// ---------------------------------------------------------------------------------------------
// Device

void MainWindow::refreshDeviceBox() {
  device_box_->clear();
  bool cuda = false;
  for (const auto& d : explorer_.available_devices()) {
    const QString id = QString::fromStdString(d);
    cuda |= id.startsWith("cuda");
    device_box_->addItem(id == "cpu" ? tr("CPU") : id.toUpper(), id);
  }
  if (!cuda) {
    device_box_->addItem(tr("CUDA (not available)"), QStringLiteral("cuda"));
    device_box_->setItemData(device_box_->count() - 1, tr("No CUDA device or no CUDA build of LibTorch was found."),
                             Qt::ToolTipRole);
  }
  const int current = device_box_->findData(QString::fromStdString(explorer_.device()));
  device_box_->setCurrentIndex(std::max(0, current));
  if (device_label_) device_label_->setText(QString::fromStdString(explorer_.device_description()));
}

void MainWindow::setDevice(const QString& request) {
  const std::string r = request.toStdString();
  jobs_.run<std::string>(
      tr("Moving the models to %1").arg(request), this,
      [this, r](const runtime::CancelToken&) { return explorer_.set_device(r); },
      [this](std::string warning) {
        if (!warning.empty()) messages_->showMessage(MessageBar::Level::Warning, QString::fromStdString(warning));
        refreshDeviceBox();
        shelf_.refreshSummaries();
        comparison_.recompute();
      },
      [this](const QString& error) {
        if (!error.isEmpty()) messages_->showMessage(MessageBar::Level::Error, tr("Could not change the device: %1").arg(error));
        refreshDeviceBox();
      });
}

// ---------------------------------------------------------------------------------------------
// Help

void MainWindow::showAbout() {
  QMessageBox::about(
      this, tr("About ViTScope"),
      tr("<h3>ViTScope %1</h3>"
         "<p>See what self-supervised Vision Transformers learn: contrastive (CL), masked-image-modeling (MIM) and "
         "hybrid models side by side.</p>"
         "<p>The analyses follow Namuk Park, Wonjae Kim, Byeongho Heo, Taekyung Kim and Sangdoo Yun, "
         "<i>What Do Self-Supervised Vision Transformers Learn?</i>, ICLR 2023.</p>"
         "<p><b>Data.</b> The bundled models were trained on CIFAR-10 (Alex Krizhevsky, <i>Learning Multiple Layers of "
         "Features from Tiny Images</i>, 2009). Cue-conflict stimuli: Robert Geirhos et al., <i>ImageNet-trained CNNs are "
         "biased towards texture</i>, ICLR 2019 (CC BY 4.0). Sample photos: scikit-image data images (CC0 / public "
         "domain).</p>"
         "<p>Built with Qt, LibTorch and QCustomPlot.</p>")
          .arg(QCoreApplication::applicationVersion()));
}

void MainWindow::showShortcuts() {
  QMessageBox::information(
      this, tr("Keyboard Shortcuts"),
      tr("<table cellpadding=3>"
         "<tr><td><b>Ctrl+Up / Ctrl+Down</b></td><td>previous / next block</td></tr>"
         "<tr><td><b>Ctrl+Left / Ctrl+Right</b></td><td>previous / next head (and the mean)</td></tr>"
         "<tr><td><b>Arrow keys</b> on an attention map</td><td>move the query patch</td></tr>"
         "<tr><td><b>Ctrl+L</b></td><td>query the CLS token</td></tr>"
         "<tr><td><b>Ctrl+1 … Ctrl+4</b></td><td>Attention, Reconstruction, Spectrum, Representation</td></tr>"
         "<tr><td><b>Ctrl+O</b> / <b>Ctrl+V</b></td><td>open / paste images</td></tr>"
         "<tr><td><b>Ctrl+Shift+O</b></td><td>add a model checkpoint</td></tr>"
         "<tr><td><b>Ctrl+E</b> / <b>Ctrl+Shift+E</b></td><td>export the panel / the whole comparison</td></tr>"
         "<tr><td><b>Ctrl+Shift+C</b></td><td>copy the vitscope-cli command</td></tr>"
         "<tr><td><b>Ctrl+S</b> / <b>Ctrl+Shift+S</b></td><td>save / open a session</td></tr>"
         "<tr><td><b>Page Down / Page Up</b></td><td>next / previous lesson step (also Right / Left in presentation "
         "mode)</td></tr>"
         "<tr><td><b>Shift+F5</b></td><td>presentation mode</td></tr>"
         "<tr><td><b>F5</b></td><td>analyse again</td></tr><tr><td><b>Esc</b></td><td>cancel running work</td></tr>"
         "</table>"));
}

void MainWindow::closeEvent(QCloseEvent* e) {
  setPresentationMode(false);  // the layout saved is the everyday one
  saveSettings();
  QString error;
  if (!saveSession(autosavePath(), &error)) qWarning("ViTScope: could not autosave the session: %s", qPrintable(error));
  jobs_.cancelAll();
  QMainWindow::closeEvent(e);
}

}  // namespace vitscope::ui
