#pragma once
// The ViTScope window: model shelf and image gallery on the left, the comparison workspace in
// the middle, in-window messages above it, device and memory in the status bar. Owns the
// view-models; widgets only talk to them.
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QSettings>
#include <QTimer>

#include "core/runtime/explorer.h"
#include "ui/app_state.h"
#include "ui/gallery/image_gallery_model.h"
#include "ui/jobs/job_runner.h"
#include "ui/lessons/lesson_player.h"
#include "ui/message_bar.h"
#include "ui/session/session_file.h"
#include "ui/session/workspace_director.h"
#include "ui/shelf/model_shelf_model.h"
#include "ui/training/finetune_panel.h"
#include "ui/training/finetune_queue.h"
#include "ui/workspace/comparison_model.h"
#include "ui/workspace/workspace_view.h"

namespace vitscope::ui {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(runtime::Explorer& explorer, QWidget* parent = nullptr);
  ~MainWindow() override;

  // First launch: the bundled models and the sample images; later: the session autosaved on exit.
  void loadStartupContent();

  // Files dropped, opened or passed on the command line: images and image folders go to the
  // gallery (the first is shown), checkpoints and Hugging Face folders to the shelf, a session
  // file is opened.
  void openPaths(const QStringList& paths);
  // Export without dialogs (the menu actions ask for the file and DPI, then call these).
  // Format from the extension: .png (at `dpi`), .svg, .pdf, .csv, .json.
  bool exportPanels(const QList<ComparisonPanel*>& panels, const QString& path, int dpi, QString* error);
  QString cliCommand(const QList<ComparisonPanel*>& panels) const;

  // Sessions (main_window_sessions.cpp). Opening reports an unreadable file in the message bar
  // (false); files that moved are listed in a MissingFilesDialog first.
  Session currentSession() const;
  bool saveSession(const QString& path, QString* error);
  bool openSession(const QString& path);
  static QString autosavePath();  // in the app data folder (XDG_DATA_HOME)

  // Lessons and presentation mode (main_window_lessons.cpp).
  const QVector<Lesson>& lessons() const { return lessons_; }
  void reloadLessons();  // bundled and user lessons; problems go to the message bar
  void startLesson(const Lesson& lesson);
  void setPresentationMode(bool on);
  bool presentationMode() const { return presenting_; }

  AppState& state() { return state_; }
  ModelShelfModel& shelf() { return shelf_; }
  ImageGalleryModel& gallery() { return gallery_; }
  ComparisonModel& comparison() { return comparison_; }
  WorkspaceDirector& director() { return director_; }
  // Fine-tuning (main_window_training.cpp): the job queue, its panel and the dock that holds it.
  FineTuneQueue& finetune() { return *finetune_; }
  FineTunePanel* finetunePanel() const { return finetune_panel_; }
  QDockWidget* finetuneDock() const { return finetune_dock_; }
  LessonPlayer& lessonPlayer() { return lesson_player_; }
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
  void createTrainingDock();
  void createStatusBar();
  void createLessonsMenu();
  void rebuildLessonsMenu();
  void openLessonDialog();
  void updateStepShortcuts();
  void openSessionDialog();
  void saveSessionDialog();
  void applySession(const Session& session);
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
  WorkspaceDirector director_;
  LessonPlayer lesson_player_;
  QVector<Lesson> lessons_;

  WorkspaceView* workspace_ = nullptr;
  MessageBar* messages_ = nullptr;
  QComboBox* device_box_ = nullptr;
  QLabel* device_label_ = nullptr;
  QLabel* memory_label_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QMenu* lessons_menu_ = nullptr;
  QDockWidget* lesson_dock_ = nullptr;
  bool presenting_ = false;
  bool was_full_screen_ = false;
  QFont normal_font_;
  QTimer memory_timer_;
  FineTuneQueue* finetune_ = nullptr;
  FineTunePanel* finetune_panel_ = nullptr;
  QDockWidget* finetune_dock_ = nullptr;

  QAction *open_images_, *open_folder_, *add_checkpoint_, *add_folder_, *paste_, *export_panel_, *export_all_,
      *copy_command_, *quit_, *open_session_, *save_session_, *presentation_, *next_step_, *previous_step_;
};

}  // namespace vitscope::ui
