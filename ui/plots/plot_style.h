#pragma once
// How plots and heatmaps are drawn app-wide: normal, or for a projector (presentation mode:
// thicker lines and markers, bigger pictures and fonts, a colormap with a wider range of
// lightness). Plots read it whenever they draw, views when they are built;
// apply_plot_style() updates the fonts of a plot already built.
class QCustomPlot;

namespace vitscope::ui {

struct PlotStyle {
  double line_scale = 1.0;     // line widths and marker sizes
  double view_scale = 1.0;     // heatmap pictures and model columns
  bool high_contrast = false;  // heatmaps in inferno (black to pale yellow) instead of plasma / viridis
};

const PlotStyle& plot_style();
void set_plot_style(const PlotStyle& style);

// Fonts from the application font (title bold, legend a point smaller), then a replot.
void apply_plot_style(QCustomPlot* plot);

}  // namespace vitscope::ui
