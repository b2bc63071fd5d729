#pragma once
// Hugging Face and timm hub layouts: a folder with config.json beside model.safetensors,
// model.safetensors.index.json shards or pytorch_model.bin (checkpoints.md §4.5 item 11, §6.1).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/io/checkpoint_file.h"

namespace vitscope::io {

RawCheckpoint read_hf_folder(const std::string& directory, const ReadOptions& options);

// `*.safetensors.index.json`: {"metadata": {...}, "weight_map": {"<tensor>": "<shard file>"}};
// every shard must sit in the index's folder and hold the tensors the map assigns to it.
RawCheckpoint read_sharded_safetensors(const std::string& index_path);

// The config.json in `directory` (HF or timm), or null when there is none.
nlohmann::json read_config_json(const std::filesystem::path& directory);

}  // namespace vitscope::io
