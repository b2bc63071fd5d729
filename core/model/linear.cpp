#include "core/model/linear.h"

#include <cmath>

namespace vitscope::model {

namespace {
thread_local bool skip_parameter_init = false;
}  // namespace

SkipParameterInit::SkipParameterInit() : previous_(skip_parameter_init) { skip_parameter_init = true; }
SkipParameterInit::~SkipParameterInit() { skip_parameter_init = previous_; }
bool SkipParameterInit::active() { return skip_parameter_init; }

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool with_bias) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out_features}));
  if (skip_parameter_init) return;
  // torch::nn::Linear's reset_parameters(), draw for draw.
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (with_bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias.uniform_(-bound, bound);
  }
}

torch::Tensor LinearImpl::forward(const torch::Tensor& input) {
  // ATen's linear, as Python's F.linear calls it: a (B, N, D) input with bias becomes one addmm
  // (the bias fused into the GEMM). The C++ frontend's F::linear does matmul, then `+= bias`, an
  // extra pass over every output and more autograd nodes (docs/PERFORMANCE.md, "Pre-training").
  return torch::linear(input, weight, bias);
}

}  // namespace vitscope::model
