#pragma once
// Torch-free description of a tensor read from a checkpoint file.
// The io layer parses files (safetensors, torch zip pickles, HF folders) into these; the model
// layer turns them into torch::Tensor (core/model/state_dict.h). Keeping io free of LibTorch
// keeps its parsers fast to compile and lets its hostile-file tests run without torch.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vitscope::io {

enum class DType { Bool, UInt8, Int8, Int16, Int32, Int64, Float16, BFloat16, Float32, Float64 };

std::size_t element_size(DType dtype);
const char* dtype_name(DType dtype);  // safetensors spelling: "F32", "BF16", ...

// A strided view into a shared byte buffer, like a torch storage + (offset, size, stride).
// Several tensors of one pickled checkpoint may share a storage (views of q/k/v, ...).
struct TensorData {
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements; empty = contiguous row-major
  std::shared_ptr<const std::vector<unsigned char>> storage;
  std::size_t byte_offset = 0;  // of element [0,...,0] within storage

  int64_t numel() const;
  std::vector<int64_t> contiguous_strides() const;
};

// Insertion-ordered name -> tensor map plus the file's non-tensor metadata.
struct TensorMap {
  std::vector<std::string> names;  // file order
  std::map<std::string, TensorData> tensors;
  void insert(std::string name, TensorData t);
  bool contains(const std::string& name) const { return tensors.count(name) != 0; }
  std::size_t size() const { return names.size(); }
};

}  // namespace vitscope::io
