#include "core/io/hf_folder.h"

#include <map>
#include <vector>

#include "core/io/bytes.h"

namespace vitscope::io {
namespace fs = std::filesystem;

namespace {

nlohmann::json read_json_object(const fs::path& path) {
  const FileBytes bytes = read_file_bytes(path.string());
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(bytes->begin(), bytes->end());
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError(path.string(), std::string("not valid JSON: ") + e.what());
  }
  if (!json.is_object()) throw FormatError(path.string(), "not a JSON object");
  return json;
}

}  // namespace

nlohmann::json read_config_json(const fs::path& directory) {
  const fs::path config = directory / "config.json";
  std::error_code error;
  return fs::is_regular_file(config, error) ? read_json_object(config) : nlohmann::json();
}

RawCheckpoint read_sharded_safetensors(const std::string& index_path) {
  const nlohmann::json index = read_json_object(index_path);
  const auto weight_map = index.find("weight_map");
  if (weight_map == index.end() || !weight_map->is_object()) throw FormatError(index_path, "no weight_map object");

  // Shard file -> the tensors the index puts there. Shards are plain names in the same folder.
  std::map<std::string, std::vector<std::string>> shards;
  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string()) throw FormatError(index_path, "weight_map entry of '" + tensor + "' is not a file name");
    const std::string file = shard.get<std::string>();
    if (file.empty() || file == "." || file == ".." || file.find_first_of("/\\") != std::string::npos) {
      throw FormatError(index_path, "shard '" + file + "' is not a file name in the index's folder");
    }
    if (!file.ends_with(".safetensors")) {
      throw FormatError(index_path, "shard '" + file + "' is not a .safetensors file (sharded .bin checkpoints are not supported)");
    }
    shards[file].push_back(tensor);
  }

  const fs::path directory = fs::path(index_path).parent_path();
  RawCheckpoint raw;
  raw.path = index_path;
  raw.format = ContainerFormat::ShardedSafetensors;
  for (const auto& [file, names] : shards) {
    const std::string shard_path = (directory / file).string();
    TensorMap shard = read_safetensors(shard_path);
    for (const std::string& name : names) {
      if (!shard.contains(name)) throw FormatError(shard_path, "lacks tensor '" + name + "' that the index assigns to it");
    }
    for (const std::string& name : shard.names) {
      if (raw.tensors.contains(name)) throw FormatError(shard_path, "tensor '" + name + "' is also in another shard");
      raw.tensors.insert(name, shard.tensors.at(name));
    }
  }
  raw.metadata = index.value("metadata", nlohmann::json::object());
  raw.config = read_config_json(directory);
  raw.notes.push_back("read " + std::to_string(shards.size()) + " safetensors shards");
  return raw;
}

RawCheckpoint read_hf_folder(const std::string& directory, const ReadOptions& options) {
  // The weight files a hub folder may hold, most preferred first.
  for (const char* file : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"}) {
    const fs::path weights = fs::path(directory) / file;
    std::error_code error;
    if (!fs::is_regular_file(weights, error)) continue;
    RawCheckpoint raw = read_checkpoint(weights.string(), options);
    raw.path = directory;
    raw.format = ContainerFormat::HuggingFaceFolder;
    raw.config = read_config_json(directory);
    raw.notes.push_back(std::string("weights from ") + file);
    if (raw.config.is_null()) raw.notes.push_back("the folder has no config.json");
    return raw;
  }
  throw FormatError(directory, "a folder without model.safetensors, model.safetensors.index.json or pytorch_model.bin");
}

}  // namespace vitscope::io
