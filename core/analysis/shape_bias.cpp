#include "core/analysis/shape_bias.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

namespace vitscope::analysis {

int CategoryMapping::index_of(const std::string& category) const {
  const auto it = std::find(categories.begin(), categories.end(), category);
  return it == categories.end() ? -1 : static_cast<int>(it - categories.begin());
}

CategoryMapping category_mapping_from_json(const nlohmann::json& j, const std::vector<std::string>& class_names,
                                           int num_classes, const std::string& source) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(source + ": " + what); };
  if (!j.is_object() || !j.contains("categories") || !j["categories"].is_object())
    fail("expected {\"categories\": {\"<category>\": [class index or name, …]}}");
  // nlohmann's object keeps its keys sorted, so the categories come out in alphabetical order.
  CategoryMapping mapping;
  mapping.source = source;
  std::map<int64_t, std::string> owner;  // class -> category that claimed it
  for (const auto& [category, entries] : j["categories"].items()) {
    if (!entries.is_array()) fail("category '" + category + "' must list class indices or names");
    std::vector<int64_t> indices;
    for (const auto& e : entries) {
      int64_t index = -1;
      if (e.is_number_integer()) {
        index = e.get<int64_t>();
      } else if (e.is_string()) {
        const auto name = e.get<std::string>();
        const auto it = std::find(class_names.begin(), class_names.end(), name);
        if (it == class_names.end()) fail("category '" + category + "': the classifier has no class '" + name + "'");
        index = it - class_names.begin();
      } else {
        fail("category '" + category + "': entries must be class indices or class names");
      }
      if (index < 0 || index >= num_classes)
        fail("category '" + category + "': class index " + std::to_string(index) + " is outside the classifier's " +
             std::to_string(num_classes) + " outputs");
      if (auto [it, fresh] = owner.emplace(index, category); !fresh)
        fail("class " + std::to_string(index) + " is in both '" + it->second + "' and '" + category + "'");
      indices.push_back(index);
    }
    if (indices.empty()) continue;
    mapping.categories.push_back(category);
    mapping.class_indices.push_back(std::move(indices));
  }
  if (mapping.categories.empty()) fail("no category maps to any class of the classifier");
  return mapping;
}

torch::Tensor category_scores(const torch::Tensor& probabilities, const CategoryMapping& mapping) {
  if (probabilities.dim() != 2) throw std::invalid_argument("probabilities must be (N, classes)");
  std::vector<torch::Tensor> columns;
  for (const auto& indices : mapping.class_indices) {
    const auto index = torch::tensor(indices, torch::TensorOptions().dtype(torch::kInt64).device(probabilities.device()));
    columns.push_back(probabilities.index_select(1, index).mean(1));
  }
  return torch::stack(columns, 1);
}

torch::Tensor category_decisions(const torch::Tensor& probabilities, const CategoryMapping& mapping) {
  const auto scores = category_scores(probabilities, mapping);
  // Explicit scan rather than argmax, whose tie behaviour is not part of its contract.
  auto best = scores.select(1, 0).clone();
  auto decision = torch::zeros({scores.size(0)}, scores.options().dtype(torch::kInt64));
  for (int64_t c = 1; c < scores.size(1); ++c) {
    const auto better = scores.select(1, c) > best;
    best = torch::where(better, scores.select(1, c), best);
    decision.masked_fill_(better, c);
  }
  return decision;
}

std::optional<double> ShapeBiasCounts::shape_bias() const {
  const int64_t decided = shape_hits + texture_hits;
  if (decided == 0) return std::nullopt;
  return static_cast<double>(shape_hits) / static_cast<double>(decided);
}

double ShapeBiasCounts::shape_hit_rate() const {
  return trials ? static_cast<double>(shape_hits) / static_cast<double>(trials) : 0.0;
}

double ShapeBiasCounts::texture_hit_rate() const {
  return trials ? static_cast<double>(texture_hits) / static_cast<double>(trials) : 0.0;
}

ShapeBiasResult shape_bias(const std::vector<CueConflictTrial>& trials, const std::vector<std::string>& categories) {
  auto known = [&](const std::string& c) { return std::find(categories.begin(), categories.end(), c) != categories.end(); };
  ShapeBiasResult r;
  std::map<std::string, ShapeBiasCounts> per_category;  // sorted by name
  for (const auto& t : trials) {
    if (t.shape == t.texture) {
      ++r.excluded_same_class;
      continue;
    }
    if (!known(t.shape) || !known(t.texture)) {
      ++r.excluded_unmapped;
      continue;
    }
    for (auto* counts : {&r.overall, &per_category[t.shape]}) {
      ++counts->trials;
      counts->shape_hits += t.decision == t.shape;
      counts->texture_hits += t.decision == t.texture;
    }
  }
  r.per_category.assign(per_category.begin(), per_category.end());
  r.metadata = {
      {"spec", "paper-analyses.md §3.8 (Geirhos et al. 2019, cue-conflict)"},
      {"shape_bias", "shape hits / (shape hits + texture hits); decisions that are neither are not counted"},
      {"hit_rates", "shape (texture) hits / counted conflict images"},
      {"excluded", "images whose shape and texture class agree, and images whose shape or texture class the "
                   "classifier's category mapping does not cover"},
      {"per_category", "grouped by the shape class (Geirhos et al. 2019, Fig. 4)"},
  };
  return r;
}

nlohmann::json to_json(const ShapeBiasCounts& c) {
  const auto bias = c.shape_bias();
  return {{"trials", c.trials},
          {"shape_hits", c.shape_hits},
          {"texture_hits", c.texture_hits},
          {"shape_hit_rate", c.shape_hit_rate()},
          {"texture_hit_rate", c.texture_hit_rate()},
          {"shape_bias", bias ? nlohmann::json(*bias) : nlohmann::json(nullptr)}};
}

}  // namespace vitscope::analysis
