// The window as a user meets it: bundled models and samples on launch, drops, the shared
// controls, painting a mask, bad input.
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QSettings>
#include <QTest>

#include <algorithm>

#include "ui/plots/heatmap_view.h"
#include "ui/workspace/attention_column.h"
#include "ui/workspace/reconstruction_column.h"
#include "ui/workspace/spectrum_panel.h"
#include "support/test_env.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

template <class Column>
QList<Column*> columns_of(ui::ComparisonPanel* panel) {
  QList<Column*> out;
  for (auto* c : panel->columns()) out << static_cast<Column*>(c);
  return out;
}

bool messages_contain(ui::MainWindow& w, const QString& text) {
  for (const auto& m : w.messages()->messages())
    if (m.contains(text, Qt::CaseInsensitive)) return true;
  return false;
}

}  // namespace

TEST_F(MainWindowTest, LaunchShowsBundledModelsSideBySideOnASampleImage) {
  const auto& columns = window->comparison().columns();
  ASSERT_GE(columns.size(), 3);
  QStringList objectives;
  for (const auto& c : columns) objectives << QString::fromStdString(c.info.objective);
  EXPECT_TRUE(objectives.contains("CL"));
  EXPECT_TRUE(objectives.contains("MIM"));
  EXPECT_TRUE(objectives.contains("hybrid"));
  EXPECT_EQ(objectives.first(), "CL") << "bundled models are ordered CL, hybrid, MIM";
  EXPECT_GE(window->gallery().rowCount(), 3) << "sample images on a fresh start";
  EXPECT_FALSE(window->state().imageId().isEmpty());
  for (auto* panel : window->workspace()->panels()) EXPECT_EQ(panel->columns().size(), columns.size());
  EXPECT_TRUE(window->messages()->messages().isEmpty()) << window->messages()->messages().join('\n').toStdString();
}

TEST_F(MainWindowTest, DroppedImageIsAnalysedByEveryModel) {
  const QString image = write_test_image(QString::fromStdString((scratch_dir() / "dropped.png").string()), 3);
  dropFiles({image});
  ASSERT_TRUE(wait_until([&] { return window->state().imageName() == "dropped.png"; }));
  ASSERT_TRUE(waitForResults());
  for (const auto& c : window->comparison().columns()) {
    const auto* a = window->comparison().analysis(c.id());
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->input().width, c.info.image_size);
  }
  EXPECT_TRUE(QSettings().value("images/recent").toStringList().contains(image)) << "recent images remember drops";
}

TEST_F(MainWindowTest, LayerHeadAndQueryApplyToEveryColumn) {
  auto& state = window->state();
  auto* panel = window->workspace()->panel(ui::Panel::Attention);
  const auto columns = columns_of<ui::AttentionColumn>(panel);

  QTest::keyClick(window.get(), Qt::Key_Up, Qt::ControlModifier);  // previous block
  EXPECT_EQ(state.layer(), 9);
  QTest::keyClick(window.get(), Qt::Key_Right, Qt::ControlModifier);  // next head: mean -> head 1
  EXPECT_EQ(state.head(), 0);

  // Click the bottom-right patch of the first model's map: every model queries that patch.
  auto* overlay = columns.first()->overlay();
  QTest::mouseClick(overlay, Qt::LeftButton, {}, QPoint(overlay->width() - 6, overlay->height() - 6));
  for (auto* c : columns) {
    ASSERT_TRUE(c->queryCell().has_value());
    EXPECT_EQ(c->queryCell()->row, c->grid() - 1);
    EXPECT_EQ(c->queryCell()->col, c->grid() - 1);
    EXPECT_EQ(c->block(), 9);
    EXPECT_EQ(c->head(), 0);
  }
  // The map shown is the engine's map for exactly these settings.
  const auto* a = window->comparison().analysis(columns.first()->modelId());
  const auto expected = a->attention_map(9, 0, vitscope::runtime::Query::patch(7, 7));
  EXPECT_EQ(overlay->grid().values, expected.values);
  // Arrow keys on a focused map move the query.
  overlay->setFocus();
  QTest::keyClick(overlay, Qt::Key_Left);
  EXPECT_EQ(columns.first()->queryCell()->col, columns.first()->grid() - 2);
  QTest::keyClick(window.get(), Qt::Key_L, Qt::ControlModifier);
  EXPECT_TRUE(state.query().cls);
}

TEST_F(MainWindowTest, SpectrumProfileIsTheSelectedBlocksDiagonalEndingAtItsDeltaLog) {
  auto& state = window->state();
  state.setPanel(ui::Panel::Spectrum);
  auto* panel = static_cast<ui::SpectrumPanel*>(window->workspace()->panel(ui::Panel::Spectrum));
  for (int layer : {3, 11}) {
    state.setLayer(layer);
    panel->ensureFresh();
    const auto* plot = panel->profilePlot();
    const auto columns = panel->columns();
    ASSERT_EQ(plot->graphCount(), columns.size());
    for (int i = 0; i < columns.size(); ++i) {
      const auto* a = window->comparison().analysis(columns[i]->modelId());
      const auto& data = *plot->graph(i)->data();
      const int grid = columns[i]->grid(), frequencies = grid - grid / 2;  // DC .. highest below Nyquist
      ASSERT_EQ(data.size(), frequencies);
      EXPECT_EQ(data.at(0)->value, 0.0);  // DC minus DC
      EXPECT_DOUBLE_EQ(data.at(frequencies - 1)->key, 2.0 * (frequencies - 1) / grid);  // × π
      // The right end is the ΔLog amplitude that the plot over depth shows for this block.
      EXPECT_DOUBLE_EQ(data.at(frequencies - 1)->value, a->delta_log_amplitude()[2 * (layer + 1)]) << layer;
    }
  }
}

TEST_F(MainWindowTest, PaintingTheMaskReconstructsEveryDecoderModel) {
  window->state().setPanel(ui::Panel::Reconstruction);
  auto* panel = window->workspace()->panel(ui::Panel::Reconstruction);
  ui::ReconstructionColumn* column = nullptr;
  for (auto* c : columns_of<ui::ReconstructionColumn>(panel))
    if (c->maskedView() && !column) column = c;
  ASSERT_NE(column, nullptr) << "a bundled model with a decoder";
  window->state().setMaskRatio(0.0);  // nothing masked: the first press paints
  ASSERT_TRUE(waitForResults());
  auto* view = column->maskedView();
  const int cell = view->width() / column->grid();
  QTest::mousePress(view, Qt::LeftButton, {}, QPoint(cell / 2 + 2, cell / 2 + 2));
  QTest::mouseMove(view, QPoint(3 * cell + cell / 2, cell / 2 + 2));  // drag over 4 cells of the top row
  QTest::mouseRelease(view, Qt::LeftButton, {}, QPoint(3 * cell + cell / 2, cell / 2 + 2));
  EXPECT_FALSE(window->state().maskEdits().isEmpty());
  for (const auto& c : window->comparison().columns()) {
    if (!c.info.can_reconstruct) continue;
    const auto mask = window->comparison().currentMask(c.id());
    EXPECT_EQ(mask[0], 1) << c.name().toStdString();
    EXPECT_GE(std::count(mask.begin(), mask.end(), 1), 2) << c.name().toStdString();
  }
  ASSERT_TRUE(waitForResults());
  for (const auto& c : window->comparison().columns()) {
    if (!c.info.can_reconstruct) continue;
    const auto* r = window->comparison().reconstruction(c.id());
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->mask, window->comparison().currentMask(c.id()));
  }
  // Pressing a masked patch erases.
  QTest::mouseClick(view, Qt::LeftButton, {}, QPoint(cell / 2 + 2, cell / 2 + 2));
  EXPECT_EQ(window->comparison().currentMask(column->modelId())[0], 0);
}

TEST_F(MainWindowTest, CopyCommandNamesModelsImageAndMetrics) {
  window->state().setPanel(ui::Panel::Spectrum);
  QTest::keyClick(window.get(), Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
  const QString command = QApplication::clipboard()->text();
  EXPECT_TRUE(command.startsWith("vitscope-cli analyze --model ")) << command.toStdString();
  for (const auto& c : window->comparison().columns())
    EXPECT_TRUE(command.contains(QString::fromStdString(c.info.path))) << command.toStdString();
  EXPECT_TRUE(command.contains("--image ")) << command.toStdString();
  EXPECT_TRUE(command.contains("--metrics fourier")) << command.toStdString();
  EXPECT_TRUE(command.contains("--out vitscope-spectrum")) << command.toStdString();
}

TEST_F(MainWindowTest, BadInputIsReportedInTheWindowAndTheRestKeepsWorking) {
  const QString before = window->state().imageId();
  const int columns = window->comparison().columns().size();
  // A text file dropped as an image.
  const QString text = QString::fromStdString((scratch_dir() / "notes.txt").string());
  QFile f(text);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("not an image");
  f.close();
  dropFiles({text});
  ASSERT_TRUE(wait_until([&] { return messages_contain(*window, "notes.txt is not an image"); }))
      << window->messages()->messages().join('\n').toStdString();
  // A truncated PNG.
  const QString png = write_test_image(QString::fromStdString((scratch_dir() / "whole.png").string()));
  QFile whole(png);
  ASSERT_TRUE(whole.open(QIODevice::ReadOnly));
  const QByteArray head = whole.read(200);
  QFile bad(QString::fromStdString((scratch_dir() / "bad.png").string()));
  ASSERT_TRUE(bad.open(QIODevice::WriteOnly));
  bad.write(head);
  bad.close();
  dropFiles({bad.fileName()});
  ASSERT_TRUE(wait_until([&] { return messages_contain(*window, "bad.png is not an image"); }));
  // A corrupt checkpoint and a foreign one (a one-tensor state dict, not a ViT).
  QFile corrupt(QString::fromStdString((scratch_dir() / "corrupt.safetensors").string()));
  ASSERT_TRUE(corrupt.open(QIODevice::WriteOnly));
  corrupt.write(QByteArray(1000, '\x07'));
  corrupt.close();
  dropFiles({corrupt.fileName(), QString::fromStdString((fixtures_dir() / "io" / "one_key.pth").string())});
  ASSERT_TRUE(wait_until([&] { return messages_contain(*window, "corrupt.safetensors") && messages_contain(*window, "one_key.pth"); }))
      << window->messages()->messages().join('\n').toStdString();
  EXPECT_TRUE(messages_contain(*window, "Could not load the model"));
  ASSERT_TRUE(wait_until([&] { return !window->shelf().isLoading(); }));
  EXPECT_EQ(window->comparison().columns().size(), columns);
  EXPECT_EQ(window->state().imageId(), before);
  // Still working: another block redraws from the cache.
  window->state().setLayer(2);
  EXPECT_TRUE(waitForResults());
}

TEST_F(MainWindowTest, ModelWithAnotherImageSizeGetsItsOwnGrid) {
  window->openPaths({QString::fromStdString(other_size_model().string())});
  ASSERT_TRUE(wait_until([&] { return window->comparison().columns().size() == window->shelf().rowCount() && !window->shelf().isLoading(); }));
  ASSERT_TRUE(wait_until([&] { return messages_contain(*window, "takes 64×64-pixel images"); }))
      << window->messages()->messages().join('\n').toStdString();
  ASSERT_TRUE(waitForResults());
  const auto& last = window->comparison().columns().last();
  EXPECT_EQ(last.info.grid, 16);
  window->state().setQueryPoint({0.3, 0.6});
  auto* panel = window->workspace()->panel(ui::Panel::Attention);
  for (auto* c : panel->columns()) {
    EXPECT_EQ(c->queryCell()->row, static_cast<int>(0.6 * c->grid()));
    EXPECT_EQ(c->queryCell()->col, static_cast<int>(0.3 * c->grid()));
  }
  const auto* a = window->comparison().analysis(last.id());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->attention_map(a->depth() - 1, -1, vitscope::runtime::Query::patch(9, 4)).rows, 16);
}

TEST_F(MainWindowTest, WithoutCudaTheDeviceChoiceSaysSoAndStaysOnTheCpu) {
  auto* box = window->deviceBox();
  const int cuda = box->findData("cuda");
  if (cuda < 0) GTEST_SKIP() << "this machine has CUDA";
  box->setCurrentIndex(cuda);
  emit box->activated(cuda);
  ASSERT_TRUE(wait_until([&] { return messages_contain(*window, "CUDA was requested but no CUDA device"); }))
      << window->messages()->messages().join('\n').toStdString();
  EXPECT_EQ(box->currentData().toString(), "cpu");
  EXPECT_TRUE(waitForResults());
}

TEST_F(MainWindowTest, RemovingAModelWhileItsAnalysisRunsIsSafe) {
  for (int i = 0; i < 3; ++i) {
    const QString image = write_test_image(QString::fromStdString((scratch_dir() / ("busy" + std::to_string(i) + ".png")).string()), 30 + i);
    dropFiles({image});
    ASSERT_TRUE(wait_until([&] { return window->state().imageName() == QFileInfo(image).fileName(); }));
    window->shelf().removeModel(0);  // its forward may be running on a worker right now
    ASSERT_TRUE(waitForResults());
  }
  EXPECT_EQ(window->comparison().columns().size(), window->shelf().rowCount());
}

TEST_F(MainWindowTest, PastedPictureBecomesTheCurrentImage) {
  QImage picture(40, 30, QImage::Format_RGB32);
  picture.fill(QColor(200, 60, 30));
  QApplication::clipboard()->setImage(picture);
  QTest::keyClick(window.get(), Qt::Key_V, Qt::ControlModifier);
  ASSERT_TRUE(wait_until([&] { return window->state().imageName().startsWith("pasted-"); }));
  EXPECT_TRUE(waitForResults());
}

TEST_F(MainWindowTest, LayoutIsRememberedOnClose) {
  window->close();
  EXPECT_FALSE(QSettings().value("window/state").toByteArray().isEmpty());
}

TEST_F(MainWindowTest, ShelfRenamesReordersAndRemoves) {
  auto& shelf = window->shelf();
  const int n = shelf.rowCount();
  ASSERT_TRUE(shelf.setData(shelf.index(0), "My CL model", Qt::EditRole));
  EXPECT_EQ(window->comparison().columns().first().name(), "My CL model");
  shelf.moveModel(0, n - 1);
  EXPECT_EQ(window->comparison().columns().last().name(), "My CL model");
  shelf.removeModel(n - 1);
  EXPECT_EQ(window->comparison().columns().size(), n - 1);
  for (auto* panel : window->workspace()->panels()) EXPECT_EQ(panel->columns().size(), n - 1);
  EXPECT_TRUE(waitForResults());
}

}  // namespace vitscope::test
