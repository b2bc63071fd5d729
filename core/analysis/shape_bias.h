#pragma once
// Cue-conflict shape bias (Geirhos et al. 2019; paper-analyses.md §3.8): a classifier's outputs
// become a decision among a few entry-level categories (mean probability per category), and a
// table of decisions on shape-vs-texture conflict images becomes the shape bias. Pure arithmetic:
// no model, no files.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/analysis/common.h"

namespace vitscope::analysis {

// Which classifier outputs make up each category: the §3.8 table for 1000-way ImageNet heads,
// or a user's mapping for any other head (CIFAR-10: automobile -> car, ship -> boat, …).
struct CategoryMapping {
  std::vector<std::string> categories;              // sorted alphabetically: the tie rule depends on it
  std::vector<std::vector<int64_t>> class_indices;  // per category, 0-based indices into the outputs
  std::string source;                               // where the mapping came from

  int index_of(const std::string& category) const;  // -1 when the mapping has no such category
};

// {"categories": {"<category>": [entry, …], …}} where an entry is a 0-based class index or one of
// `class_names` (the head's labels). Categories with no entry are dropped (a user marks a category
// the head cannot decide by leaving it empty). Throws std::invalid_argument naming `source` for an
// index outside [0, num_classes), an unknown class name or a class used by two categories.
CategoryMapping category_mapping_from_json(const nlohmann::json& j, const std::vector<std::string>& class_names,
                                           int num_classes, const std::string& source);

// (N, K) class probabilities -> (N, C) category scores: the mean probability over each category's
// classes (§3.8, §5 pitfall 14: mean, not sum — categories have 1 to 109 classes).
torch::Tensor category_scores(const torch::Tensor& probabilities, const CategoryMapping& mapping);
// (N, K) class probabilities -> (N) int64 index into mapping.categories: the highest score; on a
// tie the category first in alphabetical order wins (strict ">" while scanning the sorted names).
torch::Tensor category_decisions(const torch::Tensor& probabilities, const CategoryMapping& mapping);

// One cue-conflict image: its shape class (folder), texture class (second name in the file name)
// and the classifier's decision.
struct CueConflictTrial {
  std::string shape, texture, decision;
};

struct ShapeBiasCounts {
  int64_t trials = 0;        // conflict images counted
  int64_t shape_hits = 0;    // decision == shape class
  int64_t texture_hits = 0;  // decision == texture class

  // shape_hits / (shape_hits + texture_hits); nullopt when both are 0 (decisions that are
  // neither do not count).
  std::optional<double> shape_bias() const;
  double shape_hit_rate() const;    // shape_hits / trials (0 without trials)
  double texture_hit_rate() const;  // texture_hits / trials
};

struct ShapeBiasResult {
  ShapeBiasCounts overall;
  // Per shape category (the rows of Geirhos et al.'s Fig. 4), alphabetical; only categories with
  // at least one counted trial.
  std::vector<std::pair<std::string, ShapeBiasCounts>> per_category;
  int64_t excluded_same_class = 0;  // shape == texture: no conflict (§3.8: 80 of the 1,280)
  int64_t excluded_unmapped = 0;    // shape or texture is not a category the classifier can decide
  Metadata metadata;
};

// Counts the trials whose shape and texture differ and are both in `categories`; every other
// trial is excluded and counted as such.
ShapeBiasResult shape_bias(const std::vector<CueConflictTrial>& trials, const std::vector<std::string>& categories);

nlohmann::json to_json(const ShapeBiasCounts& counts);  // counts, rates and shape bias (null when undefined)

}  // namespace vitscope::analysis
