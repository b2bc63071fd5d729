#pragma once
// The ViTScope window: model shelf and image gallery on the left, the comparison workspace in
// the middle, in-window messages above it, device and memory in the status bar. Owns the
// view-models; widgets only talk to them.
#include <QComboBox>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QSettings>
#include <QTimer>

#include "core/runtime/explorer.h"
#include "ui/app_state.h"
#include "ui/gallery/image_gallery_model.h"
#include "ui/jobs/job_runner.h"
#include "ui/message_bar.h"
#include "ui/shelf/model_shelf_model.h"
#include "ui/workspace/comparison_model.h"
#include "ui/workspace/workspace_view.h"

namespace vitscope::ui {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(runtime::Explorer& explorer, QWidget* parent = nullptr);
  ~MainWindow() override;

  // First launch: the bundled models and the sample images; later: the last session's shelf.
  void loadStartupContent();

  // Files dropped, opened or passed on the command line: images and image folders go to the
  // gallery (the first is shown), checkpoints and Hugging Face folders to the shelf.
  void openPaths(const QStringList& paths);
  // Export without dialogs (the menu actions ask for the file and DPI, then call these).
  // Format from the extension: .png (at `dpi`), .svg, .pdf, .csv, .json.
  bool exportPanels(const QList<ComparisonPanel*>& panels, const QString& path, int dpi, QString* error);
  QString cliCommand(const QList<ComparisonPanel*>& panels) const;

  AppState& state() { return state_; }
  ModelShelfModel& shelf() { return shelf_; }
  ImageGalleryModel& gallery() { return gallery_; }
  ComparisonModel& comparison() { return comparison_; }
  WorkspaceView* workspace() const { return workspace_; }
  MessageBar* messages() const { return messages_; }
  QComboBox* deviceBox() const { return device_box_; }

 protected:
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;
  void closeEvent(QCloseEvent* e) override;

 private:
  void createActions();
  void createMenusAndToolbar();
  void createDocks();
  void createStatusBar();
  void restoreSettings();
  void saveSettings();

  void openImagesDialog();
  void openImageFolderDialog();
  void addCheckpointDialog();
  void addHuggingFaceFolderDialog();
  void pasteImage();
  void exportDialog(const QList<ComparisonPanel*>& panels, const QString& what);
  void copyCommand();
  void setDevice(const QString& request);
  void refreshDeviceBox();
  void showAbout();
  void showShortcuts();
  void rememberRecentImages(const QStringList& paths);
  void rebuildRecentMenu();
  void onModelLoaded(const runtime::ModelInfo& info);
  QString currentImagePath() const;

  runtime::Explorer& explorer_;
  QSettings settings_;
  AppState state_;
  JobRunner jobs_;
  ModelShelfModel shelf_;
  ImageGalleryModel gallery_;
  ComparisonModel comparison_;

  WorkspaceView* workspace_ = nullptr;
  MessageBar* messages_ = nullptr;
  QComboBox* device_box_ = nullptr;
  QLabel* device_label_ = nullptr;
  QLabel* memory_label_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QTimer memory_timer_;

  QAction *open_images_, *open_folder_, *add_checkpoint_, *add_folder_, *paste_, *export_panel_, *export_all_,
      *copy_command_, *quit_;
};

}  // namespace vitscope::ui
