// Shape-bias arithmetic on hand-made decision tables and the category decision of §3.8: mean
// aggregation, the alphabetical tie rule, the 16-category ImageNet mapping and name mappings.
#include <gtest/gtest.h>

#include <fstream>

#include "core/analysis/shape_bias.h"
#include "support/test_env.h"

namespace vitscope::analysis {
namespace {

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream f(path);
  nlohmann::json j;
  f >> j;
  return j;
}

const std::vector<std::string> kCifar10 = {"airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"};

TEST(ShapeBias, CountsHitsAndExcludesSameClassAndUnmappedImages) {
  const std::vector<std::string> categories = {"airplane", "bird", "cat", "dog"};
  const std::vector<CueConflictTrial> trials = {
      {"cat", "dog", "cat"},              // shape hit
      {"cat", "dog", "dog"},              // texture hit
      {"dog", "cat", "bird"},             // neither: counted, no hit
      {"cat", "cat", "cat"},              // same class: no conflict
      {"bird", "elephant", "bird"},       // texture class not decidable: excluded
      {"airplane", "bird", "airplane"},   // shape hit
  };
  const auto r = shape_bias(trials, categories);
  EXPECT_EQ(r.excluded_same_class, 1);
  EXPECT_EQ(r.excluded_unmapped, 1);
  EXPECT_EQ(r.overall.trials, 4);
  EXPECT_EQ(r.overall.shape_hits, 2);
  EXPECT_EQ(r.overall.texture_hits, 1);
  ASSERT_TRUE(r.overall.shape_bias());
  EXPECT_DOUBLE_EQ(*r.overall.shape_bias(), 2.0 / 3.0);  // the neither decision does not count
  EXPECT_DOUBLE_EQ(r.overall.shape_hit_rate(), 0.5);
  EXPECT_DOUBLE_EQ(r.overall.texture_hit_rate(), 0.25);

  ASSERT_EQ(r.per_category.size(), 3u);  // by shape class, alphabetical
  EXPECT_EQ(r.per_category[0].first, "airplane");
  EXPECT_EQ(r.per_category[1].first, "cat");
  EXPECT_EQ(r.per_category[2].first, "dog");
  EXPECT_DOUBLE_EQ(*r.per_category[0].second.shape_bias(), 1.0);
  EXPECT_DOUBLE_EQ(*r.per_category[1].second.shape_bias(), 0.5);
  EXPECT_EQ(r.per_category[2].second.trials, 1);
  EXPECT_FALSE(r.per_category[2].second.shape_bias()) << "only a neither decision: shape bias undefined";

  const auto j = to_json(r.per_category[2].second);
  EXPECT_TRUE(j["shape_bias"].is_null());
  EXPECT_EQ(j["trials"], 1);
}

TEST(ShapeBias, NoConflictTrialsGiveNoShapeBiasAndZeroRates) {
  const auto r = shape_bias({{"cat", "cat", "cat"}}, {"cat", "dog"});
  EXPECT_EQ(r.overall.trials, 0);
  EXPECT_FALSE(r.overall.shape_bias());
  EXPECT_EQ(r.overall.shape_hit_rate(), 0.0);
  EXPECT_TRUE(r.per_category.empty());
}

TEST(CategoryDecision, MeanAggregationAndTheFirstAlphabeticalCategoryWinsTies) {
  // Keys in non-alphabetical order on purpose: the mapping must still come out sorted.
  const auto mapping = category_mapping_from_json(
      {{"categories", {{"dog", {2}}, {"bird", {0, 1}}, {"cat", {3}}}}}, {}, 5, "test mapping");
  ASSERT_EQ(mapping.categories, (std::vector<std::string>{"bird", "cat", "dog"}));
  const auto p = torch::tensor({{0.30, 0.10, 0.25, 0.05, 0.30},    // bird mean 0.20 < dog 0.25 (a sum would pick bird)
                                {0.10, 0.10, 0.05, 0.10, 0.65},    // bird 0.10 = cat 0.10 > dog: tie -> bird
                                {0.00, 0.00, 0.20, 0.20, 0.60},    // cat = dog: tie -> cat
                                {0.00, 0.00, 0.00, 0.00, 1.00}},   // all zero: tie of all -> bird
                               torch::kFloat64);
  const auto d = category_decisions(p, mapping);
  EXPECT_EQ(d[0].item<int64_t>(), mapping.index_of("dog"));
  EXPECT_EQ(d[1].item<int64_t>(), mapping.index_of("bird"));
  EXPECT_EQ(d[2].item<int64_t>(), mapping.index_of("cat"));
  EXPECT_EQ(d[3].item<int64_t>(), mapping.index_of("bird"));
  const auto scores = category_scores(p, mapping);
  EXPECT_NEAR(scores[0][0].item<double>(), 0.20, 1e-12);
}

TEST(CategoryDecision, ImageNet16MappingAgreesWithKnownIndices) {
  const auto path = test::shared_dir() / "data" / "cue-conflict" / "imagenet16_categories.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "needs " << path << " (../shared, the reference data)";
  const auto mapping = category_mapping_from_json(read_json(path), {}, 1000, path.string());
  const std::vector<std::string> expected = {"airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat",
                                             "chair", "clock", "dog", "elephant", "keyboard", "knife", "oven", "truck"};
  EXPECT_EQ(mapping.categories, expected);
  size_t total = 0;
  for (const auto& c : mapping.class_indices) total += c.size();
  EXPECT_EQ(total, 207u);  // §3.8
  EXPECT_EQ(mapping.class_indices[mapping.index_of("dog")].size(), 109u);
  EXPECT_EQ(mapping.class_indices[mapping.index_of("bird")].size(), 49u);
  // §3.8 spot checks: a one-hot probability on a class decides its category.
  const std::vector<std::pair<int, std::string>> known = {{404, "airplane"}, {499, "knife"}, {766, "oven"},
                                                          {444, "bicycle"},  {671, "bicycle"}, {436, "car"},
                                                          {555, "truck"},    {656, "truck"},   {294, "bear"},
                                                          {152, "dog"},      {268, "dog"},     {8, "bird"}};
  for (const auto& [index, category] : known) {
    auto p = torch::zeros({1, 1000}, torch::kFloat64);
    p[0][index] = 1.0;
    EXPECT_EQ(mapping.categories[category_decisions(p, mapping)[0].item<int64_t>()], category) << "index " << index;
  }
  // 192 is not a dog class (§3.8: 152…268 without 192, 204, 227, 242, 251, 258, 260, 264).
  for (const auto& c : mapping.class_indices)
    for (auto i : c) EXPECT_NE(i, 192);
}

TEST(CategoryDecision, Cifar10MappingByClassNames) {
  const auto path = test::resources_dir() / "probes" / "cifar10_to_cue_conflict.json";
  const auto mapping = category_mapping_from_json(read_json(path), kCifar10, 10, path.string());
  EXPECT_EQ(mapping.categories, (std::vector<std::string>{"airplane", "bird", "boat", "car", "cat", "dog", "truck"}));
  EXPECT_EQ(mapping.class_indices[mapping.index_of("car")], std::vector<int64_t>{1});   // automobile
  EXPECT_EQ(mapping.class_indices[mapping.index_of("boat")], std::vector<int64_t>{8});  // ship
  EXPECT_EQ(mapping.index_of("deer"), -1);
}

TEST(CategoryDecision, BadMappingsAreRejectedWithTheirSource) {
  auto parse = [](const nlohmann::json& j) { return category_mapping_from_json(j, kCifar10, 10, "my-mapping.json"); };
  EXPECT_THROW(parse({{"categories", {{"cat", {"kitten"}}}}}), std::invalid_argument);  // unknown class name
  EXPECT_THROW(parse({{"categories", {{"cat", {10}}}}}), std::invalid_argument);        // index out of range
  EXPECT_THROW(parse({{"categories", {{"cat", {3}}, {"dog", {"cat"}}}}}), std::invalid_argument);  // used twice
  EXPECT_THROW(parse({{"classes", {}}}), std::invalid_argument);
  try {
    parse({{"categories", {{"cat", {"kitten"}}}}});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("my-mapping.json"), std::string::npos);
  }
  // An empty category is dropped, not an error: the head cannot decide it.
  EXPECT_EQ(parse({{"categories", {{"cat", {3}}, {"bear", nlohmann::json::array()}}}}).categories,
            std::vector<std::string>{"cat"});
}

}  // namespace
}  // namespace vitscope::analysis
