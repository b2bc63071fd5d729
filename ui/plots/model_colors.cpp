#include "ui/plots/model_colors.h"

#include <algorithm>

namespace vitscope::ui {

std::string next_model_color(const std::string& objective, const std::vector<std::string>& taken) {
  static const std::vector<std::string> cl{"#1f77b4", "#17becf", "#6baed6", "#08519c"};
  static const std::vector<std::string> mim{"#ff7f0e", "#d62728", "#e377c2", "#8c564b"};
  static const std::vector<std::string> hybrid{"#9467bd", "#c5b0d5", "#54278f"};
  static const std::vector<std::string> other{"#2ca02c", "#7f7f7f", "#bcbd22"};
  const auto& palette = objective == "CL" ? cl : objective == "MIM" ? mim : objective == "hybrid" ? hybrid : other;
  for (const auto& c : palette)
    if (std::find(taken.begin(), taken.end(), c) == taken.end()) return c;
  return palette[taken.size() % palette.size()];
}

std::vector<std::string> model_colors(const std::vector<std::string>& objectives) {
  std::vector<std::string> colors;
  for (const auto& objective : objectives) colors.push_back(next_model_color(objective, colors));
  return colors;
}

}  // namespace vitscope::ui
