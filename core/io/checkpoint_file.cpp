// read_checkpoint: sniff the container, read it, and unwrap the state dict (checkpoints.md §6.1).
#include "core/io/checkpoint_file.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/io/hf_folder.h"
#include "core/io/pickle.h"
#include "core/io/torch_zip.h"

namespace vitscope::io {
namespace fs = std::filesystem;
using pickle::Value;

namespace {

enum class FileKind { TorchZip, Safetensors };

// §6.1 step 1, by magic bytes; the legacy format and unknown files are refused here.
FileKind sniff(const std::string& path) {
  std::array<unsigned char, 16> head{};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw FormatError(path, std::string("cannot open: ") + std::strerror(errno));
  const std::size_t size = std::fread(head.data(), 1, head.size(), file);
  std::fclose(file);

  static constexpr unsigned char kZip[] = {'P', 'K', 0x03, 0x04};
  // §4.3: pickle protocol 2, then LONG1 of the magic number 0x1950a86a20f9469cfc6c.
  static constexpr unsigned char kLegacyTorch[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                                   0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  if (size >= sizeof kZip && std::memcmp(head.data(), kZip, sizeof kZip) == 0) return FileKind::TorchZip;
  if (size >= sizeof kLegacyTorch && std::memcmp(head.data(), kLegacyTorch, sizeof kLegacyTorch) == 0) {
    throw FormatError(path, "legacy PyTorch format (saved before torch 1.6 or with _use_new_zipfile_serialization=False); "
                            "re-save it with torch >= 1.6 or convert it to .safetensors");
  }
  // safetensors: a little-endian u64 header length, then the header's opening '{'.
  if (size > 8 && head[8] == '{') return FileKind::Safetensors;
  if (size == 0) throw FormatError(path, "empty file");
  std::string first_bytes;
  for (std::size_t i = 0; i < std::min<std::size_t>(size, 8); ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, i ? " %02x" : "%02x", head[i]);
    first_bytes += hex;
  }
  throw FormatError(path, "not a checkpoint this reader knows (safetensors, torch.save zip or a Hugging Face folder); "
                          "it starts with " + first_bytes);
}

// Picks the state dict out of a torch.save object graph (§6.1 step 3), flattens nested tensor
// dicts with '.', and turns everything else into metadata.
class Unwrapper {
 public:
  explicit Unwrapper(RawCheckpoint& out) : out_(out) {}

  void unwrap(const Value& root, const ReadOptions& options) {
    if (root.kind == Value::Kind::Object) {
      throw FormatError(out_.path, "holds a pickled " + root.text + " object, not a dict of tensors (a whole nn.Module?); "
                                   "save model.state_dict() instead");
    }
    if (root.kind != Value::Kind::Dict) {
      throw FormatError(out_.path, std::string("holds a ") + pickle::kind_name(root.kind) + ", not a dict of tensors");
    }
    std::vector<std::string> candidates = {"model", "state_dict", options.prefer_branch};
    for (const char* key : {"teacher", "student", "model_ema", "module", "encoder"}) {
      if (key != options.prefer_branch) candidates.emplace_back(key);
    }
    const Value* chosen = nullptr;
    for (const std::string& key : candidates) {
      const Value* candidate = find(root, key);
      if (candidate && is_tensor_dict(*candidate, 1)) {
        chosen = candidate;
        out_.unwrapped_from = key;
        break;
      }
    }

    if (!chosen) {
      flatten(root, "", 0);
    } else {
      flatten(*chosen, "", 1);
      out_.notes.push_back("state dict taken from '" + out_.unwrapped_from + "'");
      for (const auto& [key, value] : root.entries) {
        if (!key->is_string(out_.unwrapped_from)) add_metadata(pickle::key_text(*key), *value);
      }
    }
    if (out_.tensors.size() == 0) throw FormatError(out_.path, "holds no tensors");
  }

 private:
  static const Value* find(const Value& dict, const std::string& key) {
    for (const auto& [k, value] : dict.entries) {
      if (k->is_string(key)) return value;
    }
    return nullptr;
  }

  // The structure walks below must see the whole structure, so running out of budget is an error.
  void step(int depth) {
    if (!structure_budget_.step(depth)) throw FormatError(out_.path, "state dict nested too deeply or too large");
  }

  // §6.1 step 3: "accepted if most of its values are tensors"; nested tensor dicts count as tensors.
  bool is_tensor_dict(const Value& value, int depth) {
    step(depth);
    if (value.kind != Value::Kind::Dict || value.entries.empty()) return false;
    std::size_t tensor_like = 0;
    for (const auto& [key, item] : value.entries) {
      if (item->kind == Value::Kind::Tensor || is_tensor_dict(*item, depth + 1)) ++tensor_like;
    }
    return 2 * tensor_like > value.entries.size();
  }

  void flatten(const Value& dict, const std::string& prefix, int depth) {
    for (const auto& [key, item] : dict.entries) {
      const std::string name = prefix + pickle::key_text(*key);
      if (item->kind == Value::Kind::Tensor) {
        if (out_.tensors.contains(name)) throw FormatError(out_.path, "tensor '" + name + "' appears twice");
        out_.tensors.insert(name, *item->tensor);
      } else if (is_tensor_dict(*item, depth + 1)) {
        flatten(*item, name + ".", depth + 1);
      } else {
        add_metadata(name, *item);
      }
    }
  }

  // Tensors under a value (an optimizer's state, a second model); best effort on hostile graphs.
  std::size_t count_tensors(const Value& value, int depth) {
    if (!count_budget_.step(depth)) return 0;
    std::size_t count = value.kind == Value::Kind::Tensor ? 1 : 0;
    for (const Value* item : value.items) count += count_tensors(*item, depth + 1);
    for (const auto& [key, item] : value.entries) count += count_tensors(*item, depth + 1);
    if (value.state) count += count_tensors(*value.state, depth + 1);
    return count;
  }

  // Metadata never holds tensors: a value with tensors inside is only summarised.
  void add_metadata(const std::string& name, const Value& value) {
    const std::size_t tensors = count_tensors(value, 0);
    if (tensors == 0) {
      out_.metadata[name] = pickle::to_json(value, render_budget_);
      return;
    }
    out_.metadata[name] = "<skipped: " + std::to_string(tensors) + " tensors>";
    out_.notes.push_back("set aside '" + name + "' (" + std::to_string(tensors) + " tensors)");
  }

  RawCheckpoint& out_;
  pickle::WalkBudget structure_budget_{std::size_t{1} << 22};
  pickle::WalkBudget count_budget_;
  pickle::WalkBudget render_budget_;
};

RawCheckpoint read_torch_checkpoint(const std::string& path, const ReadOptions& options) {
  RawCheckpoint raw;
  raw.path = path;
  raw.format = ContainerFormat::TorchZip;
  raw.metadata = nlohmann::json::object();
  const pickle::Unpickled graph = read_torch_zip(path, read_file_bytes(path));
  Unwrapper(raw).unwrap(*graph.root, options);
  return raw;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* container_format_name(ContainerFormat f) {
  switch (f) {
    case ContainerFormat::Safetensors: return "safetensors";
    case ContainerFormat::ShardedSafetensors: return "sharded safetensors";
    case ContainerFormat::TorchZip: return "torch zip";
    case ContainerFormat::HuggingFaceFolder: return "Hugging Face folder";
  }
  return "?";
}

RawCheckpoint read_checkpoint(const std::string& path, const ReadOptions& options) {
  std::error_code error;
  if (fs::is_directory(path, error)) return read_hf_folder(path, options);
  if (ends_with(path, ".index.json")) return read_sharded_safetensors(path);
  if (sniff(path) == FileKind::TorchZip) return read_torch_checkpoint(path, options);

  RawCheckpoint raw;
  raw.path = path;
  raw.format = ContainerFormat::Safetensors;
  std::map<std::string, std::string> metadata;
  raw.tensors = read_safetensors(path, &metadata);
  raw.metadata = nlohmann::json::object();
  for (const auto& [key, value] : metadata) raw.metadata[key] = value;
  raw.config = read_config_json(fs::path(path).parent_path());
  return raw;
}

}  // namespace vitscope::io
