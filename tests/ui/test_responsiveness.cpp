// GUI responsiveness, measured on the real window (docs/PERFORMANCE.md, "GUI responsiveness"):
//   control change -> repaint: a block / head / query change until the visible panel has
//                              repainted (the analyses are cached: no inference);
//   new image -> view panels:  an image the models have not seen, dropped on the window, until
//                              every column of the four view panels shows it (inference +
//                              measurements + reconstruction of three bundled models + painting);
//                              then, separately, until the Probes panel has probed it.
// Prints PERF lines and asserts only that everything got drawn: timings are measured, not tested
// (a loaded machine would fail any bound); the goals and results are in the performance document.
#include <QElapsedTimer>
#include <QPaintEvent>

#include <algorithm>
#include <cstdio>

#include "ui/plots/heatmap_view.h"
#include "ui/workspace/probes_panel.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

// Counts paint events of every heatmap of a panel.
class PaintCounter : public QObject {
 public:
  explicit PaintCounter(QWidget* root) {
    for (auto* v : root->findChildren<ui::HeatmapView*>()) v->installEventFilter(this);
  }
  int paints = 0;

 protected:
  bool eventFilter(QObject*, QEvent* e) override {
    if (e->type() == QEvent::Paint) ++paints;
    return false;
  }
};

struct Stats {
  double median, max;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.back()};
}

}  // namespace

TEST_F(MainWindowTest, ControlChangeRepaintsWithinAFrame) {
  auto& state = window->state();
  for (auto panel : {ui::Panel::Attention, ui::Panel::Spectrum, ui::Panel::Representation}) {
    state.setPanel(panel);
    QCoreApplication::processEvents();
    PaintCounter counter(window->workspace()->panel(panel));
    std::vector<double> ms;
    // Head and query only matter to the attention panel; the others follow the block.
    const int kinds = panel == ui::Panel::Attention ? 3 : 1;
    for (int i = 0; i < 24; ++i) {
      const int before = counter.paints;
      QElapsedTimer t;
      t.start();
      switch (i % kinds) {
        case 0: state.setLayer((state.layer() + 5) % state.maxLayers()); break;
        case 1: state.stepHead(1); break;
        case 2: state.setQueryPoint({(i % 7) / 7.0 + 0.05, (i % 5) / 5.0 + 0.05}); break;
      }
      // The change redraws synchronously into the widgets; the repaint happens on the next
      // pass of the event loop, as it does for a user.
      while (counter.paints == before && t.elapsed() < 5000) QCoreApplication::processEvents();
      ASSERT_GT(counter.paints, before) << "no repaint";
      ms.push_back(t.nsecsElapsed() / 1e6);
    }
    const auto s = stats(ms);
    std::printf("PERF control change -> repaint, %s panel, %d models: median %.2f ms, max %.2f ms\n",
                window->workspace()->panel(panel)->title().toUtf8().constData(),
                static_cast<int>(window->comparison().columns().size()), s.median, s.max);
    std::fflush(stdout);
  }
}

TEST_F(MainWindowTest, NewImageToAllPanelsOfThreeModels) {
  // Three bundled models: CL, hybrid and one MIM model with a decoder.
  while (window->shelf().rowCount() > 3) window->shelf().removeModel(window->shelf().rowCount() - 1);
  ASSERT_EQ(window->comparison().columns().size(), 3);
  std::vector<double> total, compute, probes;
  for (int i = 0; i < 6; ++i) {
    const QString image = write_test_image(QString::fromStdString((scratch_dir() / ("fresh" + std::to_string(i) + ".png")).string()), 10 + i);
    QElapsedTimer t;
    t.start();
    dropFiles({image});
    ASSERT_TRUE(wait_until([&] { return window->state().imageName() == QFileInfo(image).fileName(); }));
    ASSERT_TRUE(waitForResults());
    // Every view panel draws the new image (the hidden ones when shown, as a user switches tabs).
    for (auto panel : {ui::Panel::Attention, ui::Panel::Reconstruction, ui::Panel::Spectrum, ui::Panel::Representation}) {
      window->workspace()->panel(panel)->ensureFresh();
      window->workspace()->panel(panel)->repaint();
    }
    total.push_back(t.nsecsElapsed() / 1e6);
    double forward = 0;
    for (const auto& c : window->comparison().columns()) forward += window->comparison().analysis(c.id())->forward_ms();
    compute.push_back(forward);
    // The Probes panel computes only when shown (every model on the image's probe views and
    // filtered copies): timed on its own, and awaited, so that its work does not spill into the next image's measurement.
    QElapsedTimer p;
    p.start();
    auto* probes_panel = static_cast<ui::ProbesPanel*>(window->workspace()->panel(ui::Panel::Probes));
    probes_panel->ensureFresh();
    ASSERT_TRUE(wait_until([&] { return probes_panel->probes().allImageProbesReady(); }, 120000));
    probes_panel->repaint();
    probes.push_back(p.nsecsElapsed() / 1e6);
  }
  const auto s = stats(total), c = stats(compute);
  std::printf("PERF new image -> the four view panels of 3 models (decode + analyses + reconstruction + paint): "
              "median %.1f ms, max %.1f ms\n", s.median, s.max);
  std::printf("PERF   of which forward + measurements, summed over the 3 models: median %.1f ms\n", c.median);
  std::printf("PERF then the Probes panel (probe views + label-free and frequency probes of 3 models): median %.1f ms\n",
              stats(probes).median);
  // The compute alone, without the UI and without two jobs sharing the cores: each model's
  // analysis and reconstruction of a fresh image, one after the other on this thread.
  std::vector<double> alone;
  for (int i = 0; i < 6; ++i) {
    const QString image = write_test_image(QString::fromStdString((scratch_dir() / ("alone" + std::to_string(i) + ".png")).string()), 20 + i);
    const auto id = explorer->add_image(image.toStdString());
    QElapsedTimer t;
    t.start();
    for (const auto& col : window->comparison().columns()) {
      explorer->analyze(col.info.id, id);
      if (col.info.can_reconstruct) explorer->reconstruct(col.info.id, id, explorer->random_mask(col.info.id, 0.75, 0));
    }
    alone.push_back(t.nsecsElapsed() / 1e6);
  }
  std::printf("PERF   compute alone, 3 models one after the other (analyses + reconstructions): median %.1f ms\n",
              stats(alone).median);
  std::fflush(stdout);
}

}  // namespace vitscope::test
