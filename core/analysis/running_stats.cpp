#include "core/analysis/running_stats.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "core/analysis/common.h"

namespace vitscope::analysis {

namespace running_stats_detail {

void append_sorted(std::vector<int64_t>& into, const std::vector<int64_t>& more) {
  into.insert(into.end(), more.begin(), more.end());
  std::sort(into.begin(), into.end());
}

}  // namespace running_stats_detail

RunningStats::Sums& RunningStats::sums_for(const std::string& metric, const std::vector<int64_t>& shape) {
  auto [it, inserted] = metrics_.try_emplace(metric);
  auto& sums = it->second;
  if (inserted) {
    sums.shape = shape;
    sums.sum = torch::zeros(shape, torch::kDouble);
    sums.sum_of_squares = torch::zeros(shape, torch::kDouble);
  } else if (sums.shape != shape) {
    throw std::invalid_argument("running stats: metric '" + metric + "' changed shape");
  }
  return sums;
}

const RunningStats::Sums& RunningStats::at(const std::string& metric) const {
  const auto it = metrics_.find(metric);
  if (it == metrics_.end()) throw std::out_of_range("running stats: no metric '" + metric + "'");
  return it->second;
}

void RunningStats::add(const std::string& metric, const torch::Tensor& values, int64_t first_image_index) {
  if (values.dim() < 1) throw std::invalid_argument("running stats: values need a leading image axis");
  const auto per_image = values.detach().to(torch::kCPU, torch::kDouble);
  auto& sums = sums_for(metric, per_image.sizes().slice(1).vec());
  const auto finite = finite_images(per_image);
  auto invalid = false_indices(finite);
  for (auto& row : invalid) row += first_image_index;
  running_stats_detail::append_sorted(sums.invalid_images, invalid);
  const auto valid = per_image.index({finite});
  sums.count += valid.size(0);
  sums.sum += valid.sum(0);
  sums.sum_of_squares += valid.pow(2).sum(0);
}

void RunningStats::merge(const RunningStats& other) {
  for (const auto& [metric, theirs] : other.metrics_) {
    auto& sums = sums_for(metric, theirs.shape);
    sums.count += theirs.count;
    sums.sum += theirs.sum;
    sums.sum_of_squares += theirs.sum_of_squares;
    running_stats_detail::append_sorted(sums.invalid_images, theirs.invalid_images);
  }
}

std::vector<std::string> RunningStats::metrics() const {
  std::vector<std::string> names;
  for (const auto& entry : metrics_) names.push_back(entry.first);
  return names;
}

int64_t RunningStats::count(const std::string& metric) const { return at(metric).count; }

const std::vector<int64_t>& RunningStats::invalid_images(const std::string& metric) const {
  return at(metric).invalid_images;
}

torch::Tensor RunningStats::mean(const std::string& metric) const {
  const auto& sums = at(metric);
  return sums.sum / static_cast<double>(sums.count);  // NaN when no valid image
}

torch::Tensor RunningStats::standard_deviation(const std::string& metric) const {
  const auto& sums = at(metric);
  const auto n = static_cast<double>(sums.count);
  if (sums.count < 2) return torch::full(sums.shape, std::numeric_limits<double>::quiet_NaN(), torch::kDouble);
  return ((sums.sum_of_squares - sums.sum.pow(2) / n) / (n - 1)).clamp_min(0.0).sqrt();
}

nlohmann::json RunningStats::to_json() const {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [metric, sums] : metrics_) {
    metrics[metric] = {{"shape", sums.shape},
                       {"count", sums.count},
                       {"sum", to_double_vector(sums.sum)},
                       {"sum_of_squares", to_double_vector(sums.sum_of_squares)},
                       {"invalid_images", sums.invalid_images}};
  }
  return {{"format", "vitscope.running_stats"}, {"version", 1}, {"metrics", metrics}};
}

RunningStats RunningStats::from_json(const nlohmann::json& j) {
  if (j.value("format", "") != "vitscope.running_stats")
    throw std::invalid_argument("running stats: not a vitscope.running_stats document");
  RunningStats stats;
  for (const auto& [metric, entry] : j.at("metrics").items()) {
    auto& sums = stats.sums_for(metric, entry.at("shape").get<std::vector<int64_t>>());
    sums.count = entry.at("count").get<int64_t>();
    sums.sum = from_double_vector(entry.at("sum").get<std::vector<double>>(), sums.shape);
    sums.sum_of_squares = from_double_vector(entry.at("sum_of_squares").get<std::vector<double>>(), sums.shape);
    sums.invalid_images = entry.at("invalid_images").get<std::vector<int64_t>>();
  }
  return stats;
}

}  // namespace vitscope::analysis
