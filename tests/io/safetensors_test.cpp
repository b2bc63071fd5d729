// safetensors writer and reader (checkpoints.md §4.5): round trips, the exact byte layout of the
// reference writer, and the reference reader's validation rules on hostile files.
#include <gtest/gtest.h>

#include "io/io_test_support.h"

namespace vitscope::test {
namespace {

using io::DType;
using io::TensorData;

TensorData make_tensor(DType dtype, std::vector<int64_t> shape, const Bytes& raw) {
  TensorData t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.storage = std::make_shared<const Bytes>(raw);
  return t;
}

template <typename T>
Bytes raw_of(std::initializer_list<T> values) {
  Bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

// 8-byte length, header text, then `data_size` zero bytes.
Bytes safetensors_file(const std::string& header, std::size_t data_size) {
  Bytes out;
  append_le(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_size, 0);
  return out;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("safetensors"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_raw(const std::string& name, const Bytes& bytes) {
    const auto path = (dir_ / name).string();
    write_bytes(path, bytes);
    return path;
  }
  void expect_rejected(const Bytes& bytes, const std::string& fragment) {
    const std::string path = write_raw("hostile.safetensors", bytes);
    expect_format_error([&] { io::read_safetensors(path); }, path, fragment);
  }

  std::filesystem::path dir_;
};

TEST_F(SafetensorsTest, RoundTripKeepsDtypesShapesBytesAndMetadata) {
  io::TensorMap map;
  map.insert("weight", make_tensor(DType::Float32, {2, 3}, raw_of<float>({1.5f, -2, 3, 4, 5, 6.25f})));
  map.insert("half", make_tensor(DType::Float16, {3}, raw_of<uint16_t>({0x3c00, 0xc000, 0x3555})));
  map.insert("brain", make_tensor(DType::BFloat16, {2}, raw_of<uint16_t>({0x3f80, 0xc0a0})));
  map.insert("counter", make_tensor(DType::Int64, {2}, raw_of<int64_t>({-7, 1LL << 40})));
  map.insert("scalar", make_tensor(DType::Float64, {}, raw_of<double>({3.25})));
  map.insert("empty", make_tensor(DType::Float32, {0, 4}, {}));
  map.insert("mask", make_tensor(DType::Bool, {3}, Bytes{1, 0, 1}));
  map.insert("bytes", make_tensor(DType::UInt8, {2}, Bytes{0, 255}));
  map.insert("small", make_tensor(DType::Int8, {1}, Bytes{0x80}));
  map.insert("short", make_tensor(DType::Int16, {1}, raw_of<int16_t>({-300})));
  map.insert("int", make_tensor(DType::Int32, {1}, raw_of<int32_t>({123456})));
  const std::string path = (dir_ / "round.safetensors").string();
  io::write_safetensors(path, map, {{"format", "pt"}, {"source", "test"}});
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  std::map<std::string, std::string> metadata;
  const io::TensorMap back = io::read_safetensors(path, &metadata);
  EXPECT_EQ(metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"source", "test"}}));
  // File order: element size descending, then name (the reference writer's order).
  EXPECT_EQ(back.names, (std::vector<std::string>{"counter", "scalar", "empty", "int", "weight", "brain", "half",
                                                  "short", "bytes", "mask", "small"}));
  for (const std::string& name : map.names) {
    SCOPED_TRACE(name);
    const TensorData& in = map.tensors.at(name);
    const TensorData& out = back.tensors.at(name);
    EXPECT_EQ(out.dtype, in.dtype);
    EXPECT_EQ(out.shape, in.shape);
    const auto* data = out.storage->data() + out.byte_offset;
    EXPECT_EQ(Bytes(data, data + in.storage->size()), *in.storage);
  }
  EXPECT_EQ(values_of(back.tensors.at("half")), (std::vector<double>{1.0, -2.0, 0.333251953125}));
  EXPECT_EQ(values_of(back.tensors.at("brain")), (std::vector<double>{1.0, -5.0}));
  EXPECT_EQ(back.tensors.at("scalar").numel(), 1);
  EXPECT_EQ(back.tensors.at("empty").numel(), 0);
}

TEST_F(SafetensorsTest, WriterCopiesStridedViewsInRowMajorOrder) {
  // A 2x3 view of a 3x2 storage (its transpose), starting one element in.
  io::TensorMap map;
  TensorData view = make_tensor(DType::Float32, {2, 3}, raw_of<float>({9, 0, 1, 2, 3, 4, 5}));
  view.strides = {1, 2};
  view.byte_offset = 4;
  map.insert("t", view);
  const std::string path = (dir_ / "view.safetensors").string();
  io::write_safetensors(path, map);
  EXPECT_EQ(values_of(io::read_safetensors(path).tensors.at("t")), (std::vector<double>{0, 2, 4, 1, 3, 5}));
}

TEST_F(SafetensorsTest, WriterRefusesViewsOutsideTheirStorage) {
  io::TensorMap map;
  TensorData view = make_tensor(DType::Float32, {2, 3}, raw_of<float>({0, 1, 2, 3, 4}));
  map.insert("short", view);
  EXPECT_THROW(io::write_safetensors((dir_ / "bad.safetensors").string(), map), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.safetensors"));
  // Strides whose farthest element overflows 64 bits, in the walk over the dimensions (4 * 2^62)
  // and in the byte count after it (2 * 2^62 + 1 elements of 4 bytes).
  for (int64_t rows : {5, 3}) {
    io::TensorMap huge;
    TensorData far = make_tensor(DType::Float32, {rows, 1}, raw_of<float>({0, 1, 2, 3, 4}));
    far.strides = {int64_t{1} << 62, 1};
    huge.insert("far", far);
    try {
      io::write_safetensors((dir_ / "bad.safetensors").string(), huge);
      ADD_FAILURE() << rows << " rows: no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "tensor 'far' reaches past its storage") << rows << " rows";
    }
  }
}

TEST_F(SafetensorsTest, WriterReplacesAnExistingFile) {
  const std::string path = write_raw("replace.safetensors", to_bytes("old contents"));
  io::TensorMap map;
  map.insert("x", make_tensor(DType::UInt8, {1}, Bytes{7}));
  io::write_safetensors(path, map);
  EXPECT_EQ(values_of(io::read_safetensors(path).tensors.at("x")), std::vector<double>{7});
}

TEST_F(SafetensorsTest, WriterMatchesTheReferenceByteLayout) {
  io::TensorMap map;
  map.insert("b", make_tensor(DType::Float32, {2}, raw_of<float>({1, 2})));
  map.insert("a", make_tensor(DType::Float16, {1}, raw_of<uint16_t>({0x3c00})));
  const std::string path = (dir_ / "layout.safetensors").string();
  io::write_safetensors(path, map, {{"format", "pt"}});

  // serde_json's compact spelling, __metadata__ first, tensors in data order, space padding.
  std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}})";
  ASSERT_EQ(header.size(), 139u);
  header.append(5, ' ');
  Bytes expected;
  append_le(expected, 144, 8);
  expected.insert(expected.end(), header.begin(), header.end());
  for (const Bytes& part : {raw_of<float>({1, 2}), raw_of<uint16_t>({0x3c00})}) {
    expected.insert(expected.end(), part.begin(), part.end());
  }
  EXPECT_EQ(read_bytes(path), expected);
}

TEST_F(SafetensorsTest, ReadsTheReferenceDocumentationExample) {
  // From the safetensors docs: no __metadata__, no padding (N = 60).
  const std::string path =
      write_raw("doc.safetensors", safetensors_file(R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})", 16));
  const io::TensorMap map = io::read_safetensors(path);
  ASSERT_TRUE(map.contains("test"));
  EXPECT_EQ(map.tensors.at("test").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values_of(map.tensors.at("test")), (std::vector<double>{0, 0, 0, 0}));
}

TEST_F(SafetensorsTest, EveryTruncationIsRejected) {
  io::TensorMap map;
  map.insert("w", make_tensor(DType::Float32, {2, 2}, raw_of<float>({1, 2, 3, 4})));
  map.insert("b", make_tensor(DType::Float16, {2}, raw_of<uint16_t>({1, 2})));
  const std::string path = (dir_ / "whole.safetensors").string();
  io::write_safetensors(path, map, {{"format", "pt"}});
  const Bytes whole = read_bytes(path);
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string cut_path = write_raw("cut.safetensors", Bytes(whole.begin(), whole.begin() + cut));
    EXPECT_THROW(io::read_safetensors(cut_path), io::FormatError);
  }
}

TEST_F(SafetensorsTest, RejectsHeaderLengthsBeyondTheFileOrTheLimit) {
  const std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  const auto with_claimed_length = [&](uint64_t claim) {
    Bytes file = safetensors_file(header, 1);
    for (int i = 0; i < 8; ++i) file[i] = static_cast<unsigned char>(claim >> (8 * i));
    return file;
  };
  expect_rejected(with_claimed_length(header.size() + 2), "exceeds the file");
  expect_rejected(with_claimed_length(1ULL << 63), "header too large");
  expect_rejected(with_claimed_length(100'000'001), "header too large");
  expect_rejected(with_claimed_length(~0ULL), "header too large");

  expect_rejected(Bytes{1, 0, 0}, "too short");
}

TEST_F(SafetensorsTest, RejectsMalformedHeaders) {
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U8",)", 0), "not valid JSON");
  expect_rejected(safetensors_file(R"([1,2])", 0), "not a JSON object");
  expect_rejected(safetensors_file(R"("text")", 0), "not a JSON object");
  expect_rejected(safetensors_file("{\"\xff\":1}", 0), "not valid JSON");  // invalid UTF-8
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U8","shape":[1]}})", 1), "lacks dtype, shape or data_offsets");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", 1),
                  "non-negative integer");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", 1),
                  "non-negative integer");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}})", 1), "ends before");
  expect_rejected(safetensors_file(R"({"__metadata__":{"epoch":3}})", 0), "not a string");
}

TEST_F(SafetensorsTest, RejectsOffsetsThatDoNotTileTheBuffer) {
  expect_rejected(safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
                  "(overlap)");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", 20),
                  "(hole)");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "(hole)");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 9), "padded");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "need 12");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8),
                  "overflows");
}

TEST_F(SafetensorsTest, RejectsDuplicateNamesAndUnsupportedDtypes) {
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                   R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2),
                  "'a' twice");
  expect_rejected(safetensors_file(R"({"a":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}})", 2),
                  "unsupported dtype U16 for tensor 'a'");
  expect_rejected(safetensors_file(R"({"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1),
                  "unsupported dtype F8_E4M3 for tensor 'w'");
}

TEST_F(SafetensorsTest, MissingFileIsAFormatErrorNamingIt) {
  const std::string path = (dir_ / "absent.safetensors").string();
  expect_format_error([&] { io::read_safetensors(path); }, path, "no such file");
  expect_format_error([&] { io::read_safetensors(dir_.string()); }, dir_.string(), "not a regular file");
}

}  // namespace
}  // namespace vitscope::test
