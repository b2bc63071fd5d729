#include "ui_test_support.h"

#include <QApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QMimeData>
#include <QPainter>
#include <QProcess>
#include <QSettings>
#include <QUrl>

#include <cstdlib>
#include <mutex>

#include "support/test_env.h"

namespace vitscope::test {

namespace fs = std::filesystem;

namespace {

// The QApplication of the whole binary, created before the first test.
class QtEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // Settings and app data of the tests stay in the scratch folder, never in the user's.
    const auto home = scratch_dir() / "home";
    fs::create_directories(home);
    setenv("XDG_CONFIG_HOME", (home / "config").c_str(), 1);
    setenv("XDG_DATA_HOME", (home / "data").c_str(), 1);
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    static int argc = 1;
    static char name[] = "test_ui";
    static char* argv[] = {name, nullptr};
    app_ = std::make_unique<QApplication>(argc, argv);
    QApplication::setOrganizationName("ViTScope-test");
    QApplication::setApplicationName("ViTScope-test");
    QApplication::setApplicationVersion("test");
  }
  void TearDown() override {
    app_.reset();
    if (!std::getenv("VITSCOPE_KEEP_TEST_FILES")) fs::remove_all(scratch_dir());
  }

 private:
  std::unique_ptr<QApplication> app_;
};

[[maybe_unused]] const auto* const qt_environment = ::testing::AddGlobalTestEnvironment(new QtEnvironment);

void run_cli(const QStringList& args) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(QString::fromStdString(cli_path()), args);
  if (!p.waitForFinished(300000) || p.exitCode() != 0)
    throw std::runtime_error(cli_path() + " " + args.join(' ').toStdString() + " failed (" + p.errorString().toStdString() +
                             "):\n" + p.readAll().toStdString());
}

// A few images in two class folders: enough for two pre-training steps.
fs::path training_images() {
  const auto dir = scratch_dir() / "train-data";
  if (fs::exists(dir / "b" / "3.png")) return dir;
  for (int i = 0; i < 8; ++i) {
    const auto cls = dir / (i % 2 ? "b" : "a");
    fs::create_directories(cls);
    write_test_image(QString::fromStdString((cls / (std::to_string(i) + ".png")).string()), i);
  }
  return dir;
}

void pretrain(const std::string& objective, const fs::path& out, const QStringList& extra = {}) {
  QStringList args{"pretrain", "--objective", QString::fromStdString(objective), "--data",
                   QString::fromStdString(training_images().string()), "--max-steps", "2", "--batch-size", "8",
                   "--out", QString::fromStdString(out.string()), "--checkpoint-dir",
                   QString::fromStdString((out.parent_path() / (objective + "-ckpt")).string())};
  run_cli(args + extra);
}

}  // namespace

fs::path scratch_dir() {
  static const fs::path dir = temp_dir("ui");
  return dir;
}

QString write_test_image(const QString& name, int variant) {
  QImage image(96, 96, QImage::Format_RGB32);
  QPainter p(&image);
  for (int x = 0; x < 96; x += 6) p.fillRect(x, 0, 3, 96, QColor::fromHsv((40 * variant) % 360, 90, 200));
  p.setBrush(QColor::fromHsv((40 * variant + 180) % 360, 220, 240));
  p.setPen(Qt::NoPen);
  p.drawEllipse(QPoint(48 + 4 * (variant % 3), 46), 26, 22);
  p.end();
  image.save(name);
  return name;
}

fs::path startup_models_dir() {
  static std::once_flag once;
  static fs::path dir;
  std::call_once(once, [] {
    const auto bundled = resources_dir() / "models";
    bool has_bundled = false;
    if (fs::is_directory(bundled))
      for (const auto& e : fs::directory_iterator(bundled)) has_bundled |= e.path().extension() == ".safetensors";
    if (has_bundled) {
      dir = bundled;
      return;
    }
    dir = scratch_dir() / "models";
    fs::create_directories(dir);
    for (const std::string objective : {"moco", "hybrid", "mae", "simmim"}) pretrain(objective, dir / (objective + ".safetensors"));
  });
  return dir;
}

fs::path other_size_model() {
  const auto path = scratch_dir() / "other-size" / "mae64.safetensors";
  if (!fs::exists(path)) {
    fs::create_directories(path.parent_path());
    pretrain("mae", path, {"--image-size", "64", "--patch-size", "4", "--depth", "4", "--embed-dim", "64", "--heads", "2"});
  }
  return path;
}

QString screenshot_dir() {
  const QString dir = qEnvironmentVariable("VITSCOPE_SCREENSHOT_DIR", QDir::temp().filePath(QStringLiteral("vitscope-screenshots")));
  QDir().mkpath(dir);
  return dir;
}

bool wait_until(const std::function<bool()>& done, int timeout_ms) {
  return QTest::qWaitFor(done, timeout_ms);
}

void MainWindowTest::SetUp() {
  setenv("VITSCOPE_MODELS_DIR", startup_models_dir().c_str(), 1);
  QSettings().clear();  // every test is a first launch
  QFile::remove(ui::MainWindow::autosavePath());
  explorer = std::make_unique<runtime::Explorer>();
  window = std::make_unique<ui::MainWindow>(*explorer);
  window->resize(1600, 1000);
  window->show();
  window->activateWindow();
  ASSERT_TRUE(QTest::qWaitForWindowActive(window.get()));
  window->loadStartupContent();
  ASSERT_TRUE(wait_until([&] { return !window->shelf().isLoading() && window->comparison().columns().size() >= 3; }))
      << "the startup models did not load: " << window->messages()->messages().join('\n').toStdString();
  ASSERT_TRUE(waitForResults());
}

void MainWindowTest::TearDown() {
  window.reset();
  explorer.reset();
}

bool MainWindowTest::waitForResults(int timeout_ms) {
  auto& c = window->comparison();
  return wait_until([&] { return !window->state().imageId().isEmpty() && c.allAnalysesReady() && c.allReconstructionsReady(); },
                    timeout_ms);
}

bool MainWindowTest::waitForSetup(int timeout_ms) {
  return wait_until([&] { return !window->director().isApplying(); }, timeout_ms) && waitForResults(timeout_ms);
}

void MainWindowTest::dropFiles(const QStringList& paths) {
  QMimeData mime;
  QList<QUrl> urls;
  for (const auto& p : paths) urls << QUrl::fromLocalFile(p);
  mime.setUrls(urls);
  const QPoint pos = window->rect().center();
  QDragEnterEvent enter(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(window.get(), &enter);
  ASSERT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(pos), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(window.get(), &drop);
  ASSERT_TRUE(drop.isAccepted());
}

}  // namespace vitscope::test
