#pragma once
// Perceptually uniform colormaps for heatmaps (plasma for attention, as in the paper's
// notebooks; viridis for spectra; inferno, the widest in lightness, for projectors), as small
// lookup tables interpolated linearly.
#include <QImage>
#include <QRgb>

#include "core/runtime/explorer.h"

namespace vitscope::ui {

enum class Colormap { Plasma, Viridis, Inferno };

// t in [0, 1] (clamped).
QRgb colormap_color(Colormap map, double t);

// One pixel per grid cell, each cell scaled min -> max of the grid (the paper's auto-scaling);
// a constant grid maps to the middle of the colormap. Scale it up with nearest-neighbour.
// In high-contrast style (plot_style.h) every map is drawn as inferno.
QImage grid_to_image(const runtime::FloatGrid& grid, Colormap map);

// The model's 8-bit RGB picture as a QImage (deep copy).
QImage rgb_to_image(const runtime::RgbImage& image);

}  // namespace vitscope::ui
