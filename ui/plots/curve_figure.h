#pragma once
// Headless figures for vitscope-cli: the same line plot the app draws, rendered without a
// window to PNG, SVG or PDF. Qt-free header so that torch code (the CLI) can include it.
#include <string>
#include <vector>

namespace vitscope::ui {

struct CurveSeries {
  std::string name;
  std::vector<double> x, y;
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

}  // namespace vitscope::ui
