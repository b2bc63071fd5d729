// The Fine-tuning panel as a user meets it (QT_QPA_PLATFORM=offscreen): a job on a generated
// labelled folder runs in the background from the first shelf model, draws its curves and live
// diagnostics, and its model joins the shelf beside the base with its lineage in the card; its
// curves export as figure and numbers; pause holds the steps, resume continues, cancel stops; a
// failed job can be retried and ended jobs removed (their models stay); a job interrupted by
// closing the app continues from its checkpoint in the next session. Writes finetune-panel.png
// to screenshot_dir().
#include <QCheckBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <QStandardPaths>

#include <cstdio>
#include <filesystem>

#include "ui/training/finetune_panel.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

// A square on a plain background, colours and place varying with `variant`.
void write_square_image(const QString& path, int variant) {
  QImage image(96, 96, QImage::Format_RGB32);
  image.fill(QColor::fromHsv((50 * variant) % 360, 60, 90));
  QPainter p(&image);
  p.fillRect(16 + 3 * (variant % 5), 20 + 2 * (variant % 7), 44, 44, QColor::fromHsv((50 * variant + 120) % 360, 200, 250));
  p.end();
  image.save(path);
}

// Two classes a model can tell apart: discs on stripes and squares on plain ground.
QString labelled_folder(const QString& name, int per_class) {
  const QString root = QString::fromStdString((scratch_dir() / name.toStdString()).string());
  QDir().mkpath(root + "/disc");
  QDir().mkpath(root + "/square");
  for (int i = 0; i < per_class; ++i) {
    write_test_image(QStringLiteral("%1/disc/%2.png").arg(root).arg(i), i);
    write_square_image(QStringLiteral("%1/square/%2.png").arg(root).arg(i), i);
  }
  return root;
}

}  // namespace

class FineTunePanelTest : public MainWindowTest {
 protected:
  void SetUp() override {
    // Every test starts with no jobs (the queue keeps them in the app data folder).
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/finetune").removeRecursively();
    MainWindowTest::SetUp();
    window->finetuneDock()->show();
    panel()->setBaseModel(window->shelf().index(0).data(ui::ModelShelfModel::PathRole).toString());
  }
  void TearDown() override {
    // Leave no unfinished job behind for the next window of this test binary.
    for (int row = 0; row < queue().rowCount(); ++row) queue().cancel(row);
    wait_until([&] { return queue().runningRow() < 0; }, 60000);
    MainWindowTest::TearDown();
  }
  ui::FineTunePanel* panel() { return window->finetunePanel(); }
  ui::FineTuneQueue& queue() { return window->finetune(); }
  ui::FineTuneQueue::State state(int row) { return queue().job(row).state; }
};

TEST_F(FineTunePanelTest, AJobDrawsItsCurvesAndItsModelJoinsTheShelf) {
  const int models_before = window->shelf().rowCount();
  const QString base = window->shelf().index(0).data(ui::ModelShelfModel::PathRole).toString();
  panel()->setDataFolder(labelled_folder("ft-data", 12));  // 24 images: 22 train, 2 held out
  panel()->setMode("finetune");
  panel()->setEpochs(2);
  panel()->setBatchSize(4);  // 5 steps per epoch, a report every 5 steps
  panel()->setDiagnosticsEvery(2);
  ASSERT_TRUE(panel()->addButton()->isEnabled());
  QTest::mouseClick(panel()->addButton(), Qt::LeftButton);
  ASSERT_EQ(queue().rowCount(), 1);
  ASSERT_TRUE(wait_until([&] { return state(0) == ui::FineTuneQueue::State::Finished; }, 300000))
      << queue().job(0).message.toStdString();

  const auto& curves = queue().job(0).curves;
  EXPECT_EQ(curves.loss.size(), 2);  // steps 5 and 10
  EXPECT_EQ(curves.val_top1.size(), 2);
  ASSERT_EQ(curves.diagnostics.size(), 6);  // steps 0, 2, …, 10
  EXPECT_EQ(curves.diagnostics.front().attention_distance.size(), 12u);
  EXPECT_NE(curves.diagnostics.front().attention_distance, curves.diagnostics.back().attention_distance);
  EXPECT_EQ(panel()->lossPlot()->graphCount(), 1);
  EXPECT_EQ(panel()->lossPlot()->graph(0)->dataCount(), 2);
  EXPECT_EQ(panel()->accuracyPlot()->graph(0)->dataCount(), 2);
  for (auto* plot : {panel()->distancePlot(), panel()->nmiPlot(), panel()->spectrumPlot()})
    EXPECT_EQ(plot->graphCount(), 6);  // one curve per snapshot
  EXPECT_EQ(panel()->spectrumPlot()->graph(0)->dataCount(), 13);  // depths 0..12
  EXPECT_GT(panel()->attentionView()->grid().rows, 0);

  // The new model joins the shelf, next to its base, and its card records where it came from.
  const QString model = queue().job(0).model_path;
  ASSERT_TRUE(QFile::exists(model));
  ASSERT_TRUE(wait_until([&] { return window->shelf().rowCount() == models_before + 1 && !window->shelf().isLoading(); }));
  EXPECT_TRUE(window->shelf().savedPaths().contains(model));
  EXPECT_TRUE(window->shelf().savedPaths().contains(base));
  QFile card(QString(model).replace(".safetensors", ".json"));
  ASSERT_TRUE(card.open(QIODevice::ReadOnly));
  const auto lineage = QJsonDocument::fromJson(card.readAll()).object().value("lineage").toObject();
  EXPECT_EQ(lineage.value("mode").toString(), "finetune");
  EXPECT_EQ(lineage.value("base_model").toObject().value("path").toString(), QFileInfo(base).absoluteFilePath());
  EXPECT_TRUE(lineage.value("metrics").toObject().contains("val_top1"));
  EXPECT_EQ(static_cast<int>(window->comparison().columns().size()), models_before + 1);

  // Its curves export as a figure and as numbers.
  const auto out = scratch_dir() / "ft-export";
  std::filesystem::create_directories(out);
  QString error;
  const QString csv = QString::fromStdString((out / "curves.csv").string());
  ASSERT_TRUE(panel()->exportJob(0, csv, 96, &error)) << error.toStdString();
  QFile csv_file(csv);
  ASSERT_TRUE(csv_file.open(QIODevice::ReadOnly));
  const QString table = QString::fromUtf8(csv_file.readAll());
  EXPECT_TRUE(table.startsWith("panel,model,quantity,i,j,value\n"));
  EXPECT_EQ(table.count(QStringLiteral(",loss,")), 2);  // two progress reports
  EXPECT_EQ(table.count(QStringLiteral(",diagnostics.attention_distance,")), 6 * 12);  // snapshots × blocks
  const QString png = QString::fromStdString((out / "curves.png").string());
  ASSERT_TRUE(panel()->exportJob(0, png, 96, &error)) << error.toStdString();
  const QImage figure(png);
  EXPECT_GT(figure.width(), 800);
  EXPECT_GT(figure.height(), 400);
  const QString svg = QString::fromStdString((out / "curves.svg").string());
  ASSERT_TRUE(panel()->exportJob(0, svg, 96, &error)) << error.toStdString();
  QFile svg_file(svg);
  ASSERT_TRUE(svg_file.open(QIODevice::ReadOnly));
  EXPECT_TRUE(svg_file.readAll().contains("<svg"));
  EXPECT_FALSE(panel()->exportJob(0, QString::fromStdString((out / "curves.txt").string()), 96, &error));
  EXPECT_TRUE(error.contains(".txt")) << error.toStdString();

  // Removing the finished job clears the list, not the model it made.
  panel()->selectRow(0);
  ASSERT_TRUE(panel()->removeButton()->isEnabled());
  QTest::mouseClick(panel()->removeButton(), Qt::LeftButton);
  EXPECT_EQ(queue().rowCount(), 0);
  EXPECT_FALSE(panel()->removeButton()->isEnabled());
  EXPECT_TRUE(QFile::exists(model));
  EXPECT_TRUE(window->shelf().savedPaths().contains(model));
}

TEST_F(FineTunePanelTest, FormFieldsFollowTheModeShowItsDefaultsAndReachTheJob) {
  auto* flip = panel()->findChild<QCheckBox*>();
  ASSERT_NE(flip, nullptr);
  panel()->setMode("pretrain-mae");
  EXPECT_FALSE(flip->isEnabled()) << "pre-training augments as its objective does";
  panel()->setMode("finetune");
  EXPECT_TRUE(flip->isEnabled());
  EXPECT_TRUE(panel()->specFromForm().flip);
  EXPECT_EQ(panel()->specFromForm().crop_scale, 0.0);  // the mode's default, which the field shows
  auto* crop = panel()->findChild<QDoubleSpinBox*>("cropScale");
  ASSERT_NE(crop, nullptr);
  EXPECT_EQ(crop->specialValueText(), "default (0.5)");
  auto* lr = panel()->findChild<QLineEdit*>("learningRate");
  ASSERT_NE(lr, nullptr);
  EXPECT_EQ(lr->placeholderText(), "default 0.0001");
  panel()->setMode("linear-probe");
  EXPECT_EQ(lr->placeholderText(), "default 0.001");
  panel()->setMode("finetune");
  flip->setChecked(false);
  EXPECT_FALSE(panel()->specFromForm().flip);
}

TEST_F(FineTunePanelTest, PauseHoldsResumeContinuesCancelStops) {
  panel()->setDataFolder(labelled_folder("ft-long", 24));
  panel()->setEpochs(200);
  panel()->setBatchSize(8);
  panel()->setDiagnosticsEvery(4);
  QTest::mouseClick(panel()->addButton(), Qt::LeftButton);
  ASSERT_TRUE(wait_until([&] { return queue().job(0).curves.diagnostics.size() >= 6 && queue().job(0).curves.val_top1.size() >= 6; }, 300000));

  window->resize(1600, 1100);
  QTest::qWait(100);
  const QString shot = screenshot_dir() + "/finetune-panel.png";
  ASSERT_TRUE(window->finetuneDock()->grab().save(shot));
  std::printf("screenshot: %s\n", qPrintable(shot));

  // The workspace stays interactive while the job trains: a new image is analysed by every model.
  ASSERT_EQ(state(0), ui::FineTuneQueue::State::Running);
  dropFiles({write_test_image(QString::fromStdString((scratch_dir() / "while-training.png").string()), 7)});
  ASSERT_TRUE(wait_until([&] { return window->state().imageName() == "while-training.png"; }));
  ASSERT_TRUE(waitForResults(120000));
  EXPECT_EQ(state(0), ui::FineTuneQueue::State::Running);

  queue().pause(0);
  EXPECT_EQ(state(0), ui::FineTuneQueue::State::Paused);
  ASSERT_TRUE(wait_until([&] { return queue().job(0).paused_at >= 0; }, 60000)) << "the loop never stopped between steps";
  const auto paused_at = queue().job(0).paused_at;
  const auto reports = queue().job(0).curves.loss.size(), snapshots = queue().job(0).curves.diagnostics.size();
  QTest::qWait(1500);
  EXPECT_EQ(queue().job(0).curves.loss.size(), reports) << "steps ran while paused";
  EXPECT_EQ(queue().job(0).curves.diagnostics.size(), snapshots) << "steps ran while paused";
  queue().resume(0);
  EXPECT_EQ(state(0), ui::FineTuneQueue::State::Running);
  ASSERT_TRUE(wait_until([&] { return queue().job(0).step > paused_at + 5; }, 60000));
  EXPECT_EQ(queue().job(0).paused_at, -1);
  queue().cancel(0);
  ASSERT_TRUE(wait_until([&] { return state(0) == ui::FineTuneQueue::State::Cancelled; }, 60000));
  EXPECT_TRUE(queue().job(0).model_path.isEmpty());
  EXPECT_FALSE(QDir(QString::fromStdString(queue().job(0).spec.checkpoint_dir)).exists());
}

namespace {
// A linear-probe job on the CPU, as the queue tests start them.
runtime::FineTuneSpec cpu_linear_probe(const std::string& base_model, const std::string& data, int epochs,
                                       int batch_size) {
  runtime::FineTuneSpec spec;
  spec.base_model = base_model;
  spec.data = data;
  spec.mode = "linear-probe";
  spec.epochs = epochs;
  spec.batch_size = batch_size;
  spec.device = "cpu";
  return spec;
}
}  // namespace

TEST(FineTuneQueueRestart, AnInterruptedJobContinuesFromItsCheckpointInTheNextSession) {
  const QString dir = QString::fromStdString((scratch_dir() / "queue-restart").string());
  const auto spec = cpu_linear_probe((startup_models_dir() / "moco.safetensors").string(),
                                     labelled_folder("ft-restart", 12).toStdString(), 40, 8);
  {
    ui::FineTuneQueue first(dir);
    first.enqueue(spec);
    // Past the first epoch's checkpoint (2 steps per epoch), then the app closes.
    ASSERT_TRUE(wait_until([&] { return first.job(0).step >= 3; }, 300000)) << first.job(0).message.toStdString();
  }
  ui::FineTuneQueue second(dir);
  EXPECT_EQ(second.resumedAtStartup(), 1);
  ASSERT_TRUE(wait_until([&] { return second.job(0).state == ui::FineTuneQueue::State::Running && !second.job(0).message.isEmpty(); }, 60000));
  EXPECT_TRUE(second.job(0).message.startsWith("resumed from")) << second.job(0).message.toStdString();
  EXPECT_FALSE(second.job(0).message.contains("at step 0")) << second.job(0).message.toStdString();
  ASSERT_TRUE(wait_until([&] { return second.job(0).state == ui::FineTuneQueue::State::Finished; }, 300000))
      << second.job(0).message.toStdString();
  EXPECT_TRUE(QFile::exists(second.job(0).model_path));
}

TEST(FineTuneQueueRestart, AFailedJobCanBeRetriedAndEndedJobsRemoved) {
  const QString dir = QString::fromStdString((scratch_dir() / "queue-retry").string());
  QDir(dir).removeRecursively();
  // The base model is away when the job starts (an unplugged disk), back when the user retries.
  const auto base = scratch_dir() / "retry-base.safetensors";
  const auto away = scratch_dir() / "retry-base-away.safetensors";
  std::filesystem::copy_file(startup_models_dir() / "moco.safetensors", away, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(startup_models_dir() / "moco.json", scratch_dir() / "retry-base.json",
                             std::filesystem::copy_options::overwrite_existing);
  const auto spec = cpu_linear_probe(base.string(), labelled_folder("ft-retry", 4).toStdString(), 1, 4);
  ui::FineTuneQueue queue(dir);
  queue.enqueue(spec);
  ASSERT_TRUE(wait_until([&] { return queue.job(0).state == ui::FineTuneQueue::State::Failed; }, 60000));
  EXPECT_TRUE(queue.job(0).message.contains("retry-base.safetensors")) << queue.job(0).message.toStdString();

  std::filesystem::rename(away, base);
  queue.retry(0);
  ASSERT_TRUE(wait_until([&] { return queue.job(0).state == ui::FineTuneQueue::State::Finished; }, 300000))
      << queue.job(0).message.toStdString();
  const QString model = queue.job(0).model_path;
  EXPECT_TRUE(QFile::exists(model));

  queue.enqueue(spec);
  queue.cancel(1);  // dropped before it starts, or stopped at its first step
  ASSERT_TRUE(wait_until([&] { return queue.job(1).state == ui::FineTuneQueue::State::Cancelled; }, 60000));
  queue.enqueue(spec);  // stays, being queued or running
  queue.removeEnded();
  ASSERT_EQ(queue.rowCount(), 1);
  EXPECT_FALSE(ui::FineTuneQueue::hasEnded(queue.job(0).state));
  EXPECT_TRUE(QFile::exists(model)) << "removing a job must keep its model";
  queue.cancel(0);
  ASSERT_TRUE(wait_until([&] { return queue.runningRow() < 0; }, 60000));
  // The next session sees the list as it was left.
  QFile list(dir + "/jobs.json");
  ASSERT_TRUE(list.open(QIODevice::ReadOnly));
  EXPECT_EQ(QJsonDocument::fromJson(list.readAll()).object().value("jobs").toArray().size(), 1);
}

TEST(FineTuneQueueRestart, ABrokenJobListIsReportedAndKeptNotLostSilently) {
  const QString dir = QString::fromStdString((scratch_dir() / "queue-broken").string());
  QDir(dir).removeRecursively();
  QDir().mkpath(dir);
  QFile broken(dir + "/jobs.json");
  ASSERT_TRUE(broken.open(QIODevice::WriteOnly));
  broken.write("{\"jobs\": [ {\"id\": ");  // cut short, as by a full disk
  broken.close();
  ui::FineTuneQueue queue(dir);
  EXPECT_EQ(queue.rowCount(), 0);
  EXPECT_TRUE(queue.loadProblem().contains("jobs.json")) << queue.loadProblem().toStdString();
  EXPECT_TRUE(queue.loadProblem().contains("not valid JSON")) << queue.loadProblem().toStdString();
  EXPECT_TRUE(QFile::exists(dir + "/jobs.json.broken"));
}

}  // namespace vitscope::test
