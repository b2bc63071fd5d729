#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "analysis/analysis_test_support.h"
#include "core/analysis/representation.h"

namespace vitscope::analysis {
namespace {

using test::DoubleMatrix;
using test::Geometry;

// Tokens (B, L, D) with well-separated principal variances and an offset.
torch::Tensor anisotropic_tokens(int64_t b, int64_t l, uint64_t seed) {
  const auto scales = torch::tensor({5.0, 3.0, 2.0, 1.0, 0.5, 0.25}, torch::kDouble);
  return test::random_normal({b, l, 6}, seed) * scales + 1.5;
}

// Naive PCA-RGB of one image (L, D) over the rows where `rows` is true (all if empty).
std::vector<double> naive_pca_rgb(const DoubleMatrix& tokens, const std::vector<bool>& rows = {}) {
  DoubleMatrix kept;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (rows.empty() || rows[i]) kept.push_back(tokens[i]);
  const auto scores = test::naive_pca_scores(kept, 3);
  std::vector<double> rgb(tokens.size() * 3, 0.0);
  for (size_t c = 0; c < 3; ++c) {
    double low = INFINITY, high = -INFINITY;
    for (const auto& s : scores) low = std::min(low, s[c]), high = std::max(high, s[c]);
    for (size_t i = 0, j = 0; i < tokens.size(); ++i)
      if (rows.empty() || rows[i]) rgb[i * 3 + c] = (scores[j++][c] - low) / (high - low);
  }
  return rgb;
}

std::vector<double> naive_singular_values(const DoubleMatrix& x, bool centre) {
  const size_t n = x.size(), d = x[0].size();
  std::vector<double> mean(d, 0.0);
  if (centre)
    for (const auto& row : x)
      for (size_t j = 0; j < d; ++j) mean[j] += row[j] / n;
  DoubleMatrix gram(d, std::vector<double>(d, 0.0));
  for (const auto& row : x)
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j < d; ++j) gram[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]);
  std::vector<double> eigenvalues;
  DoubleMatrix vectors;
  test::jacobi_eigen(gram, eigenvalues, vectors);
  std::vector<double> sigma;
  for (size_t i = 0; i < std::min(n, d); ++i) sigma.push_back(std::sqrt(std::max(eigenvalues[i], 0.0)));
  return sigma;
}

double naive_mean_cosine(const DoubleMatrix& tokens) {
  const size_t l = tokens.size();
  double total = 0;
  for (size_t i = 0; i < l; ++i) {
    for (size_t j = 0; j < l; ++j) {
      if (i == j) continue;
      double dot = 0, ni = 0, nj = 0;
      for (size_t k = 0; k < tokens[i].size(); ++k) {
        dot += tokens[i][k] * tokens[j][k];
        ni += tokens[i][k] * tokens[i][k];
        nj += tokens[j][k] * tokens[j][k];
      }
      total += ni == 0 || nj == 0 ? 0.0 : dot / std::sqrt(ni * nj);
    }
  }
  return total / static_cast<double>(l * (l - 1));
}

TEST(Representation, PcaRgbMatchesNaivePcaOnBothGrids) {
  for (const Geometry& g : {Geometry{8, 8, 4, 1}, Geometry{14, 14, 16, 1}}) {
    SCOPED_TRACE(g.name());
    const auto tokens = anisotropic_tokens(2, g.num_patches(), 61);
    const auto rgb = pca_rgb(tokens, g.grid_h, g.grid_w);
    EXPECT_EQ(rgb.sizes(), (std::vector<int64_t>{2, g.grid_h, g.grid_w, 3}));
    for (int b = 0; b < 2; ++b)
      EXPECT_LT(test::max_abs_difference(rgb[b], naive_pca_rgb(test::rows_of(tokens[b]))), 1e-9);
  }
}

TEST(Representation, PcaRgbIsInvariantToSignScaleShiftAndRotation) {
  const auto tokens = anisotropic_tokens(1, 64, 62);
  const auto reference = pca_rgb(tokens, 8, 8);
  const auto rotation = std::get<0>(torch::linalg_qr(test::random_normal({6, 6}, 63)));
  for (const auto& changed :
       {-tokens, 2.5 * tokens, tokens + test::random_normal({6}, 64), torch::matmul(tokens, rotation)})
    EXPECT_LT(test::max_abs_difference(pca_rgb(changed, 8, 8), reference), 1e-9);
}

TEST(Representation, PcaRgbForegroundRedoesThePcaOnTheForeground) {
  const auto tokens = anisotropic_tokens(1, 64, 65);
  const auto first = naive_pca_rgb(test::rows_of(tokens[0]));
  std::vector<bool> foreground(64);
  for (int i = 0; i < 64; ++i) foreground[i] = first[i * 3] > 0.4;
  const auto rgb = pca_rgb(tokens, 8, 8, {0.4});
  EXPECT_LT(test::max_abs_difference(rgb[0], naive_pca_rgb(test::rows_of(tokens[0]), foreground)), 1e-9);
}

TEST(Representation, SpectrumRankAndCosineMatchNaive) {
  const auto tokens = anisotropic_tokens(2, 64, 66);
  for (const bool centre : {false, true}) {
    const auto sigma = singular_values(tokens, centre);
    for (int b = 0; b < 2; ++b)
      EXPECT_LT(test::max_abs_difference(sigma[b], naive_singular_values(test::rows_of(tokens[b]), centre)), 1e-9);
  }
  EXPECT_NEAR(effective_rank(torch::tensor({1.0, 1.0, 1.0, 1.0}, torch::kDouble)).item<double>(), 4.0, 1e-12);
  EXPECT_NEAR(effective_rank(torch::tensor({2.0, 0.0, 0.0}, torch::kDouble)).item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(effective_rank(torch::tensor({3.0, 1.0}, torch::kDouble)).item<double>(),
              std::exp(-(0.75 * std::log(0.75) + 0.25 * std::log(0.25))), 1e-12);

  auto with_zero = test::random_normal({2, 16, 5}, 67);
  with_zero[1][3].zero_();
  const auto cosine = mean_pairwise_cosine_similarity(with_zero);
  for (int b = 0; b < 2; ++b)
    EXPECT_NEAR(cosine[b].item<double>(), naive_mean_cosine(test::rows_of(with_zero[b])), 1e-12);
  const auto identical = test::random_normal({1, 1, 5}, 68).expand({1, 10, 5});
  EXPECT_NEAR(mean_pairwise_cosine_similarity(identical).item<double>(), 1.0, 1e-12);
}

TEST(Representation, TokenGeometryCoversCapturedTapsAndReportsInvalidImages) {
  const Geometry g{8, 8, 4, 5};
  auto tap0 = test::random_normal({3, g.num_tokens(), 6}, 69);
  auto tap2 = test::random_normal({3, g.num_tokens(), 6}, 70);
  tap2[2][g.prefix + 4][1] = std::numeric_limits<double>::infinity();
  const auto capture = test::make_capture(g, {}, {tap0, torch::Tensor(), tap2});
  const auto geometry = token_geometry(capture, {/*centre=*/true});
  EXPECT_EQ(geometry.taps, (std::vector<int>{0, 2}));
  EXPECT_EQ(geometry.invalid_images, (std::vector<int64_t>{2}));
  EXPECT_EQ(geometry.singular_values.sizes(), (std::vector<int64_t>{3, 2, 6}));
  EXPECT_TRUE(std::isnan(geometry.effective_rank[2][1].item<double>()));
  EXPECT_NE(geometry.metadata.at("singular values").find("centred"), std::string::npos);
  const auto patches = tap2.narrow(1, g.prefix, g.num_patches());
  auto mean = naive_singular_values(test::rows_of(patches[0]), true);
  const auto second = naive_singular_values(test::rows_of(patches[1]), true);
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = (mean[i] + second[i]) / 2;
  EXPECT_LT(test::max_abs_difference(geometry.mean_singular_values[1], mean), 1e-9);
  EXPECT_NEAR(geometry.mean_cosine_similarity[0][1].item<double>(), naive_mean_cosine(test::rows_of(patches[0])),
              1e-12);
}

TEST(Representation, ImageLevelSpectrumUsesClsOrMeanPatchAndDropsInvalidRows) {
  const Geometry g{8, 8, 4, 1};
  auto tap = test::random_normal({10, g.num_tokens(), 6}, 71);
  const auto capture = test::make_capture(g, {}, {tap});
  EXPECT_LT(test::max_abs_difference(image_vectors(capture, 0, ImageVector::Cls), tap.select(1, 0)), 0.0 + 1e-15);
  EXPECT_LT(test::max_abs_difference(image_vectors(capture, 0, ImageVector::MeanPatch), tap.narrow(1, 1, 64).mean(1)),
            1e-12);
  auto vectors = image_vectors(capture, 0, ImageVector::Cls).clone();
  vectors[4][0] = std::numeric_limits<double>::quiet_NaN();
  const auto spectrum = image_level_spectrum(vectors, ImageVector::Cls, /*centre=*/true);
  EXPECT_EQ(spectrum.invalid_images, (std::vector<int64_t>{4}));
  const auto kept = torch::cat({vectors.narrow(0, 0, 4), vectors.narrow(0, 5, 5)});
  EXPECT_LT(test::max_abs_difference(spectrum.singular_values, naive_singular_values(test::rows_of(kept), true)), 1e-9);
  EXPECT_EQ(spectrum.metadata.at("image vector"), "CLS token");
}

}  // namespace
}  // namespace vitscope::analysis
