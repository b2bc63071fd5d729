#include "ui/plots/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "ui/plots/plot_style.h"

namespace vitscope::ui {

namespace {

// matplotlib's maps sampled at t = 0, 1/8, …, 1.
constexpr std::array<QRgb, 9> kPlasma = {0x0d0887, 0x4c02a1, 0x7e03a8, 0xa92395, 0xcc4778,
                                         0xe56b5d, 0xf89540, 0xfdc527, 0xf0f921};
constexpr std::array<QRgb, 9> kViridis = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c,
                                          0x28ae80, 0x5ec962, 0xaddc30, 0xfde725};
constexpr std::array<QRgb, 9> kInferno = {0x000004, 0x1f0c48, 0x550f6d, 0x88226a, 0xba3655,
                                          0xe35933, 0xf98e09, 0xf9cb35, 0xfcffa4};

}  // namespace

QRgb colormap_color(Colormap map, double t) {
  const auto& lut = map == Colormap::Plasma ? kPlasma : map == Colormap::Viridis ? kViridis : kInferno;
  t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
  const double x = t * (lut.size() - 1);
  const auto i = std::min(static_cast<size_t>(x), lut.size() - 2);
  const double f = x - static_cast<double>(i);
  auto mix = [f](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * f)); };
  const QRgb a = lut[i], b = lut[i + 1];
  return qRgb(mix(qRed(a), qRed(b)), mix(qGreen(a), qGreen(b)), mix(qBlue(a), qBlue(b)));
}

QImage grid_to_image(const runtime::FloatGrid& grid, Colormap map) {
  QImage image(grid.cols, grid.rows, QImage::Format_RGB32);
  if (grid.values.empty()) return image;
  if (plot_style().high_contrast) map = Colormap::Inferno;
  const auto [lo, hi] = std::minmax_element(grid.values.begin(), grid.values.end());
  const double range = *hi - *lo;
  for (int r = 0; r < grid.rows; ++r) {
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(r));
    for (int c = 0; c < grid.cols; ++c)
      line[c] = colormap_color(map, range > 0 ? (grid.at(r, c) - *lo) / range : 0.5);
  }
  return image;
}

QImage rgb_to_image(const runtime::RgbImage& image) {
  if (image.width <= 0 || image.height <= 0) return {};
  return QImage(image.pixels.data(), image.width, image.height, image.width * 3, QImage::Format_RGB888).copy();
}

}  // namespace vitscope::ui
