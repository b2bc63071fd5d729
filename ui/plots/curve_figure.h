#pragma once
// Headless figures for vitscope-cli: the same plots the app draws (line plot, shape-bias plot),
// rendered without a window to PNG, SVG or PDF. Qt-free header so that torch code (the CLI) can
// include it.
#include <string>
#include <vector>

namespace vitscope::ui {

struct CurveSeries {
  std::string name;
  std::vector<double> x, y;
  // "#rrggbb", the model's colour (ui/plots/model_colors.h), so that a model looks the same in
  // every figure and in the app; "" = a colour by position. A model's second curve (the MAE
  // decoder) takes its colour, dashed.
  std::string color;
  bool dashed = false;
};

struct CurveFigure {
  std::string title, x_label, y_label;
  std::vector<CurveSeries> series;  // one line per model
  bool integer_x = true;            // layers / depths
  double y_min = 0, y_max = 0;      // preferred y range when y_max > y_min (grows to fit the data)
};

// Format from the extension (.png at 2× scale, .svg, .pdf). Starts an offscreen
// QGuiApplication when none runs. Throws std::runtime_error when the file cannot be written.
void save_curve_figure(const CurveFigure& figure, const std::string& path, int width = 640, int height = 420);

// Geirhos et al. 2019, Fig. 4 style (ui/plots/shape_bias_plot.h): a marker per model per category.
struct ShapeBiasFigure {
  struct Model {
    std::string name;
    std::vector<double> per_category;  // NaN: undefined in that category
    double overall = 0;                // NaN: undefined
    std::string color;                 // "#rrggbb", "" = by position
  };
  std::vector<std::string> categories;
  std::vector<Model> models;
};
void save_shape_bias_figure(const ShapeBiasFigure& figure, const std::string& path, int width = 560, int height = 460);

// A scatter plot (token t-SNE, §3.4): one colour per series (class or image), small dots, the
// line plot's title, axes and legend styling. Format from the extension, as save_curve_figure.
struct ScatterSeries {
  std::string name;
  std::vector<double> x, y;
};
struct ScatterFigure {
  std::string title, x_label, y_label;
  std::vector<ScatterSeries> series;
};
void save_scatter_figure(const ScatterFigure& figure, const std::string& path, int width = 560, int height = 560);

// A row-major grid of heatmaps with a caption each (per-head attention maps, §3.1): every map is
// scaled min -> max of its own values with the plasma colormap, as the app and the paper's
// notebooks draw them, and enlarged without interpolation. PNG only.
struct HeatmapGridFigure {
  std::string title;
  int rows = 0, cols = 0;                  // size of every map
  std::vector<std::vector<float>> maps;    // row-major, rows * cols values each
  std::vector<std::string> captions;       // one per map
  int columns = 4;                         // maps per line of the grid
  int marker_row = -1, marker_col = -1;    // a cell outlined on every map (the query patch), -1: none
};
void save_heatmap_grid(const HeatmapGridFigure& figure, const std::string& path, int cell_pixels = 112);

}  // namespace vitscope::ui
