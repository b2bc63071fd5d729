// Hugging Face / timm folders, sharded safetensors and container sniffing (checkpoints.md §6.1
// step 1, §4.5 item 11). Folders are built in a temporary directory.
#include <gtest/gtest.h>

#include <algorithm>

#include "io/io_test_support.h"

namespace vitscope::test {
namespace {

io::TensorData floats(std::vector<int64_t> shape, std::vector<float> values) {
  io::TensorData t;
  t.shape = std::move(shape);
  auto bytes = std::make_shared<Bytes>(values.size() * sizeof(float));
  std::memcpy(bytes->data(), values.data(), bytes->size());
  t.storage = std::move(bytes);
  return t;
}

class HfFolder : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("hf-folder"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write_text(const std::string& name, const std::string& text) { write_bytes(dir_ / name, to_bytes(text)); }
  void write_tensors(const std::string& name, const std::vector<std::string>& names) {
    io::TensorMap map;
    for (std::size_t i = 0; i < names.size(); ++i) map.insert(names[i], floats({2}, {float(i), float(i) + 0.5f}));
    io::write_safetensors((dir_ / name).string(), map, {{"format", "pt"}});
  }

  std::filesystem::path dir_;
};

TEST_F(HfFolder, SafetensorsWithConfigJson) {
  write_text("config.json", R"({"model_type": "vit", "num_attention_heads": 6, "layer_norm_eps": 1e-12})");
  write_tensors("model.safetensors", {"embeddings.cls_token", "pooler.dense.bias"});
  const io::RawCheckpoint raw = io::read_checkpoint(dir_.string());
  EXPECT_EQ(raw.format, io::ContainerFormat::HuggingFaceFolder);
  EXPECT_EQ(raw.path, dir_.string());
  EXPECT_EQ(raw.config.at("num_attention_heads"), 6);
  EXPECT_EQ(raw.metadata, (nlohmann::json{{"format", "pt"}}));
  EXPECT_EQ(raw.tensors.size(), 2u);
  EXPECT_EQ(values_of(raw.tensors.tensors.at("pooler.dense.bias")), (std::vector<double>{1, 1.5}));
  EXPECT_EQ(raw.unwrapped_from, "");

  // The file alone also picks up the config.json beside it.
  const io::RawCheckpoint file = io::read_checkpoint((dir_ / "model.safetensors").string());
  EXPECT_EQ(file.format, io::ContainerFormat::Safetensors);
  EXPECT_EQ(file.config.at("model_type"), "vit");
}

TEST_F(HfFolder, ShardedSafetensorsAreMerged) {
  write_text("config.json", R"({"hidden_size": 384})");
  write_tensors("model-00001-of-00002.safetensors", {"a", "b"});
  write_tensors("model-00002-of-00002.safetensors", {"c"});
  write_text("model.safetensors.index.json",
             R"({"metadata": {"total_size": 24}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}})");
  const io::RawCheckpoint raw = io::read_checkpoint(dir_.string());
  EXPECT_EQ(raw.format, io::ContainerFormat::HuggingFaceFolder);
  EXPECT_EQ(raw.tensors.names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(raw.config.at("hidden_size"), 384);

  const std::string index = (dir_ / "model.safetensors.index.json").string();
  const io::RawCheckpoint direct = io::read_checkpoint(index);
  EXPECT_EQ(direct.format, io::ContainerFormat::ShardedSafetensors);
  EXPECT_EQ(direct.metadata.at("total_size"), 24);
}

TEST_F(HfFolder, ShardIndexErrors) {
  write_tensors("shard.safetensors", {"a"});
  const std::string index = (dir_ / "model.safetensors.index.json").string();
  write_text("model.safetensors.index.json", R"({"weight_map": {"a": "shard.safetensors", "z": "shard.safetensors"}})");
  expect_format_error([&] { io::read_checkpoint(index); }, (dir_ / "shard.safetensors").string(), "lacks tensor 'z'");
  write_text("model.safetensors.index.json", R"({"weight_map": {"a": "../shard.safetensors"}})");
  expect_format_error([&] { io::read_checkpoint(index); }, index, "not a file name in the index's folder");
  write_text("model.safetensors.index.json", R"({"weight_map": {"a": "pytorch_model-00001-of-00002.bin"}})");
  expect_format_error([&] { io::read_checkpoint(index); }, index, "sharded .bin checkpoints are not supported");
  write_text("model.safetensors.index.json", R"({"metadata": {}})");
  expect_format_error([&] { io::read_checkpoint(index); }, index, "no weight_map");
  write_text("model.safetensors.index.json", R"([)");
  expect_format_error([&] { io::read_checkpoint(index); }, index, "not valid JSON");
}

TEST_F(HfFolder, PytorchModelBinFallback) {
  std::filesystem::copy_file(io_fixture("state_dict_ordered.pth"), dir_ / "pytorch_model.bin");
  const io::RawCheckpoint raw = io::read_checkpoint(dir_.string());
  EXPECT_EQ(raw.format, io::ContainerFormat::HuggingFaceFolder);
  EXPECT_EQ(raw.tensors.size(), 9u);
  EXPECT_TRUE(raw.config.is_null());
  EXPECT_NE(std::find(raw.notes.begin(), raw.notes.end(), "the folder has no config.json"), raw.notes.end());
}

TEST_F(HfFolder, FolderWithoutWeightsOrWithBrokenConfig) {
  expect_format_error([&] { io::read_checkpoint(dir_.string()); }, dir_.string(), "without model.safetensors");
  write_tensors("model.safetensors", {"a"});
  write_text("config.json", "{\"broken\": ");
  expect_format_error([&] { io::read_checkpoint(dir_.string()); }, (dir_ / "config.json").string(), "not valid JSON");
}

TEST_F(HfFolder, UnknownFilesAreRefusedByTheirFirstBytes) {
  write_bytes(dir_ / "program", Bytes{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0});
  const std::string path = (dir_ / "program").string();
  expect_format_error([&] { io::read_checkpoint(path); }, path, "starts with 7f 45 4c 46");
  write_bytes(dir_ / "empty.pth", {});
  expect_format_error([&] { io::read_checkpoint((dir_ / "empty.pth").string()); }, (dir_ / "empty.pth").string(), "empty file");
  const std::string missing = (dir_ / "missing.pth").string();
  expect_format_error([&] { io::read_checkpoint(missing); }, missing, "cannot open");
}

}  // namespace
}  // namespace vitscope::test
