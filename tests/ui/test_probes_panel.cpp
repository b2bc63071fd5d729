// The Probes panel as a user meets it: the label-free probe of the current image for every model
// when the tab is opened, the probe views, export and "Copy command"; the cue-conflict shape bias
// with a linear head trained in the background for models without a classifier, and cancel.
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>

#include "ui/workspace/probes_panel.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

const char* const kCifar10[] = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

// A labelled folder with CIFAR-10's class names (so the bundled CIFAR-10 mapping applies), three
// drawn images per class.
QString cifar_named_folder() {
  const QString root = QString::fromStdString((scratch_dir() / "cifar-named").string());
  for (int c = 0; c < 10; ++c) {
    QDir().mkpath(root + "/" + kCifar10[c]);
    for (int i = 0; i < 3; ++i) write_test_image(QStringLiteral("%1/%2/%3.png").arg(root, kCifar10[c]).arg(i), 3 * c + i);
  }
  return root;
}

// A small cue-conflict folder in Geirhos et al.'s layout: <shape>/<shape><i>-<texture><j>.png.
QString synthetic_stimuli() {
  const QString root = QString::fromStdString((scratch_dir() / "stimuli").string());
  const QStringList names = {"cat/cat1-dog1.png", "cat/cat2-cat1.png", "cat/cat3-car2.png", "dog/dog1-cat2.png",
                             "dog/dog2-truck1.png", "car/car1-dog3.png"};
  for (int i = 0; i < names.size(); ++i) {
    QDir().mkpath(QFileInfo(root + "/" + names[i]).absolutePath());
    write_test_image(root + "/" + names[i], i);
  }
  return root;
}

}  // namespace

class ProbesPanelTest : public MainWindowTest {
 protected:
  ui::ProbesPanel* panel() { return static_cast<ui::ProbesPanel*>(window->workspace()->panel(ui::Panel::Probes)); }
  ui::ProbesModel& probes() { return panel()->probes(); }
};

TEST_F(ProbesPanelTest, OpeningTheTabProbesTheImageWithEveryModel) {
  EXPECT_FALSE(probes().allImageProbesReady()) << "nothing is computed while the tab is hidden";
  window->state().setPanel(ui::Panel::Probes);
  ASSERT_TRUE(wait_until([&] { return probes().allImageProbesReady(); }, 120000));
  ASSERT_NE(probes().views(), nullptr);
  EXPECT_EQ(probes().views()->size(), 8u);
  for (const auto& c : window->comparison().columns()) {
    const auto* p = probes().imageProbe(c.id());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->views.size(), 8u);
    EXPECT_EQ(p->index_per_block.size(), static_cast<size_t>(c.info.depth));
    EXPECT_GE(p->shape_reliance_index, -2.0);
    EXPECT_LE(p->shape_reliance_index, 2.0);
    EXPECT_EQ(p->low_pass.size(), p->cutoffs.size());
  }
  // The numbers behind the figure carry the index and its definition.
  const auto data = panel()->data();
  const auto models = data["models"].toArray();
  ASSERT_EQ(models.size(), window->comparison().columns().size());
  const auto first = models.first().toObject();
  EXPECT_TRUE(first.contains("shape_reliance_index"));
  EXPECT_EQ(first["views"].toArray().size(), 8);
  EXPECT_TRUE(first["definition"].toString().contains("shape_reliance_index"));
  // A new image drops the old probes and, with the tab open, probes it again.
  const QString image = write_test_image(QString::fromStdString((scratch_dir() / "probe-next.png").string()), 5);
  dropFiles({image});
  ASSERT_TRUE(wait_until([&] { return window->state().imageName() == "probe-next.png"; }));
  ASSERT_TRUE(wait_until([&] { return probes().allImageProbesReady(); }, 120000));
}

TEST_F(ProbesPanelTest, CopyCommandIsAProbeCommand) {
  window->state().setPanel(ui::Panel::Probes);
  probes().setStimuliDir("/data/cue conflict");
  QTest::keyClick(window.get(), Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
  const QString command = QApplication::clipboard()->text();
  EXPECT_TRUE(command.startsWith("vitscope-cli probe --model ")) << command.toStdString();
  for (const auto& c : window->comparison().columns())
    EXPECT_TRUE(command.contains(QString::fromStdString(c.info.path))) << command.toStdString();
  EXPECT_TRUE(command.contains("--image ")) << command.toStdString();
  EXPECT_TRUE(command.contains("--cue-conflict '/data/cue conflict'")) << command.toStdString();
  EXPECT_TRUE(command.contains("--out vitscope-probes")) << command.toStdString();
}

TEST_F(ProbesPanelTest, ShapeBiasTrainsAHeadInTheBackgroundThenMeasures) {
  auto& p = probes();
  p.setStimuliDir(synthetic_stimuli());
  p.setHeadData(cifar_named_folder());
  p.setHeadImagesPerClass(0);
  const auto columns = window->comparison().columns();
  ASSERT_GE(columns.size(), 2);
  const QString id = columns.first().id();
  ASSERT_EQ(explorer->model(columns.first().info.id).num_classes, 0) << "bundled models have no classifier";
  QStringList statuses;
  QObject::connect(&p, &ui::ProbesModel::shapeBiasChanged, &p, [&](const QString& changed) {
    if (changed == id && !p.shapeBiasStatus(id).isEmpty()) statuses << p.shapeBiasStatus(id);
  });
  p.measureShapeBias(id);
  ASSERT_TRUE(wait_until([&] { return !p.shapeBiasBusy(); }, 120000));
  const auto* r = p.shapeBias(id);
  ASSERT_NE(r, nullptr) << p.shapeBiasStatus(id).toStdString();
  EXPECT_TRUE(p.shapeBiasStatus(id).isEmpty());
  EXPECT_FALSE(statuses.isEmpty()) << "progress is shown while it works";
  // The model is a classifier now, with CIFAR-10's classes; the bundled mapping was found.
  const auto info = explorer->model(columns.first().info.id);
  EXPECT_EQ(info.num_classes, 10);
  EXPECT_EQ(info.class_names.front(), "airplane");
  ASSERT_NE(p.headTraining(id), nullptr);
  EXPECT_EQ(p.headTraining(id)->train_images + p.headTraining(id)->test_images, 30);
  // 6 stimuli: one same-class image left out, 5 conflicts, all categories (car, cat, dog, truck) mapped.
  EXPECT_EQ(r->excluded_same_class, 1);
  EXPECT_EQ(r->trials, 5);
  EXPECT_TRUE(QString::fromStdString(r->mapping).endsWith("cifar10_to_cue_conflict.json"));
  EXPECT_LE(r->shape_hits + r->texture_hits, r->trials);
  // The panel's export carries the measurement; the Geirhos-style plot has this model.
  window->state().setPanel(ui::Panel::Probes);
  const auto model = panel()->data()["models"].toArray().first().toObject();
  EXPECT_EQ(model["cue_conflict"].toObject()["overall"].toObject()["trials"].toInt(), 5);
  EXPECT_TRUE(model.contains("classifier_head"));

  // Cancel: the queued model never starts, nothing is left running.
  p.measureShapeBias(columns[1].id());
  if (columns.size() > 2) p.measureShapeBias(columns[2].id());
  p.cancelShapeBias();
  ASSERT_TRUE(wait_until([&] { return !p.shapeBiasBusy(); }, 120000));
  if (columns.size() > 2) {
    EXPECT_EQ(p.shapeBias(columns[2].id()), nullptr);
  }
}

TEST_F(ProbesPanelTest, MadeCueConflictImageJoinsTheGalleryAndIsShown) {
  const QString texture = write_test_image(QString::fromStdString((scratch_dir() / "stripes.png").string()), 7);
  const QString before = window->state().imageName();
  panel()->makeCueConflictImage(texture, false, false);
  ASSERT_TRUE(wait_until([&] { return window->state().imageName().endsWith("-with-stripes-texture.png"); }));
  EXPECT_TRUE(window->state().imageName().startsWith(QFileInfo(before).completeBaseName()));
  ASSERT_TRUE(waitForResults());
  const auto* a = window->comparison().analysis(window->comparison().columns().first().id());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->input().width, window->comparison().columns().first().info.image_size);
  // A texture file that is no image is reported in the window.
  const QString bad = QString::fromStdString((scratch_dir() / "not-an-image.png").string());
  QFile f(bad);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("no picture");
  f.close();
  panel()->makeCueConflictImage(bad, false, false);
  ASSERT_TRUE(wait_until([&] {
    for (const auto& m : window->messages()->messages())
      if (m.contains("not-an-image.png")) return true;
    return false;
  }));
}

}  // namespace vitscope::test
