#pragma once
// The one place where io's torch-free TensorData meets torch::Tensor.
#include <torch/torch.h>

#include "core/io/tensor_data.h"

namespace vitscope::io {

// Copies into an owned, contiguous CPU tensor of the file's dtype (honours offset and strides).
torch::Tensor to_torch(const TensorData& t);
// The same tensor without a copy: a view of t's bytes, valid while t.storage lives; read only.
torch::Tensor view_as_torch(const TensorData& t);
// Copies a tensor (any device, made contiguous) into TensorData; float tensors optionally as fp16.
TensorData from_torch(const torch::Tensor& t, bool as_half = false);
torch::ScalarType to_scalar_type(DType dtype);

}  // namespace vitscope::io
