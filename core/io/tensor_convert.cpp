#include "core/io/tensor_convert.h"

#include <cstring>
#include <stdexcept>

namespace vitscope::io {

torch::ScalarType to_scalar_type(DType d) {
  switch (d) {
    case DType::Bool: return torch::kBool;
    case DType::UInt8: return torch::kUInt8;
    case DType::Int8: return torch::kInt8;
    case DType::Int16: return torch::kInt16;
    case DType::Int32: return torch::kInt32;
    case DType::Int64: return torch::kInt64;
    case DType::Float16: return torch::kFloat16;
    case DType::BFloat16: return torch::kBFloat16;
    case DType::Float32: return torch::kFloat32;
    case DType::Float64: return torch::kFloat64;
  }
  throw std::invalid_argument("unknown dtype");
}

static DType from_scalar_type(torch::ScalarType s) {
  switch (s) {
    case torch::kBool: return DType::Bool;
    case torch::kUInt8: return DType::UInt8;
    case torch::kInt8: return DType::Int8;
    case torch::kInt16: return DType::Int16;
    case torch::kInt32: return DType::Int32;
    case torch::kInt64: return DType::Int64;
    case torch::kFloat16: return DType::Float16;
    case torch::kBFloat16: return DType::BFloat16;
    case torch::kFloat32: return DType::Float32;
    case torch::kFloat64: return DType::Float64;
    default: throw std::invalid_argument(std::string("cannot store dtype ") + c10::toString(s));
  }
}

torch::Tensor view_as_torch(const TensorData& t) {
  const auto opts = torch::TensorOptions().dtype(to_scalar_type(t.dtype));
  if (t.numel() == 0) return torch::empty(t.shape, opts);
  if (!t.storage) throw std::invalid_argument("tensor without storage");
  // from_blob needs a non-const pointer; callers only read through it.
  auto* base = const_cast<unsigned char*>(t.storage->data()) + t.byte_offset;
  const auto strides = t.strides.empty() ? t.contiguous_strides() : t.strides;
  return torch::from_blob(base, t.shape, strides, opts);
}

torch::Tensor to_torch(const TensorData& t) { return view_as_torch(t).clone(at::MemoryFormat::Contiguous); }

TensorData from_torch(const torch::Tensor& tensor, bool as_half) {
  auto t = tensor.detach().to(torch::kCPU);
  if (as_half && t.is_floating_point()) t = t.to(torch::kFloat16);
  t = t.contiguous();
  TensorData out;
  out.dtype = from_scalar_type(t.scalar_type());
  out.shape = t.sizes().vec();
  const auto bytes = static_cast<std::size_t>(t.numel()) * t.element_size();
  auto buf = std::make_shared<std::vector<unsigned char>>(bytes);
  if (bytes) std::memcpy(buf->data(), t.data_ptr(), bytes);
  out.storage = std::move(buf);
  return out;
}

}  // namespace vitscope::io
