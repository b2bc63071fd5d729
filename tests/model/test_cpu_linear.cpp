// The encoder's inference path for large CPU batches (linear layers through oneDNN, see
// core/model/vision_transformer.cpp) computes what the per-image path (F::linear) computes.
#include <gtest/gtest.h>

#include "core/model/vision_transformer.h"

using namespace vitscope::model;

namespace {

TEST(CpuLinear, LargeBatchesMatchImageByImage) {
  ViTConfig c;
  c.image_size = 32;
  c.patch_size = 4;  // 65 tokens: 20 images make 1300 rows, above the oneDNN threshold; one image is not
  c.embed_dim = 64;
  c.depth = 3;
  c.num_heads = 4;
  c.mlp_hidden_dim = 256;
  VisionTransformer vit(c);
  vit->eval();
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto images = torch::randn({20, 3, 32, 32});
  Capture batched;
  const auto tokens = vit->forward_features(images, CaptureRequest::everything(c.depth), &batched);
  for (int64_t i = 0; i < images.size(0); i += 7) {
    Capture single;
    const auto one = vit->forward_features(images.narrow(0, i, 1), CaptureRequest::everything(c.depth), &single);
    EXPECT_TRUE(torch::allclose(tokens.narrow(0, i, 1), one, 1e-4, 1e-4)) << "image " << i;
    for (int k = 0; k < c.depth; ++k)
      EXPECT_TRUE(torch::allclose(batched.attentions[k].narrow(0, i, 1), single.attentions[k], 1e-5, 1e-5))
          << "image " << i << " block " << k;
  }
  // The same under autograd, which always takes F::linear.
  torch::AutoGradMode grad(true);
  const auto with_grad = vit->forward_features(images);
  EXPECT_TRUE(torch::allclose(tokens, with_grad.detach(), 1e-4, 1e-4));
}

}  // namespace
