// model::Linear: the same initialisation as torch::nn::Linear, draw for draw, unless a
// SkipParameterInit guard is alive — then no random number is drawn at all (the loader's case).
#include <gtest/gtest.h>

#include <thread>

#include "core/model/linear.h"

namespace vm = vitscope::model;

TEST(Linear, InitialisesAsTorchLinear) {
  torch::manual_seed(11);
  torch::nn::Linear reference(7, 5);
  torch::nn::Linear reference_no_bias(torch::nn::LinearOptions(5, 3).bias(false));
  torch::manual_seed(11);
  vm::Linear ours(7, 5);
  vm::Linear ours_no_bias(5, 3, /*with_bias=*/false);
  EXPECT_TRUE(ours->weight.equal(reference->weight));
  EXPECT_TRUE(ours->bias.equal(reference->bias));
  EXPECT_TRUE(ours_no_bias->weight.equal(reference_no_bias->weight));
  EXPECT_EQ(ours_no_bias->named_parameters().size(), 1u);
  auto x = torch::randn({4, 7});
  EXPECT_TRUE(ours->forward(x).equal(reference->forward(x)));
}

TEST(Linear, SkipParameterInitDrawsNothingAndEndsWithItsScope) {
  torch::manual_seed(3);
  const auto first_draw = torch::rand({4});
  torch::manual_seed(3);
  {
    vm::SkipParameterInit skip;
    EXPECT_TRUE(vm::SkipParameterInit::active());
    bool other_thread_skips = true;
    std::thread([&] { other_thread_skips = vm::SkipParameterInit::active(); }).join();
    EXPECT_FALSE(other_thread_skips) << "the guard is per thread";
    vm::Linear layer(64, 32);
    EXPECT_EQ(layer->weight.sizes(), (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(layer->bias.sizes(), (std::vector<int64_t>{32}));
  }
  EXPECT_FALSE(vm::SkipParameterInit::active());
  EXPECT_TRUE(torch::rand({4}).equal(first_draw)) << "a layer built under SkipParameterInit drew random numbers";
  torch::manual_seed(3);
  vm::Linear initialised(64, 32);
  EXPECT_FALSE(torch::rand({4}).equal(first_draw)) << "without the guard a layer initialises its weights";
}
