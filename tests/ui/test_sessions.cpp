// Session files: a real window's session saved and reopened in a fresh window gives the same
// controls and the same exported figures; files that moved are found again through the dialog;
// the session is autosaved on exit and restored on launch; bad files are reported, not fatal.
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSettings>

#include "ui/session/controls_json.h"
#include "ui/session/missing_files_dialog.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

QString scratch(const QString& name) { return QString::fromStdString((scratch_dir() / name.toStdString()).string()); }

QByteArray read_all(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString controls_text(ui::MainWindow& w) {
  return QString::fromUtf8(QJsonDocument(ui::controls_to_json(w.state())).toJson(QJsonDocument::Compact));
}

}  // namespace

class SessionTest : public MainWindowTest {
 protected:
  // A fresh engine and window, as after a restart (not shown until a test needs it).
  void openSecondWindow() {
    explorer2 = std::make_unique<runtime::Explorer>();
    window2 = std::make_unique<ui::MainWindow>(*explorer2);
    window2->resize(window->size());
    window2->show();
  }
  bool waitForSecond(int timeout_ms = 60000) {
    auto& c = window2->comparison();
    return wait_until([&] {
      return !window2->director().isApplying() && !window2->state().imageId().isEmpty() && c.allAnalysesReady() &&
             c.allReconstructionsReady();
    }, timeout_ms);
  }
  // Settings a user would change: a second image, block, head, query, mask, a painted patch.
  void changeEveryControl() {
    const QString image = write_test_image(scratch("session-image.png"), 3);
    window->openPaths({image});
    ASSERT_TRUE(wait_until([&] { return window->state().imageName() == "session-image.png"; }));
    auto& s = window->state();
    s.setLayer(4);
    s.setHead(1);
    s.setQueryPoint({0.3, 0.7});
    s.setMaskRatio(0.5);
    s.setMaskSeed(7);
    s.addMaskEdit({QRectF(0.5, 0.0, 0.25, 0.25), true});
    s.setPanel(ui::Panel::Reconstruction);
    ASSERT_TRUE(waitForResults());
  }
  void TearDown() override {
    window2.reset();
    explorer2.reset();
    MainWindowTest::TearDown();
  }

  std::unique_ptr<runtime::Explorer> explorer2;
  std::unique_ptr<ui::MainWindow> window2;
};

TEST_F(SessionTest, RoundTripGivesTheSameControlsAndFigures) {
  changeEveryControl();
  window->shelf().setData(window->shelf().index(0), "Renamed CL", Qt::EditRole);
  const QString session = scratch("round-trip.vitscope-session");
  QString error;
  ASSERT_TRUE(window->saveSession(session, &error)) << error.toStdString();
  QTest::qWait(100);  // the shown panel laid out, as a user would see it
  QStringList figures;
  for (auto panel : {ui::Panel::Attention, ui::Panel::Reconstruction}) {
    figures << scratch(QStringLiteral("before-%1.png").arg(static_cast<int>(panel)));
    ASSERT_TRUE(window->exportPanels({window->workspace()->panel(panel)}, figures.last(), 96, &error)) << error.toStdString();
    ASSERT_GT(QImage(figures.last()).width(), 300) << "a figure of the panel, not of an unlaid widget";
  }

  openSecondWindow();
  ASSERT_TRUE(window2->openSession(session));
  ASSERT_TRUE(waitForSecond()) << window2->messages()->messages().join('\n').toStdString();
  EXPECT_EQ(controls_text(*window2), controls_text(*window));
  EXPECT_EQ(window2->state().imageName(), "session-image.png");
  EXPECT_EQ(window2->shelf().savedPaths(), window->shelf().savedPaths());
  EXPECT_EQ(window2->comparison().columns().first().name(), "Renamed CL");
  EXPECT_EQ(window2->gallery().rowCount(), window->gallery().rowCount());
  QTest::qWait(100);
  for (auto panel : {ui::Panel::Attention, ui::Panel::Reconstruction}) {
    const QString after = scratch(QStringLiteral("after-%1.png").arg(static_cast<int>(panel)));
    ASSERT_TRUE(window2->exportPanels({window2->workspace()->panel(panel)}, after, 96, &error)) << error.toStdString();
    const QByteArray before_bytes = read_all(figures[panel == ui::Panel::Attention ? 0 : 1]);
    EXPECT_FALSE(before_bytes.isEmpty());
    EXPECT_TRUE(read_all(after) == before_bytes) << "the reopened session exports a different " << after.toStdString();
  }
}

TEST_F(SessionTest, MovedFilesAreListedAndFoundAgain) {
  // A model and an image in a folder that is then renamed.
  QDir().mkpath(scratch("before-move"));
  const QString model_src = window->shelf().savedPaths().first();
  const QString model = scratch("before-move/moved-model.safetensors");
  QFile::remove(model);
  ASSERT_TRUE(QFile::copy(model_src, model));
  QFile::copy(QFileInfo(model_src).path() + "/" + QFileInfo(model_src).completeBaseName() + ".json",
              scratch("before-move/moved-model.json"));
  const QString image = write_test_image(scratch("before-move/moved-image.png"), 5);
  window->openPaths({model, image});
  ASSERT_TRUE(wait_until([&] { return window->state().imageName() == "moved-image.png" && !window->shelf().isLoading(); }));
  ASSERT_TRUE(waitForResults());
  const QString session = scratch("moved.vitscope-session");
  QString error;
  ASSERT_TRUE(window->saveSession(session, &error)) << error.toStdString();
  QDir().rename(scratch("before-move"), scratch("after-move"));

  openSecondWindow();
  ASSERT_TRUE(window2->openSession(session));
  auto* dialog = window2->findChild<ui::MissingFilesDialog*>();
  ASSERT_NE(dialog, nullptr) << "no dialog lists the moved files";
  ASSERT_EQ(dialog->missing().size(), 2);
  EXPECT_EQ(dialog->missing()[0].path, model);
  EXPECT_EQ(dialog->missing()[1].path, QFileInfo(image).absoluteFilePath());
  // Another model is refused: its SHA-256 is not the recorded one.
  const int model_row = 0, image_row = 1;
  const QString wrong = dialog->locate(model_row, window->shelf().savedPaths().at(1));
  EXPECT_TRUE(wrong.contains("SHA-256")) << wrong.toStdString();
  EXPECT_EQ(dialog->missing().size(), 2);
  QTest::qWait(50);
  EXPECT_TRUE(dialog->grab().save(screenshot_dir() + "/missing-files-dialog.png"));
  // Pointing to the image finds the model beside it too.
  EXPECT_EQ(dialog->locate(image_row, scratch("after-move/moved-image.png")), "");
  EXPECT_TRUE(dialog->missing().isEmpty());
  dialog->accept();
  ASSERT_TRUE(waitForSecond()) << window2->messages()->messages().join('\n').toStdString();
  EXPECT_TRUE(window2->shelf().savedPaths().contains(scratch("after-move/moved-model.safetensors")));
  EXPECT_EQ(window2->state().imageName(), "moved-image.png");
}

TEST_F(SessionTest, AutosavedOnExitAndRestoredOnLaunch) {
  changeEveryControl();
  window->close();
  ASSERT_TRUE(QFileInfo::exists(ui::MainWindow::autosavePath()));
  openSecondWindow();
  window2->loadStartupContent();
  ASSERT_TRUE(waitForSecond()) << window2->messages()->messages().join('\n').toStdString();
  EXPECT_EQ(controls_text(*window2), controls_text(*window));
  EXPECT_EQ(window2->shelf().savedPaths(), window->shelf().savedPaths());
}

TEST_F(SessionTest, ABrokenSessionIsReportedAndTheWindowGoesOn) {
  const QString corrupt = scratch("corrupt.vitscope-session");
  QFile f(corrupt);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("{\"format\": \"vitscope-session\", \"models\": [");
  f.close();
  const QString before = controls_text(*window);
  EXPECT_FALSE(window->openSession(corrupt));
  QTest::qWait(0);  // a message row shows from the event loop
  const QString shown = window->messages()->messages().join('\n');
  EXPECT_TRUE(shown.contains("corrupt.vitscope-session") && shown.contains("not valid JSON")) << shown.toStdString();
  EXPECT_EQ(controls_text(*window), before);

  QFile g(scratch("bad-controls.vitscope-session"));
  ASSERT_TRUE(g.open(QIODevice::WriteOnly));
  g.write(R"({"format": "vitscope-session", "version": 1, "models": [], "images": [], "controls": {"layer": 3}})");
  g.close();
  EXPECT_FALSE(window->openSession(g.fileName()));
  QTest::qWait(0);
  EXPECT_TRUE(window->messages()->messages().join('\n').contains("unknown field \"layer\""))
      << window->messages()->messages().join('\n').toStdString();
  // A broken autosave: the next launch starts as a first launch, with a message.
  QFile::copy(corrupt, ui::MainWindow::autosavePath());
  openSecondWindow();
  window2->loadStartupContent();
  EXPECT_TRUE(wait_until([&] { return !window2->shelf().isLoading() && window2->comparison().columns().size() >= 3; }));
  EXPECT_TRUE(wait_until([&] { return window2->messages()->messages().join('\n').contains("autosave.vitscope-session"); }));
}

}  // namespace vitscope::test
