#include "ui/plots/curve_figure.h"

#include <QApplication>
#include <QPainter>
#include <QSvgGenerator>
#include <memory>
#include <stdexcept>

#include "ui/plots/line_plot.h"

namespace vitscope::ui {

namespace {

// QCustomPlot is a QWidget: it needs a QApplication, which the CLI does not otherwise have.
void ensure_application() {
  if (QCoreApplication::instance()) return;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
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

}  // namespace

void save_curve_figure(const CurveFigure& figure, const std::string& path, int width, int height) {
  ensure_application();
  LinePlot plot(QString::fromStdString(figure.title), QString::fromStdString(figure.x_label),
                QString::fromStdString(figure.y_label));
  QVector<PlotSeries> series;
  for (size_t i = 0; i < figure.series.size(); ++i) {
    const auto& s = figure.series[i];
    series.push_back({QString::fromStdString(s.name), line_color(i),
                      QVector<double>(s.x.begin(), s.x.end()), QVector<double>(s.y.begin(), s.y.end())});
  }
  plot.setIntegerXTicks(figure.integer_x);
  if (figure.y_max > figure.y_min) plot.setPreferredYRange(figure.y_min, figure.y_max);
  plot.setSeries(series);
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

}  // namespace vitscope::ui
