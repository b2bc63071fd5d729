// Every random number of a run is a function of (seed, stream, index) (core/train/random.h).
#include <gtest/gtest.h>

#include "core/train/random.h"

namespace vt = vitscope::train;

TEST(Random, SameSeedAndStepSameNumbers) {
  auto a = vt::make_generator(7, vt::RandomStream::Step, 12), b = vt::make_generator(7, vt::RandomStream::Step, 12);
  auto c = vt::make_generator(7, vt::RandomStream::Step, 13), d = vt::make_generator(7, vt::RandomStream::DataOrder, 12);
  auto x = torch::rand({8}, a);
  EXPECT_TRUE(x.equal(torch::rand({8}, b)));
  EXPECT_FALSE(x.equal(torch::rand({8}, c)));
  EXPECT_FALSE(x.equal(torch::rand({8}, d)));
}
