#pragma once
// Reading checkpoint files without Python: safetensors, PyTorch zip pickles (.pth/.pth.tar/.bin)
// and Hugging Face folders. See ../shared/reference/checkpoints.md §4-§6.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/io/tensor_data.h"

namespace vitscope::io {

// Every problem with a file's contents ends here, with the file and the problem in what().
class FormatError : public std::runtime_error {
 public:
  FormatError(const std::string& path, const std::string& problem)
      : std::runtime_error(path + ": " + problem), path_(path), problem_(problem) {}
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string path_, problem_;
};

enum class ContainerFormat { Safetensors, ShardedSafetensors, TorchZip, HuggingFaceFolder };
const char* container_format_name(ContainerFormat f);

struct ReadOptions {
  // Which sub-dict of a full training checkpoint to take when both exist (DINO / iBOT).
  std::string prefer_branch = "teacher";
};

struct RawCheckpoint {
  std::string path;
  ContainerFormat format = ContainerFormat::Safetensors;
  TensorMap tensors;            // the state dict, after unwrapping
  std::string unwrapped_from;   // "" = top level, else e.g. "model", "state_dict", "teacher"
  // Non-tensor values found beside the state dict (epoch, arch, args…; values holding tensors,
  // such as an optimizer, only as "<skipped: N tensors>"), or a safetensors file's __metadata__.
  nlohmann::json metadata;
  nlohmann::json config;        // config.json of an HF / timm folder (or beside a safetensors file)
  std::vector<std::string> notes;  // what the reader did, for the load report
};

// Sniffs the container (magic bytes, directory) and reads it. Throws FormatError.
RawCheckpoint read_checkpoint(const std::string& path, const ReadOptions& options = {});

// safetensors (checkpoints.md §4.5): bounds-checked reader and atomic writer (write, then rename).
// The metadata is a plain string map (not json) so that this signature does not depend on the
// nlohmann version, which differs between torch and torch-free targets on LibTorch 2.x.
TensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata_out = nullptr);
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace vitscope::io
