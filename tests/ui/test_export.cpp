// Exports: PNG at a chosen DPI, SVG and PDF with vector plots, CSV and JSON numbers; the files
// are checked, not just written.
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSvgRenderer>

#include "ui/export/figure_renderer.h"
#include "ui/workspace/attention_column.h"
#include "ui/workspace/probes_panel.h"
#include "ui_test_support.h"

namespace vitscope::test {

namespace {

QString out_path(const QString& name) { return QString::fromStdString((scratch_dir() / "export").string()) + "/" + name; }

// Mean absolute difference of two equally sized regions of an image (0..255).
double region_difference(const QImage& image, QRect a, QRect b) {
  double sum = 0;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) {
      const QRgb p = image.pixel(a.x() + x, a.y() + y), q = image.pixel(b.x() + x, b.y() + y);
      sum += std::abs(qRed(p) - qRed(q)) + std::abs(qGreen(p) - qGreen(q)) + std::abs(qBlue(p) - qBlue(q));
    }
  return sum / (3.0 * a.width() * a.height());
}

}  // namespace

class ExportTest : public MainWindowTest {
 protected:
  void SetUp() override {
    MainWindowTest::SetUp();
    QDir().mkpath(out_path(""));
  }
  ui::ComparisonPanel* attention() { return window->workspace()->panel(ui::Panel::Attention); }
  QString exportOk(const QList<ui::ComparisonPanel*>& panels, const QString& name, int dpi = 96) {
    settleLayouts();
    QString error;
    const QString path = out_path(name);
    EXPECT_TRUE(window->exportPanels(panels, path, dpi, &error)) << error.toStdString();
    settleLayouts();
    return path;
  }
  // Results arrive asynchronously and each one posts layout requests; on a busy machine some are
  // still queued when the test measures. Flush them so export and measurement see one layout.
  static void settleLayouts() {
    for (int i = 0; i < 3; ++i) {
      QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
      QApplication::processEvents();
    }
  }
};

TEST_F(ExportTest, PngHasTheRequestedDpiAndSizeAndTheColumnsDiffer) {
  const QString path = exportOk({attention()}, "attention.png", 192);
  QImage image(path);
  ASSERT_FALSE(image.isNull());
  const QSize logical = ui::figure_size({attention()->figure()});
  EXPECT_EQ(image.width(), logical.width() * 2);
  EXPECT_EQ(image.height(), logical.height() * 2);
  EXPECT_NEAR(image.dotsPerMeterX() * 0.0254, 192, 1);
  // The attention maps of the first two models, located through the widgets: they must differ
  // (models differ, and the export must not repeat one column).
  const auto columns = attention()->columns();
  ASSERT_GE(columns.size(), 2);
  auto* content = attention()->figure().root;
  const int caption = logical.height() - content->sizeHint().expandedTo(content->minimumSizeHint()).height();
  auto map_rect = [&](int i) {
    auto* overlay = static_cast<ui::AttentionColumn*>(columns[i])->overlay();
    const QPoint at = overlay->mapTo(content, QPoint(0, 0)) + QPoint(0, caption);
    return QRect(at * 2, overlay->size() * 2).adjusted(8, 8, -8, -8);
  };
  const double diff = region_difference(image, map_rect(0), map_rect(1));
  EXPECT_GT(diff, 3.0) << "columns look identical";
  // Not blank: the map region has many colours.
  QSet<QRgb> colours;
  const QRect r = map_rect(0);
  for (int y = r.top(); y < r.bottom(); y += 4)
    for (int x = r.left(); x < r.right(); x += 4) colours.insert(image.pixel(x, y));
  EXPECT_GT(colours.size(), 10);
}

TEST_F(ExportTest, SvgIsValidVectorFigure) {
  const QString path = exportOk({attention()}, "attention.svg");
  QSvgRenderer svg(path);
  ASSERT_TRUE(svg.isValid());
  const QSize logical = ui::figure_size({attention()->figure()});
  EXPECT_EQ(svg.viewBox(), QRect(QPoint(0, 0), logical));
  QFile f(path);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  const QString text = QString::fromUtf8(f.readAll());
  EXPECT_TRUE(text.contains("<polyline") || text.contains("<path")) << "plots are drawn as vectors";
  EXPECT_TRUE(text.contains("Mean attention distance")) << "plot titles are text";
  EXPECT_TRUE(text.contains("<image")) << "maps are embedded pictures";
}

TEST_F(ExportTest, PdfPageHasTheFigureSize) {
  const QString path = exportOk({attention()}, "attention.pdf");
  QFile f(path);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  const QByteArray pdf = f.readAll();
  ASSERT_TRUE(pdf.startsWith("%PDF-"));
  EXPECT_GT(pdf.size(), 5000);
  const auto match = QRegularExpression(R"(/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\])").match(QString::fromLatin1(pdf));
  ASSERT_TRUE(match.hasMatch());
  const QSize logical = ui::figure_size({attention()->figure()});
  EXPECT_NEAR(match.captured(1).toDouble(), logical.width() * 0.75, 1.5);  // points = px · 72/96
  EXPECT_NEAR(match.captured(2).toDouble(), logical.height() * 0.75, 1.5);
}

TEST_F(ExportTest, WholeComparisonStacksAllPanelsAlsoHiddenOnes) {
  const auto panels = window->workspace()->panels();
  // The Probes panel computes when asked and draws what has arrived: ask, wait, draw.
  auto* probes_panel = static_cast<ui::ProbesPanel*>(window->workspace()->panel(ui::Panel::Probes));
  probes_panel->ensureFresh();
  ASSERT_TRUE(wait_until([&] { return probes_panel->probes().allImageProbesReady(); }, 120000));
  probes_panel->ensureFresh();
  const QString path = exportOk(panels, "comparison.png", 96);
  QImage image(path);
  ASSERT_FALSE(image.isNull());
  int height = 0;
  for (auto* p : panels) height += ui::figure_size({p->figure()}).height();
  EXPECT_GE(image.height(), height);  // + the panel titles
  // Every panel drew something: the bottom quarter (representation, probes) is not blank.
  const QImage bottom = image.copy(0, image.height() * 3 / 4, image.width(), image.height() / 4);
  QSet<QRgb> colours;
  for (int y = 0; y < bottom.height(); y += 3)
    for (int x = 0; x < bottom.width(); x += 3) colours.insert(bottom.pixel(x, y));
  EXPECT_GT(colours.size(), 50);
}

TEST_F(ExportTest, JsonAndCsvCarryTheNumbers) {
  const QString json_path = exportOk({attention()}, "attention.json");
  QFile f(json_path);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  const auto doc = QJsonDocument::fromJson(f.readAll()).object();
  const auto panel = doc["panels"].toArray().first().toObject();
  EXPECT_EQ(panel["panel"].toString(), "Attention");
  const auto models = panel["models"].toArray();
  ASSERT_EQ(models.size(), window->comparison().columns().size());
  const auto first = models.first().toObject();
  const int grid = first["grid"].toInt();
  EXPECT_EQ(first["attention_map"].toArray().size(), grid);
  EXPECT_EQ(first["attention_distance"].toObject()["per_layer"].toArray().size(),
            window->comparison().columns().first().info.depth);
  const QString csv_path = exportOk(window->workspace()->panels(), "comparison.csv");
  QFile c(csv_path);
  ASSERT_TRUE(c.open(QIODevice::ReadOnly));
  const QString csv = QString::fromUtf8(c.readAll());
  EXPECT_TRUE(csv.startsWith("panel,model,quantity,i,j,value\n"));
  for (const auto& q : {"nmi.per_layer", "delta_log_amplitude_per_depth", "singular_values", "masked_mse"})
    EXPECT_TRUE(csv.contains(q)) << q;
}

// A panel never shown, exported at once (no event loop in between): the figure must still be the
// panel at its natural size, not a widget Qt has not laid out yet.
TEST_F(ExportTest, PanelNeverShownExportsAtOnceAtItsNaturalSize) {
  QString error;
  const QString path = out_path("unshown-spectrum.png");
  ASSERT_TRUE(window->exportPanels({window->workspace()->panel(ui::Panel::Spectrum)}, path, 96, &error))
      << error.toStdString();
  EXPECT_GT(QImage(path).width(), 300);
  EXPECT_GT(QImage(path).height(), 200);
}

TEST_F(ExportTest, UnknownExtensionIsAnErrorNotAFile) {
  QString error;
  EXPECT_FALSE(window->exportPanels({attention()}, out_path("figure.bmpx"), 96, &error));
  EXPECT_TRUE(error.contains("unknown file type"));
}

}  // namespace vitscope::test
