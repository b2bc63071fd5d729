#pragma once
// Mergeable statistics for dataset runs: per metric, the sum, sum of squares and count of
// per-image values. Batches add into it, and runs over separate parts of a dataset (other
// processes, other machines) merge exactly, also through JSON.
//
// NaN policy: an image whose values of a metric contain NaN or Inf is invalid for that metric.
// It is counted and its dataset index reported, never averaged in (not even as 0).
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vitscope::analysis {

class RunningStats {
 public:
  // values: (B, ...) one entry per image of a batch, e.g. LayerHeadTable::per_image; image b has
  // dataset index first_image_index + b. The trailing shape must stay the same for a metric.
  void add(const std::string& metric, const torch::Tensor& values, int64_t first_image_index);
  void merge(const RunningStats& other);

  std::vector<std::string> metrics() const;
  int64_t count(const std::string& metric) const;                               // valid images
  torch::Tensor mean(const std::string& metric) const;                          // (...) fp64 CPU
  torch::Tensor standard_deviation(const std::string& metric) const;            // sample std (n - 1), fp64 CPU
  const std::vector<int64_t>& invalid_images(const std::string& metric) const;  // sorted

  nlohmann::json to_json() const;
  static RunningStats from_json(const nlohmann::json& j);

 private:
  struct Sums {
    std::vector<int64_t> shape;  // of one image's values
    int64_t count = 0;
    torch::Tensor sum, sum_of_squares;  // fp64 CPU, `shape`
    std::vector<int64_t> invalid_images;
  };
  const Sums& at(const std::string& metric) const;
  Sums& sums_for(const std::string& metric, const std::vector<int64_t>& shape);

  std::map<std::string, Sums> metrics_;
};

}  // namespace vitscope::analysis
