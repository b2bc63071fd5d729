#pragma once
// Shared set-up of the GUI tests: one QApplication (offscreen) for the binary, real models made
// once per run with `vitscope-cli pretrain` (unless bundled models exist), and a fixture that
// opens the main window as a user would see it on first launch.
#include <QImage>
#include <QString>
#include <QTest>

#include <filesystem>
#include <memory>

#include <gtest/gtest.h>

#include "core/runtime/explorer.h"
#include "ui/main_window.h"

namespace vitscope::test {

// The folder with the models the app starts with: resources/models when the bundled models
// exist, else four tiny models (MoCo v3, hybrid, MAE, SimMIM; 32 px, 8×8 patches) trained for
// two steps by vitscope-cli.
std::filesystem::path startup_models_dir();
// A model of another input size (64 px, 16×16 patches), made the same way.
std::filesystem::path other_size_model();
// A scratch folder for this test binary, removed at the end unless VITSCOPE_KEEP_TEST_FILES is set.
std::filesystem::path scratch_dir();
// Writes a small synthetic photo-like PNG (disc on stripes); `variant` changes its colours.
QString write_test_image(const QString& name, int variant = 0);

// Where screenshots for people to look at go: $VITSCOPE_SCREENSHOT_DIR (ctest: the build tree's
// tests/screenshots), else <tmp>/vitscope-screenshots; created.
QString screenshot_dir();
// Pumps events until `done` or the timeout; false on timeout.
bool wait_until(const std::function<bool()>& done, int timeout_ms = 60000);

class MainWindowTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Waits until every column has its analysis and (if it can) its reconstruction.
  bool waitForResults(int timeout_ms = 60000);
  // Waits until a session or lesson step is set up (models, image, controls) and analysed.
  bool waitForSetup(int timeout_ms = 60000);
  // Sends a real drag-enter + drop of these files onto the window.
  void dropFiles(const QStringList& paths);

  std::unique_ptr<runtime::Explorer> explorer;
  std::unique_ptr<ui::MainWindow> window;
};

}  // namespace vitscope::test
