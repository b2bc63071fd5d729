// Lessons: every bundled lesson runs in a real window from its first step to its last, stepped
// with the keyboard, and leaves a screenshot per step (screenshot_dir()/lessons); lesson files
// with mistakes are reported with the file and the problem; presentation mode.
#include <QApplication>
#include <QDir>
#include <QFile>

#include "support/test_env.h"
#include "ui/lessons/lesson.h"
#include "ui/plots/plot_style.h"
#include "ui/session/controls_json.h"
#include "ui/workspace/probes_panel.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

QString write_lesson(const QString& name, const QByteArray& json) {
  const QString path = QString::fromStdString((scratch_dir() / name.toStdString()).string());
  QFile f(path);
  f.open(QIODevice::WriteOnly);
  f.write(json);
  return path;
}

QString lesson_error(const QByteArray& json) {
  QString error;
  EXPECT_FALSE(ui::read_lesson(write_lesson("bad-lesson.json", json), &error).has_value());
  return error;
}

}  // namespace

TEST(LessonFiles, BundledLessonsAllLoad) {
  QStringList errors;
  const auto lessons = ui::read_lessons({QString::fromStdString((resources_dir() / "lessons").string())}, &errors);
  EXPECT_TRUE(errors.isEmpty()) << errors.join('\n').toStdString();
  EXPECT_EQ(lessons.size(), 6);
}

TEST(LessonFiles, MistakesNameTheFileStepAndField) {
  const QString unknown = lesson_error(R"({"title": "T", "steps": [{"text": "a"}, {"text": "b", "layer": 3}]})");
  EXPECT_TRUE(unknown.contains("bad-lesson.json") && unknown.contains("step 2") && unknown.contains("\"layer\""))
      << unknown.toStdString();
  const QString model = lesson_error(R"({"title": "T", "steps": [{"text": "a", "models": ["moco", "nosuch"]}]})");
  EXPECT_TRUE(model.contains("step 1") && model.contains("\"nosuch\"")) << model.toStdString();
  const QString image = lesson_error(R"({"title": "T", "steps": [{"text": "a", "image": "nowhere.png"}]})");
  EXPECT_TRUE(image.contains("nowhere.png")) << image.toStdString();
  EXPECT_TRUE(lesson_error(R"({"title": "T", "steps": [{"text": "a", "block": 0}]})").contains("\"block\""));
  EXPECT_TRUE(lesson_error(R"({"title": "T", "steps": [}")").contains("not valid JSON"));
  EXPECT_TRUE(lesson_error(R"({"title": "T", "steps": [{"panel": "attention"}]})").contains("\"text\""));
}

class LessonTest : public MainWindowTest {
 protected:
  // The controls the step asked for are the ones the window shows.
  void expectStepApplied(const ui::WorkspaceSetup& setup) {
    const QJsonObject now = ui::controls_to_json(window->state());
    for (auto it = setup.controls.begin(); it != setup.controls.end(); ++it) {
      if (it.key() == "block" && it.value().toInt() < 0)
        EXPECT_EQ(now.value("block").toInt(), window->state().maxLayers() + 1 + it.value().toInt());
      else
        EXPECT_EQ(now.value(it.key()), it.value()) << it.key().toStdString();
    }
    if (setup.models) {
      EXPECT_EQ(window->shelf().savedPaths().size(), setup.models->size());
    }
    if (!setup.image.isEmpty()) {
      EXPECT_EQ(window->state().imageName(), QFileInfo(setup.image).fileName());
    }
  }
};

TEST_F(LessonTest, EveryBundledLessonRunsToTheEnd) {
  const QString dir = screenshot_dir() + "/lessons";
  QDir().mkpath(dir);
  auto& player = window->lessonPlayer();
  auto& probes = static_cast<ui::ProbesPanel*>(window->workspace()->panel(ui::Panel::Probes))->probes();
  ASSERT_EQ(window->lessons().size(), 6) << window->messages()->messages().join('\n').toStdString();
  for (int l = 0; l < window->lessons().size(); ++l) {
    const ui::Lesson lesson = window->lessons()[l];
    window->startLesson(lesson);
    for (int s = 0; s < lesson.steps.size(); ++s) {
      SCOPED_TRACE(lesson.title.toStdString() + ", step " + std::to_string(s + 1));
      ASSERT_EQ(player.step(), s);
      ASSERT_TRUE(waitForSetup()) << window->messages()->messages().join('\n').toStdString();
      if (window->state().panel() == ui::Panel::Probes) {
        ASSERT_TRUE(wait_until([&] { return probes.allImageProbesReady(); }, 120000));
      }
      expectStepApplied(player.currentSetup());
      QTest::qWait(50);
      const QString shot = QStringLiteral("%1/lesson%2-step%3.png").arg(dir).arg(l + 1).arg(s + 1);
      ASSERT_TRUE(window->grab().save(shot));
      std::printf("screenshot: %s\n", shot.toUtf8().constData());
      QTest::keyClick(window.get(), Qt::Key_PageDown);  // the clicker's "next"
    }
    EXPECT_EQ(player.step(), lesson.steps.size() - 1) << "Page Down past the last step does nothing";
    QTest::keyClick(window.get(), Qt::Key_PageUp);
    EXPECT_EQ(player.step(), lesson.steps.size() - 2);
    ASSERT_TRUE(waitForSetup());
    expectStepApplied(player.currentSetup());  // going back gives the step's own picture
    player.stop();
  }
}

TEST_F(LessonTest, UserLessonsAreLoadedAndBrokenOnesReported) {
  const QString user = ui::lesson_folders().last();
  QDir().mkpath(user);
  const int bundled = window->lessons().size();
  QFile good(user + "/my-lesson.json");
  ASSERT_TRUE(good.open(QIODevice::WriteOnly));
  good.write(R"({"title": "My lesson", "steps": [{"text": "Look", "models": ["mae"], "panel": "spectrum", "block": -2}]})");
  good.close();
  QFile bad(user + "/broken.json");
  ASSERT_TRUE(bad.open(QIODevice::WriteOnly));
  bad.write(R"({"title": "Broken", "steps": [{"text": "x", "colour": "red"}]})");
  bad.close();
  window->reloadLessons();
  EXPECT_EQ(window->lessons().size(), bundled + 1);
  QTest::qWait(0);  // a message row shows from the event loop
  const QString shown = window->messages()->messages().join('\n');
  EXPECT_TRUE(shown.contains("broken.json") && shown.contains("\"colour\"")) << shown.toStdString();
  window->startLesson(window->lessons().last());
  ASSERT_TRUE(waitForSetup());
  EXPECT_EQ(window->comparison().columns().size(), 1);
  EXPECT_EQ(window->state().panel(), ui::Panel::Spectrum);
  EXPECT_EQ(window->state().layer(), window->state().maxLayers() - 2);
  QFile::remove(good.fileName());
  QFile::remove(bad.fileName());
}

TEST_F(LessonTest, PresentationModeIsLargeHighContrastAndStepsWithArrows) {
  const double normal_size = QApplication::font().pointSizeF();
  window->startLesson(window->lessons().first());
  ASSERT_TRUE(waitForSetup());
  window->setPresentationMode(true);
  EXPECT_TRUE(window->presentationMode());
  EXPECT_TRUE(window->isFullScreen());
  EXPECT_GT(QApplication::font().pointSizeF(), normal_size * 1.4);
  EXPECT_TRUE(ui::plot_style().high_contrast);
  QTest::keyClick(window.get(), Qt::Key_Right);
  EXPECT_EQ(window->lessonPlayer().step(), 1);
  ASSERT_TRUE(waitForSetup());
  QTest::qWait(100);
  const QString shot = screenshot_dir() + "/presentation-mode.png";
  ASSERT_TRUE(window->grab().save(shot));
  std::printf("screenshot: %s\n", shot.toUtf8().constData());
  QTest::keyClick(window.get(), Qt::Key_Left);
  EXPECT_EQ(window->lessonPlayer().step(), 0);
  window->setPresentationMode(false);
  EXPECT_FALSE(window->presentationMode());
  EXPECT_FALSE(window->isFullScreen());
  EXPECT_DOUBLE_EQ(QApplication::font().pointSizeF(), normal_size);
  EXPECT_FALSE(ui::plot_style().high_contrast);
}

}  // namespace vitscope::test
