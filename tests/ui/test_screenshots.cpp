// Writes a screenshot of the window on each panel, and one of each panel's exported figure,
// to screenshot_dir() (ctest: build/tests/screenshots) for people to look at:
//   VITSCOPE_SCREENSHOT_DIR=shots ./build/tests/test_ui --gtest_filter='Screenshots*'
#include <QDir>
#include <QFile>
#include <QPainter>
#include <QSvgRenderer>

#include <cstdio>

#include "support/test_env.h"
#include "ui/export/figure_renderer.h"
#include "ui/workspace/probes_panel.h"
#include "ui_test_support.h"

namespace vitscope::test {

class Screenshots : public MainWindowTest {};

TEST_F(Screenshots, EveryPanel) {
  const QString dir = screenshot_dir();
  // A photo when the samples are there.
  for (int row = 0; row < window->gallery().rowCount(); ++row)
    if (window->gallery().index(row).data(Qt::DisplayRole).toString() == "chelsea.png")
      window->state().setImage(window->gallery().index(row).data(ui::ImageGalleryModel::ImageIdRole).toString(), "chelsea.png");
  ASSERT_TRUE(waitForResults());
  // The Probes panel with the cue-conflict shape bias when the reference data is there: linear
  // heads on 20 CIFAR-10 images per class (quick, not the numbers of docs/PROBES.md).
  auto& probes = static_cast<ui::ProbesPanel*>(window->workspace()->panel(ui::Panel::Probes))->probes();
  const auto cifar = shared_dir() / "data" / "cifar10" / "cifar10-jpg.tar.gz";
  if (!probes.stimuliDir().isEmpty() && std::filesystem::exists(cifar)) {
    probes.setHeadData(QString::fromStdString(cifar.string()));
    probes.setHeadImagesPerClass(20);
    probes.measureAllShapeBias();
    ASSERT_TRUE(wait_until([&] { return !probes.shapeBiasBusy(); }, 900000));
  } else {
    std::printf("screenshot: no ../shared cue-conflict / CIFAR-10 data, the Probes panel shows no shape bias\n");
  }
  const char* names[] = {"attention", "reconstruction", "spectrum", "representation", "probes"};
  static_assert(std::size(names) == ui::kPanelCount);
  for (int i = 0; i < ui::kPanelCount; ++i) {
    window->state().setPanel(static_cast<ui::Panel>(i));
    if (static_cast<ui::Panel>(i) == ui::Panel::Probes) {
      ASSERT_TRUE(wait_until([&] { return probes.allImageProbesReady(); }, 120000));
    }
    QTest::qWait(50);
    const QString window_shot = dir + "/window-" + names[i] + ".png";
    ASSERT_TRUE(window->grab().save(window_shot));
    const QString figure = dir + "/figure-" + names[i] + ".png";
    QString error;
    ASSERT_TRUE(window->exportPanels({window->workspace()->panel(static_cast<ui::Panel>(i))}, figure, 96, &error))
        << error.toStdString();
    std::printf("screenshot: %s\nscreenshot: %s\n", window_shot.toUtf8().constData(), figure.toUtf8().constData());
  }
  // The vector export as a viewer shows it: the attention SVG drawn by Qt's SVG renderer at 2×.
  const QString svg = dir + "/figure-attention.svg";
  QString error;
  ASSERT_TRUE(window->exportPanels({window->workspace()->panel(ui::Panel::Attention)}, svg, 96, &error));
  QSvgRenderer renderer(svg);
  ASSERT_TRUE(renderer.isValid());
  QImage drawn(renderer.viewBox().size() * 2, QImage::Format_RGB32);
  drawn.fill(Qt::white);
  QPainter painter(&drawn);
  renderer.render(&painter);
  painter.end();
  ASSERT_TRUE(drawn.save(dir + "/figure-attention-svg.png"));
  std::printf("screenshot: %s/figure-attention-svg.png\n", dir.toUtf8().constData());
}

}  // namespace vitscope::test
