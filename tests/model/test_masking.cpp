// MAE and SimMIM masks (paper-analyses.md §3.13), as drawn for training and for the
// reconstruction views.
#include <gtest/gtest.h>

#include "core/model/masking.h"
#include "core/train/random.h"

namespace vm = vitscope::model;
namespace vt = vitscope::train;

TEST(MaeMask, KeepsFloorOfVisibleFractionAndRestoresOrder) {
  auto gen = vt::make_generator(1, vt::RandomStream::Step, 0);
  const int64_t B = 3, L = 196;
  auto mask = vm::mae_random_mask(B, L, 0.75, gen);
  auto idx = vm::mae_indices(mask);
  ASSERT_EQ(idx.keep.sizes(), (std::vector<int64_t>{B, 49}));  // ⌊196 · 0.25⌋
  EXPECT_EQ(mask.sum().item<double>(), B * (L - 49));
  for (int64_t b = 0; b < B; ++b) {
    // Kept indices are exactly the zeros of the mask.
    EXPECT_EQ(mask[b].index_select(0, idx.keep[b]).sum().item<double>(), 0.0);
    // ids_restore inverts [kept…, masked…]: shuffled[ids_restore] = identity.
    auto shuffle = idx.ids_restore[b].argsort();
    EXPECT_TRUE(shuffle.index_select(0, idx.ids_restore[b]).equal(torch::arange(L)));
    EXPECT_TRUE(shuffle.narrow(0, 0, 49).equal(idx.keep[b]));
  }
  // Different per image.
  EXPECT_FALSE(mask[0].equal(mask[1]));
}

TEST(MaeMask, SmallGridFloorAndRatioLimits) {
  auto gen = vt::make_generator(2, vt::RandomStream::Step, 0);
  EXPECT_EQ(vm::mae_indices(vm::mae_random_mask(2, 64, 0.75, gen)).keep.size(1), 16);
  EXPECT_EQ(vm::mae_indices(vm::mae_random_mask(2, 10, 0.75, gen)).keep.size(1), 2);  // ⌊2.5⌋
  EXPECT_THROW(vm::mae_random_mask(1, 10, 0.95, gen), std::invalid_argument);          // nothing visible
  EXPECT_THROW(vm::mae_indices(torch::tensor({{1.f, 0.f}, {1.f, 1.f}})), std::invalid_argument);  // unequal rows
}

TEST(SimMimMask, CeilOfUnitsInBlocks) {
  auto gen = vt::make_generator(3, vt::RandomStream::Step, 0);
  // ViT-B/16 at 224: 14x14 tokens, 2x2-token units → 49 units, ⌈49·0.6⌉ = 30 → 120 tokens.
  auto m = vm::simmim_block_mask(4, 14, 2, 0.6, gen);
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{4, 196}));
  for (int b = 0; b < 4; ++b) EXPECT_EQ(m[b].sum().item<double>(), 120.0);
  // Each 2x2 unit is all-masked or all-visible.
  auto per_unit = m.reshape({4, 7, 2, 7, 2}).sum({2, 4});
  EXPECT_TRUE(((per_unit == 0) | (per_unit == 4)).all().item<bool>());
  // Bundled CIFAR model: 8x8 tokens, 16 units, ⌈9.6⌉ = 10 units = 40 tokens.
  EXPECT_EQ(vm::simmim_block_mask(2, 8, 2, 0.6, gen)[0].sum().item<double>(), 40.0);
  EXPECT_THROW(vm::simmim_block_mask(1, 7, 2, 0.6, gen), std::invalid_argument);
}
