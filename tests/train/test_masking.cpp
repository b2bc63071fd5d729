// MAE and SimMIM masks (paper-analyses.md §3.13).
#include <gtest/gtest.h>

#include "core/train/masking.h"
#include "core/train/random.h"

namespace vt = vitscope::train;

TEST(MaeMask, KeepsFloorOfVisibleFractionAndRestoresOrder) {
  auto gen = vt::make_generator(1, vt::RandomStream::Step, 0);
  const int64_t B = 3, L = 196;
  auto m = vt::mae_random_mask(B, L, 0.75, gen, torch::kCPU);
  ASSERT_EQ(m.keep.sizes(), (std::vector<int64_t>{B, 49}));  // ⌊196 · 0.25⌋
  EXPECT_EQ(m.mask.sum().item<double>(), B * (L - 49));
  for (int64_t b = 0; b < B; ++b) {
    // Kept indices are exactly the zeros of the mask.
    auto kept_mask = m.mask[b].index_select(0, m.keep[b]);
    EXPECT_EQ(kept_mask.sum().item<double>(), 0.0);
    // ids_restore inverts the shuffle: shuffled[ids_restore] = identity.
    auto shuffle = m.ids_restore[b].argsort();
    EXPECT_TRUE(shuffle.index_select(0, m.ids_restore[b]).equal(torch::arange(L)));
    EXPECT_TRUE(shuffle.narrow(0, 0, 49).equal(m.keep[b]));
  }
  // Different per image.
  EXPECT_FALSE(m.mask[0].equal(m.mask[1]));
}

TEST(MaeMask, SmallGridFloor) {
  auto gen = vt::make_generator(2, vt::RandomStream::Step, 0);
  EXPECT_EQ(vt::mae_random_mask(2, 64, 0.75, gen, torch::kCPU).keep.size(1), 16);
  EXPECT_EQ(vt::mae_random_mask(2, 10, 0.75, gen, torch::kCPU).keep.size(1), 2);  // ⌊2.5⌋
}

TEST(SimMimMask, CeilOfUnitsInBlocks) {
  auto gen = vt::make_generator(3, vt::RandomStream::Step, 0);
  // ViT-B/16 at 224: 14x14 tokens, 2x2-token units → 49 units, ⌈49·0.6⌉ = 30 → 120 tokens.
  auto m = vt::simmim_block_mask(4, 14, 2, 0.6, gen, torch::kCPU);
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{4, 196}));
  for (int b = 0; b < 4; ++b) EXPECT_EQ(m[b].sum().item<double>(), 120.0);
  // Each 2x2 unit is all-masked or all-visible.
  auto grid = m.reshape({4, 7, 2, 7, 2});
  auto per_unit = grid.sum({2, 4});
  EXPECT_TRUE(((per_unit == 0) | (per_unit == 4)).all().item<bool>());
  // Bundled CIFAR model: 8x8 tokens, 16 units, ⌈9.6⌉ = 10 units = 40 tokens.
  auto small = vt::simmim_block_mask(2, 8, 2, 0.6, gen, torch::kCPU);
  EXPECT_EQ(small[0].sum().item<double>(), 40.0);
  EXPECT_THROW(vt::simmim_block_mask(1, 7, 2, 0.6, gen, torch::kCPU), std::invalid_argument);
}

TEST(Random, SameSeedAndStepSameNumbers) {
  auto a = vt::make_generator(7, vt::RandomStream::Step, 12), b = vt::make_generator(7, vt::RandomStream::Step, 12);
  auto c = vt::make_generator(7, vt::RandomStream::Step, 13), d = vt::make_generator(7, vt::RandomStream::DataOrder, 12);
  auto x = torch::rand({8}, a);
  EXPECT_TRUE(x.equal(torch::rand({8}, b)));
  EXPECT_FALSE(x.equal(torch::rand({8}, c)));
  EXPECT_FALSE(x.equal(torch::rand({8}, d)));
}
