#include "ui/plots/curve_figure.h"

#include <QApplication>
#include <QDir>
#include <QPainter>
#include <QSvgGenerator>
#include <algorithm>
#include <memory>
#include <stdexcept>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ui/plots/colormap.h"
#include "ui/plots/line_plot.h"
#include "ui/plots/shape_bias_plot.h"

namespace vitscope::ui {

namespace {

// Without a desktop session (ssh, cron, CI) Qt warns on every run that XDG_RUNTIME_DIR is unset
// and falls back to <tmp>/runtime-<user>; the CLI takes that same folder itself, quietly, when
// it is private (created here with mode 0700, or already so).
void use_private_runtime_dir() {
  if (!qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) return;
  const passwd* user = getpwuid(geteuid());
  if (!user) return;
  const QByteArray dir = QDir::tempPath().toLocal8Bit() + "/runtime-" + user->pw_name;
  mkdir(dir.constData(), 0700);
  struct stat info {};
  if (lstat(dir.constData(), &info) == 0 && S_ISDIR(info.st_mode) && info.st_uid == geteuid() &&
      (info.st_mode & 0777) == 0700)
    qputenv("XDG_RUNTIME_DIR", dir);
}

// QCustomPlot is a QWidget: it needs a QApplication, which the CLI does not otherwise have.
void ensure_application() {
  if (QCoreApplication::instance()) return;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  use_private_runtime_dir();
  static int argc = 1;
  static char name[] = "vitscope-cli";
  static char* argv[] = {name, nullptr};
  static auto app = std::make_unique<QApplication>(argc, argv);
}

// Tableau-10: distinguishable lines in print and for most colour-vision deficiencies.
QColor line_color(size_t i) {
  static const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return QColor(kColors[i % 10]);
}

// A series' own colour, else the i-th of the palette above.
QColor series_color(const std::string& color, size_t i) {
  return color.empty() ? line_color(i) : QColor(QString::fromStdString(color));
}

// Renders `plot` to the format of the file's extension (.png at 2x scale, .svg, .pdf).
void save_plot(QCustomPlot& plot, const std::string& path, int width, int height) {
  plot.resize(width, height);
  const QString file = QString::fromStdString(path);
  bool ok = false;
  if (file.endsWith(".png", Qt::CaseInsensitive)) {
    ok = plot.savePng(file, width, height, 2.0);
  } else if (file.endsWith(".pdf", Qt::CaseInsensitive)) {
    ok = plot.savePdf(file, width, height);
  } else if (file.endsWith(".svg", Qt::CaseInsensitive)) {
    QSvgGenerator svg;
    svg.setFileName(file);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    QCPPainter painter(&svg);
    plot.toPainter(&painter, width, height);
    ok = painter.end();
  } else {
    throw std::runtime_error(path + ": unknown figure format (use .png, .svg or .pdf)");
  }
  if (!ok) throw std::runtime_error(path + ": cannot write figure");
}

}  // namespace

void save_curve_figure(const CurveFigure& figure, const std::string& path, int width, int height) {
  ensure_application();
  LinePlot plot(QString::fromStdString(figure.title), QString::fromStdString(figure.x_label),
                QString::fromStdString(figure.y_label));
  QVector<PlotSeries> series;
  for (size_t i = 0; i < figure.series.size(); ++i) {
    const auto& s = figure.series[i];
    series.push_back({QString::fromStdString(s.name), series_color(s.color, i),
                      QVector<double>(s.x.begin(), s.x.end()), QVector<double>(s.y.begin(), s.y.end()),
                      s.dashed ? Qt::DashLine : Qt::SolidLine});
  }
  plot.setIntegerXTicks(figure.integer_x);
  if (figure.y_max > figure.y_min) plot.setPreferredYRange(figure.y_min, figure.y_max);
  plot.setSeries(series);
  save_plot(plot, path, width, height);
}

void save_shape_bias_figure(const ShapeBiasFigure& figure, const std::string& path, int width, int height) {
  ensure_application();
  ShapeBiasPlot plot;
  QStringList categories;
  for (const auto& c : figure.categories) categories << QString::fromStdString(c);
  QVector<ShapeBiasSeries> series;
  for (size_t i = 0; i < figure.models.size(); ++i) {
    const auto& m = figure.models[i];
    series.push_back({QString::fromStdString(m.name), series_color(m.color, i),
                      QVector<double>(m.per_category.begin(), m.per_category.end()), m.overall});
  }
  plot.setData(categories, series);
  save_plot(plot, path, width, height);
}

void save_scatter_figure(const ScatterFigure& figure, const std::string& path, int width, int height) {
  ensure_application();
  LinePlot plot(QString::fromStdString(figure.title), QString::fromStdString(figure.x_label),
                QString::fromStdString(figure.y_label));
  plot.setIntegerXTicks(false);
  for (size_t i = 0; i < figure.series.size(); ++i) {
    const auto& s = figure.series[i];
    auto* graph = plot.addGraph();
    graph->setName(QString::fromStdString(s.name));
    graph->setLineStyle(QCPGraph::lsNone);
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, line_color(i), 3));
    graph->setData(QVector<double>(s.x.begin(), s.x.end()), QVector<double>(s.y.begin(), s.y.end()));
  }
  plot.legend->setVisible(!figure.series.empty());
  plot.rescaleAxes();
  save_plot(plot, path, width, height);
}

void save_heatmap_grid(const HeatmapGridFigure& figure, const std::string& path, int cell_pixels) {
  ensure_application();
  const int count = static_cast<int>(figure.maps.size());
  const int columns = std::max(1, std::min(figure.columns, count));
  const int lines = (count + columns - 1) / columns;
  const int caption_height = 18, title_height = figure.title.empty() ? 0 : 24, gap = 6;
  QImage image(columns * (cell_pixels + gap) + gap, title_height + lines * (cell_pixels + caption_height + gap) + gap,
               QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.setPen(Qt::black);
  if (title_height > 0)
    painter.drawText(QRect(0, 0, image.width(), title_height), Qt::AlignCenter, QString::fromStdString(figure.title));
  for (int i = 0; i < count; ++i) {
    const runtime::FloatGrid grid{figure.rows, figure.cols, figure.maps[i]};
    const int x = gap + (i % columns) * (cell_pixels + gap);
    const int y = title_height + gap + (i / columns) * (cell_pixels + caption_height + gap);
    painter.drawImage(QRect(x, y, cell_pixels, cell_pixels), grid_to_image(grid, Colormap::Plasma));
    if (figure.marker_row >= 0 && figure.marker_col >= 0) {
      const double w = static_cast<double>(cell_pixels) / figure.cols, h = static_cast<double>(cell_pixels) / figure.rows;
      painter.setPen(QPen(Qt::red, 2));
      painter.drawRect(QRectF(x + figure.marker_col * w, y + figure.marker_row * h, w, h));
      painter.setPen(Qt::black);
    }
    if (i < static_cast<int>(figure.captions.size()))
      painter.drawText(QRect(x, y + cell_pixels, cell_pixels, caption_height), Qt::AlignCenter,
                       QString::fromStdString(figure.captions[i]));
  }
  painter.end();
  if (!image.save(QString::fromStdString(path), "PNG")) throw std::runtime_error(path + ": cannot write figure");
}

}  // namespace vitscope::ui
