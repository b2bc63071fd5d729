#pragma once
// A fully connected layer like torch::nn::Linear — same parameter names and shapes, same
// initialisation, same forward — whose weights can be left uninitialised: while a
// SkipParameterInit guard lives on the thread, the constructor only allocates them. The model
// loader builds its modules that way, because torch::nn::Linear draws Kaiming-uniform numbers
// that the checkpoint overwrites at once: 0.33 s of the ~1.1 s it took to load a ViT-B on the
// 2-vCPU VM, and seconds for a ViT-g.
#include <torch/torch.h>

namespace vitscope::model {

// Whoever holds one promises to fill every parameter of the modules it makes (load or copy them).
class SkipParameterInit {
 public:
  SkipParameterInit();
  ~SkipParameterInit();
  SkipParameterInit(const SkipParameterInit&) = delete;
  SkipParameterInit& operator=(const SkipParameterInit&) = delete;
  static bool active();  // on this thread

 private:
  bool previous_;
};

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool with_bias = true);
  torch::Tensor forward(const torch::Tensor& input);

  torch::Tensor weight;  // (out_features, in_features)
  torch::Tensor bias;    // (out_features), undefined without bias
};
TORCH_MODULE(Linear);

}  // namespace vitscope::model
