#pragma once
// Draws panels as figures: PNG at a chosen DPI, SVG and PDF with the plots as vectors
// (QCustomPlot::toPainter) and the heatmaps as crisp, nearest-neighbour images. A figure is a
// stack of sections (e.g. all four panels), each a caption (rich text, wrapped to the section's
// width) above a widget tree drawn at its natural size (its size hint), also when it is
// scrolled out of view or sits on a hidden tab.
#include <QImage>
#include <QList>
#include <QSize>
#include <QString>
#include <QWidget>

namespace vitscope::ui {

enum class FigureFormat { Png, Svg, Pdf };

struct FigureSection {
  QString caption;  // HTML
  QWidget* root = nullptr;
};

// From a file name's extension; nullopt for anything else.
std::optional<FigureFormat> figure_format_for(const QString& path);

QSize figure_size(const QList<FigureSection>& sections);  // in logical pixels (1/96 inch)
QImage render_figure_image(const QList<FigureSection>& sections, int dpi);
// Writes the file; on failure returns false and says why in `error`.
bool save_figure(const QList<FigureSection>& sections, const QString& path, FigureFormat format, int dpi, QString* error);

}  // namespace vitscope::ui
