// Broken and hostile torch.save zips through read_checkpoint: every problem must surface as a
// FormatError naming the file, never as a crash or another exception type.
#include <gtest/gtest.h>

#include <random>

#include "io/io_test_support.h"

namespace vitscope::test {
namespace {

using namespace pickle_ops;

// {'w': _rebuild_tensor_v2(<FloatStorage key '0' of `numel`>, offset, size, stride, False, OrderedDict())}
std::string tensor_dict_pickle(int numel, int offset, const std::string& size, const std::string& stride) {
  return kProto2 + "}(" + unicode("w") + global("torch._utils", "_rebuild_tensor_v2") + "((" + unicode("storage") +
         global("torch", "FloatStorage") + unicode("0") + unicode("cpu") + binint(numel) + "tQ" + binint(offset) +
         "(" + size + "t(" + stride + "t\x89" + global("collections", "OrderedDict") + ")RtRu.";
}

Bytes floats(std::initializer_list<float> values) {
  Bytes out(values.size() * sizeof(float));
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

// Offsets into a zip written by make_zip / torch: the end record is the last 22 bytes.
uint64_t end_record(const Bytes& zip) { return zip.size() - 22; }
uint64_t directory_offset(const Bytes& zip) {
  uint64_t offset = 0;
  for (int i = 0; i < 4; ++i) offset |= uint64_t{zip[end_record(zip) + 16 + i]} << (8 * i);
  return offset;
}
void put_le(Bytes& bytes, uint64_t at, uint64_t value, int size) {
  for (int i = 0; i < size; ++i) bytes[at + i] = static_cast<unsigned char>(value >> (8 * i));
}

class HostileTorchZip : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("hostile-zip"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const Bytes& bytes) {
    const std::string path = (dir_ / "hostile.pth").string();
    write_bytes(path, bytes);
    return path;
  }
  Bytes torch_zip(const std::string& pickle, const Bytes& storage, uint16_t pickle_method = 0) {
    return make_zip({{"archive/data.pkl", to_bytes(pickle), pickle_method},
                     {"archive/data/0", storage},
                     {"archive/version", to_bytes("3\n")}});
  }
  void expect_rejected(const Bytes& bytes, const std::string& fragment) {
    const std::string path = write(bytes);
    expect_format_error([&] { io::read_checkpoint(path); }, path, fragment);
  }

  std::filesystem::path dir_;
};

TEST_F(HostileTorchZip, HandBuiltZipLoads) {
  // A 2x2 transposed view of a 4-float storage: proves the builders below make valid files.
  const std::string path = write(torch_zip(tensor_dict_pickle(4, 0, int1(2) + int1(2), int1(1) + int1(2)),
                                           floats({1, 2, 3, 4})));
  const io::RawCheckpoint raw = io::read_checkpoint(path);
  EXPECT_EQ(values_of(raw.tensors.tensors.at("w")), (std::vector<double>{1, 3, 2, 4}));
}

TEST_F(HostileTorchZip, StorageRecordTooShortForItsNumel) {
  expect_rejected(torch_zip(tensor_dict_pickle(10, 0, int1(2), int1(1)), floats({1, 2, 3, 4})),
                  "holds 16 bytes, too few for 10 F32 elements");
}

TEST_F(HostileTorchZip, StridesOrOffsetsPointingOutsideTheStorage) {
  expect_rejected(torch_zip(tensor_dict_pickle(4, 0, int1(2) + int1(2), int1(4) + int1(1)), floats({1, 2, 3, 4})),
                  "lies outside its storage");
  expect_rejected(torch_zip(tensor_dict_pickle(4, 3, int1(2), int1(1)), floats({1, 2, 3, 4})),
                  "lies outside its storage");
  expect_rejected(torch_zip(tensor_dict_pickle(4, 0, binint(1 << 30) + binint(1 << 30), binint(1 << 30) + int1(1)),
                            floats({1, 2, 3, 4})),
                  "lies outside its storage");
}

TEST_F(HostileTorchZip, MissingStorageRecord) {
  const Bytes zip = make_zip({{"archive/data.pkl", to_bytes(tensor_dict_pickle(1, 0, int1(1), int1(1)))}});
  expect_rejected(zip, "no record 'archive/data/0'");
}

TEST_F(HostileTorchZip, CompressedRecordIsRefused) {
  expect_rejected(torch_zip(tensor_dict_pickle(4, 0, int1(4), int1(1)), floats({1, 2, 3, 4}), 8), "compressed (method 8)");
}

TEST_F(HostileTorchZip, ZipWithoutDataPickle) {
  expect_rejected(make_zip({{"arr_0.npy", to_bytes("\x93NUMPY")}}), "without <folder>/data.pkl");
  expect_rejected(make_zip({{"a/data.pkl", {}}, {"b/data.pkl", {}}}), "several data.pkl");
}

TEST_F(HostileTorchZip, PickleErrorsNameTheRecordAndOffset) {
  expect_rejected(torch_zip(kProto2 + "}(" + unicode("w") + "i", {}), "archive/data.pkl byte 10 (unknown opcode 0x69)");
  expect_rejected(torch_zip(kProto2 + "R.", {}), "archive/data.pkl byte 2 (REDUCE): stack underflow");
  expect_rejected(torch_zip(kProto2 + std::string(std::size_t{1} << 21, ']'), {}), "stack deeper");
  expect_rejected(torch_zip(kProto2 + opcode('X', le(0x7fffffff, 4)) + ".", {}), "needs 2147483647 bytes");
}

TEST_F(HostileTorchZip, RootsThatAreNotTensorDicts) {
  expect_rejected(torch_zip(kProto2 + global("mymodule", "Net") + ")\x81.", {}), "holds a pickled mymodule.Net object");
  expect_rejected(torch_zip(kProto2 + "](K\x01K\x02" "e.", {}), "holds a list");
  expect_rejected(torch_zip(kProto2 + "}(" + unicode("epoch") + int1(3) + "u.", {}), "holds no tensors");
  // The same tensor under one name twice (a dict can only have that in a hand-made pickle).
  const std::string twice = kProto2 + "}(" + unicode("w") + global("torch._utils", "_rebuild_tensor_v2") + "((" +
                            unicode("storage") + global("torch", "FloatStorage") + unicode("0") + unicode("cpu") +
                            int1(1) + "tQ" + int1(0) + int1(1) + "\x85" + int1(1) + "\x85\x89NtR" + binput(0) +
                            unicode("w") + binget(0) + "u.";
  expect_rejected(torch_zip(twice, floats({1})), "tensor 'w' appears twice");
}

TEST_F(HostileTorchZip, EveryTruncationIsRejected) {
  const Bytes whole = read_bytes(io_fixture("one_key.pth"));
  ASSERT_GT(whole.size(), 500u);
  // Every cut within the directory and end records at the back, every third one before.
  const std::size_t directory = directory_offset(whole);
  for (std::size_t cut = 0; cut < whole.size(); cut += cut < directory ? 3 : 1) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string path = write(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    EXPECT_THROW(io::read_checkpoint(path), io::FormatError);
  }
}

TEST_F(HostileTorchZip, BrokenCentralDirectories) {
  const Bytes good = torch_zip(tensor_dict_pickle(1, 0, int1(1), int1(1)), floats({1}));

  Bytes bad_signature = good;
  bad_signature[directory_offset(good)] = 'X';
  expect_rejected(bad_signature, "bad signature");

  Bytes offset_outside = good;
  put_le(offset_outside, end_record(good) + 16, good.size() + 10, 4);
  expect_rejected(offset_outside, "central directory (byte");

  Bytes too_many_entries = good;
  put_le(too_many_entries, end_record(good) + 10, 0xFFFE, 2);
  expect_rejected(too_many_entries, "claims 65534 entries");

  Bytes long_name = good;
  put_le(long_name, directory_offset(good) + 28, 0xFFFF, 2);
  expect_rejected(long_name, "overruns the central directory");

  Bytes local_outside = good;
  put_le(local_outside, directory_offset(good) + 42, good.size(), 4);
  expect_rejected(local_outside, "local header (byte");

  Bytes no_end_record = good;
  no_end_record[end_record(good)] = 'X';
  expect_rejected(no_end_record, "no end-of-central-directory record");

  Bytes zip64_without_locator = good;
  put_le(zip64_without_locator, end_record(good) + 16, 0xFFFFFFFF, 4);
  expect_rejected(zip64_without_locator, "ZIP64 end-of-central-directory locator missing");
}

TEST_F(HostileTorchZip, Zip64EndRecordIsUsedWhenTheClassicOneOverflows) {
  // torch writes a ZIP64 end record too; masking the classic directory offset forces its use.
  Bytes zip = read_bytes(io_fixture("one_key.pth"));
  put_le(zip, end_record(zip) + 16, 0xFFFFFFFF, 4);
  const io::RawCheckpoint raw = io::read_checkpoint(write(zip));
  EXPECT_EQ(values_of(raw.tensors.tensors.at("weight")), (std::vector<double>{0, 1, 2, 3, 4, 5}));
}

TEST_F(HostileTorchZip, Zip64ExtraFieldsCarryLargeOffsets) {
  // Rewrite the central directory of a hand-made zip so that every entry keeps its sizes and
  // local header offset in a ZIP64 extra field, as writers do for files over 4 GiB.
  const Bytes plain = torch_zip(tensor_dict_pickle(2, 0, int1(2), int1(1)), floats({5, 6}));
  const uint64_t directory = directory_offset(plain);
  Bytes zip(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(directory));
  uint64_t pos = directory;
  for (int entry = 0; entry < 3; ++entry) {
    Bytes header(plain.begin() + static_cast<std::ptrdiff_t>(pos), plain.begin() + static_cast<std::ptrdiff_t>(pos + 46));
    const std::size_t name_size = header[28] | (header[29] << 8);
    uint64_t sizes_and_offset[3] = {0, 0, 0};  // uncompressed size, compressed size, local offset
    for (int i = 0; i < 4; ++i) {
      sizes_and_offset[0] |= uint64_t{header[24 + i]} << (8 * i);
      sizes_and_offset[1] |= uint64_t{header[20 + i]} << (8 * i);
      sizes_and_offset[2] |= uint64_t{header[42 + i]} << (8 * i);
    }
    for (int at : {20, 24, 42}) put_le(header, at, 0xFFFFFFFF, 4);
    put_le(header, 30, 4 + 24, 2);  // extra field length
    zip.insert(zip.end(), header.begin(), header.end());
    zip.insert(zip.end(), plain.begin() + static_cast<std::ptrdiff_t>(pos + 46),
               plain.begin() + static_cast<std::ptrdiff_t>(pos + 46 + name_size));
    append_le(zip, 0x0001, 2);
    append_le(zip, 24, 2);
    for (uint64_t value : sizes_and_offset) append_le(zip, value, 8);
    pos += 46 + name_size;
  }
  const uint64_t directory_size = zip.size() - directory;
  zip.insert(zip.end(), plain.begin() + static_cast<std::ptrdiff_t>(end_record(plain)), plain.end());
  put_le(zip, end_record(zip) + 12, directory_size, 4);
  const io::RawCheckpoint raw = io::read_checkpoint(write(zip));
  EXPECT_EQ(values_of(raw.tensors.tensors.at("w")), (std::vector<double>{5, 6}));

  // ZIP64 markers whose extra field has another id: the 0xFFFFFFFF values stay and fail the checks.
  Bytes unmarked = zip;
  put_le(unmarked, directory + 46 + std::string("archive/data.pkl").size(), 0x0002, 2);
  expect_rejected(unmarked, "lies outside the file");
}

// Random byte corruption of every fixture: reading may succeed or throw FormatError, nothing else.
TEST_F(HostileTorchZip, RandomCorruptionNeverEscapesAsAnotherError) {
  std::mt19937 random(1234);
  for (const char* name : {"state_dict_ordered.pth", "moco_like.pth.tar", "mae_like.pth", "simmim_like.pth",
                           "numpy_and_parameter.pth", "views.pth", "protocol4.pth"}) {
    const Bytes original = read_bytes(io_fixture(name));
    for (int trial = 0; trial < 150; ++trial) {
      Bytes corrupted = original;
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int i = 0; i < flips; ++i) corrupted[random() % corrupted.size()] = static_cast<unsigned char>(random());
      const std::string path = write(corrupted);
      try {
        io::read_checkpoint(path);
      } catch (const io::FormatError&) {
        // expected for most corruptions
      } catch (const std::exception& e) {
        ADD_FAILURE() << name << " trial " << trial << ": " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace vitscope::test
