// read_checkpoint on real torch.save files (tests/scripts/make_io_fixtures.py): tensor values
// against the expected values Python recorded, the unwrap rules of checkpoints.md §6.1 step 3,
// and the metadata found beside the state dict.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "io/io_test_support.h"

namespace vitscope::test {
namespace {

const nlohmann::json& expected_values() {
  static const nlohmann::json expected = [] {
    const Bytes bytes = read_bytes(io_fixture("expected.json"));
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  }();
  return expected;
}

io::RawCheckpoint read_fixture(const std::string& name, const io::ReadOptions& options = {}) {
  return io::read_checkpoint(io_fixture(name).string(), options);
}

class FixtureValues : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureValues, MatchWhatPythonSaved) {
  const nlohmann::json& expected = expected_values().at(GetParam());
  const io::RawCheckpoint raw = read_fixture(GetParam());
  EXPECT_EQ(raw.format, io::ContainerFormat::TorchZip);
  EXPECT_EQ(raw.unwrapped_from, expected.at("unwrapped_from").get<std::string>());
  ASSERT_EQ(raw.tensors.size(), expected.at("tensors").size());
  for (const auto& [name, want] : expected.at("tensors").items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(raw.tensors.contains(name));
    const io::TensorData& t = raw.tensors.tensors.at(name);
    EXPECT_EQ(io::dtype_name(t.dtype), want.at("dtype").get<std::string>());
    EXPECT_EQ(t.shape, want.at("shape").get<std::vector<int64_t>>());
    const std::vector<double> values = values_of(t);
    const double sum = std::accumulate(values.begin(), values.end(), 0.0);
    EXPECT_NEAR(sum, want.at("sum").get<double>(), 1e-9 * (1 + std::abs(sum)));
    const auto first = want.at("first").get<std::vector<double>>();
    EXPECT_EQ(std::vector<double>(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(first.size())), first);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFixtures, FixtureValues,
                         ::testing::Values("state_dict_ordered.pth", "moco_like.pth.tar", "mae_like.pth",
                                           "dino_full_like.pth", "simmim_like.pth", "one_key.pth",
                                           "numpy_and_parameter.pth", "dtypes.pth", "views.pth", "protocol4.pth"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(TorchCheckpoint, OrderedDictStateDictKeepsFileOrderAndDropsModuleMetadata) {
  const io::RawCheckpoint raw = read_fixture("state_dict_ordered.pth");
  EXPECT_EQ(raw.unwrapped_from, "");
  EXPECT_EQ(raw.tensors.names,
            (std::vector<std::string>{"fc.weight", "fc.bias", "norm.weight", "norm.bias", "bn.weight", "bn.bias",
                                      "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}));
  const io::TensorData& batches = raw.tensors.tensors.at("bn.num_batches_tracked");
  EXPECT_EQ(batches.dtype, io::DType::Int64);
  EXPECT_TRUE(batches.shape.empty());
  EXPECT_EQ(raw.metadata, nlohmann::json::object());  // the OrderedDict's _metadata is not metadata
}

TEST(TorchCheckpoint, ViewsShareOneStorageWithOffsetsAndStrides) {
  const io::RawCheckpoint raw = read_fixture("views.pth");
  const auto& t = raw.tensors.tensors;
  const io::TensorData& qkv = t.at("qkv");
  for (const char* name : {"q", "k", "v", "qkv_t", "column"}) {
    EXPECT_EQ(t.at(name).storage, qkv.storage) << name;
  }
  EXPECT_EQ(t.at("k").byte_offset, qkv.byte_offset + 12 * sizeof(float));
  EXPECT_EQ(t.at("v").byte_offset, qkv.byte_offset + 24 * sizeof(float));
  EXPECT_EQ(t.at("qkv_t").strides, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(t.at("column").strides, std::vector<int64_t>{4});
  EXPECT_EQ(t.at("column").byte_offset, qkv.byte_offset + sizeof(float));
  const std::vector<double> all = values_of(qkv);
  const std::vector<double> k = values_of(t.at("k"));
  EXPECT_EQ(k, std::vector<double>(all.begin() + 12, all.begin() + 24));
  EXPECT_TRUE(t.at("scalar").shape.empty());
  EXPECT_EQ(values_of(t.at("scalar")), std::vector<double>{3.5});
  EXPECT_EQ(t.at("empty").shape, (std::vector<int64_t>{0, 4}));
}

TEST(TorchCheckpoint, MocoUnwrapsStateDictAndSummarisesTheOptimizer) {
  const io::RawCheckpoint raw = read_fixture("moco_like.pth.tar");
  EXPECT_EQ(raw.unwrapped_from, "state_dict");
  EXPECT_TRUE(raw.tensors.contains("module.base_encoder.fc.weight"));
  EXPECT_TRUE(raw.tensors.contains("module.momentum_encoder.fc.weight"));
  EXPECT_EQ(raw.metadata.at("epoch"), 300);
  EXPECT_EQ(raw.metadata.at("arch"), "vit_small");
  // AdamW after one step on a Linear(2, 2): step, exp_avg and exp_avg_sq for weight and bias.
  EXPECT_EQ(raw.metadata.at("optimizer"), "<skipped: 6 tensors>");
}

TEST(TorchCheckpoint, MaeUnwrapsModelAndRendersTheNamespace) {
  const io::RawCheckpoint raw = read_fixture("mae_like.pth");
  EXPECT_EQ(raw.unwrapped_from, "model");
  EXPECT_EQ(raw.metadata.at("epoch"), 799);
  const nlohmann::json& args = raw.metadata.at("args");
  EXPECT_EQ(args.at("__class__"), "argparse.Namespace");
  EXPECT_EQ(args.at("model"), "mae_vit_base_patch16");
  EXPECT_EQ(args.at("input_size"), 224);
  EXPECT_EQ(args.at("mask_ratio"), 0.75);
  EXPECT_EQ(args.at("norm_pix_loss"), true);
  EXPECT_EQ(args.at("blr"), 1.5e-4);
  EXPECT_TRUE(args.at("lr").is_null());
  EXPECT_EQ(args.at("resume"), "");
  EXPECT_FALSE(args.contains("__args__"));
}

TEST(TorchCheckpoint, DinoTakesTheTeacherUnlessTheStudentIsPreferred) {
  const io::RawCheckpoint teacher = read_fixture("dino_full_like.pth");
  EXPECT_EQ(teacher.unwrapped_from, "teacher");
  EXPECT_TRUE(teacher.tensors.contains("backbone.fc.weight"));
  EXPECT_EQ(teacher.metadata.at("student"), "<skipped: 9 tensors>");
  EXPECT_EQ(teacher.metadata.at("dino_loss"), "<skipped: 1 tensors>");
  EXPECT_EQ(teacher.metadata.at("args").at("out_dim"), 65536);

  io::ReadOptions options;
  options.prefer_branch = "student";
  const io::RawCheckpoint student = read_fixture("dino_full_like.pth", options);
  EXPECT_EQ(student.unwrapped_from, "student");
  EXPECT_TRUE(student.tensors.contains("module.backbone.fc.weight"));
  EXPECT_EQ(student.metadata.at("teacher"), "<skipped: 9 tensors>");
}

TEST(TorchCheckpoint, SimmimConfigNodeRendersAsNestedObjects) {
  const io::RawCheckpoint raw = read_fixture("simmim_like.pth");
  EXPECT_EQ(raw.unwrapped_from, "model");
  EXPECT_TRUE(raw.tensors.contains("decoder.0.weight"));
  const nlohmann::json& config = raw.metadata.at("config");
  EXPECT_EQ(config.at("__class__"), "yacs.config.CfgNode");
  EXPECT_EQ(config.at("MODEL").at("TYPE"), "vit");
  EXPECT_EQ(config.at("MODEL").at("VIT").at("EMBED_DIM"), 768);
  EXPECT_EQ(config.at("DATA").at("IMG_SIZE"), 192);
}

TEST(TorchCheckpoint, NumpyScalarsBecomeNumbersAndParametersBecomeTensors) {
  const io::RawCheckpoint raw = read_fixture("numpy_and_parameter.pth");
  EXPECT_EQ(raw.unwrapped_from, "");
  EXPECT_EQ(raw.tensors.names, (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(raw.metadata.at("best_acc"), 76.5);
  EXPECT_EQ(raw.metadata.at("step"), 12);
}

TEST(TorchCheckpoint, Protocol4SetsAndFrozensetsAreMetadata) {
  const io::RawCheckpoint raw = read_fixture("protocol4.pth");
  EXPECT_EQ(raw.unwrapped_from, "state_dict");
  EXPECT_EQ(raw.metadata.at("tags"), nlohmann::json::array({"mim"}));
  EXPECT_EQ(raw.metadata.at("frozen"), nlohmann::json::array({3}));
  EXPECT_EQ(raw.metadata.at("name"), "p4");
}

TEST(TorchCheckpoint, DtypesMapFromStorageTypes) {
  const io::RawCheckpoint raw = read_fixture("dtypes.pth");
  const std::map<std::string, io::DType> expected = {
      {"f32", io::DType::Float32}, {"f16", io::DType::Float16}, {"bf16", io::DType::BFloat16},
      {"f64", io::DType::Float64}, {"i64", io::DType::Int64},   {"i32", io::DType::Int32},
      {"i16", io::DType::Int16},   {"i8", io::DType::Int8},     {"u8", io::DType::UInt8},
      {"bool", io::DType::Bool}};
  for (const auto& [name, dtype] : expected) EXPECT_EQ(raw.tensors.tensors.at(name).dtype, dtype) << name;
  EXPECT_EQ(values_of(raw.tensors.tensors.at("u8")), (std::vector<double>{0, 255}));
  EXPECT_EQ(values_of(raw.tensors.tensors.at("bool")), (std::vector<double>{1, 0, 1}));
}

TEST(TorchCheckpoint, RefusesLegacyAndTorchScriptFiles) {
  const std::string legacy = io_fixture("legacy.pth").string();
  expect_format_error([&] { io::read_checkpoint(legacy); }, legacy, "legacy PyTorch format");
  const std::string script = io_fixture("torchscript.pt").string();
  expect_format_error([&] { io::read_checkpoint(script); }, script, "TorchScript");
}

TEST(TorchCheckpoint, ReadCopiesSurviveRoundTripThroughSafetensors) {
  // The views fixture holds non-contiguous tensors; the writer must copy them element-wise.
  const io::RawCheckpoint raw = read_fixture("views.pth");
  const auto dir = temp_dir("views-roundtrip");
  const std::string path = (dir / "views.safetensors").string();
  io::write_safetensors(path, raw.tensors);
  const io::TensorMap back = io::read_safetensors(path);
  for (const std::string& name : raw.tensors.names) {
    EXPECT_EQ(values_of(back.tensors.at(name)), values_of(raw.tensors.tensors.at(name))) << name;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitscope::test
