// The colour rule shared by the model shelf and vitscope-cli's figures (ui/plots/model_colors.h).
#include <gtest/gtest.h>

#include <algorithm>

#include "ui/plots/model_colors.h"

namespace vitscope::ui {

TEST(ModelColors, EachFamilyTakesItsOwnColoursInOrder) {
  const auto colors = model_colors({"CL", "MIM", "hybrid", "CL", "MIM", "unknown"});
  ASSERT_EQ(colors.size(), 6u);
  EXPECT_EQ(colors[0], next_model_color("CL", {}));
  EXPECT_EQ(colors[1], next_model_color("MIM", {}));
  EXPECT_EQ(colors[2], next_model_color("hybrid", {}));
  EXPECT_EQ(colors[5], next_model_color("supervised", {}));  // anything else: the "other" colours
  // The second model of a family gets the family's next colour, not the first again.
  EXPECT_NE(colors[3], colors[0]);
  EXPECT_EQ(colors[3], next_model_color("CL", {colors[0]}));
  EXPECT_EQ(colors[4], next_model_color("MIM", {colors[1]}));
  for (size_t i = 0; i < colors.size(); ++i)
    for (size_t j = i + 1; j < colors.size(); ++j) EXPECT_NE(colors[i], colors[j]) << i << " " << j;
}

TEST(ModelColors, AColourFreedByARemovedModelIsTakenAgain) {
  const auto first = next_model_color("CL", {});
  const auto second = next_model_color("CL", {first});
  EXPECT_EQ(next_model_color("CL", {second}), first);
}

TEST(ModelColors, AFamilyThatRunsOutRepeatsItsColours) {
  std::vector<std::string> taken;
  for (int i = 0; i < 3; ++i) taken.push_back(next_model_color("hybrid", taken));  // the hybrid colours
  const auto again = next_model_color("hybrid", taken);
  EXPECT_NE(std::find(taken.begin(), taken.end(), again), taken.end());
}

}  // namespace vitscope::ui
