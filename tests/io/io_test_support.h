#pragma once
// Helpers for the io tests: reading values out of TensorData, byte files, hand-built zips.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/io/checkpoint_file.h"
#include "core/io/tensor_data.h"
#include "support/test_env.h"

namespace vitscope::test {

using Bytes = std::vector<unsigned char>;

inline std::filesystem::path io_fixture(const std::string& name) { return fixtures_dir() / "io" / name; }

inline Bytes read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline Bytes to_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

inline void append_le(Bytes& out, uint64_t value, int size) {
  for (int i = 0; i < size; ++i) out.push_back(static_cast<unsigned char>(value >> (8 * i)));
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0) return std::bit_cast<float>(sign);
    while (!(mantissa & 0x400)) {  // normalise a subnormal
      mantissa <<= 1;
      --exponent;
    }
    ++exponent;
    mantissa &= 0x3FF;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Every element in row-major order as double, honouring byte_offset and strides.
inline std::vector<double> values_of(const io::TensorData& t) {
  std::vector<double> out;
  const auto strides = t.strides.empty() ? t.contiguous_strides() : t.strides;
  const std::size_t elem = io::element_size(t.dtype);
  std::vector<int64_t> index(t.shape.size(), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t element = 0;
    for (std::size_t d = 0; d < index.size(); ++d) element += index[d] * strides[d];
    const unsigned char* p = t.storage->data() + t.byte_offset + element * elem;
    uint64_t bits = 0;
    std::memcpy(&bits, p, elem);
    switch (t.dtype) {
      case io::DType::Bool:
      case io::DType::UInt8: out.push_back(static_cast<uint8_t>(bits)); break;
      case io::DType::Int8: out.push_back(static_cast<int8_t>(bits)); break;
      case io::DType::Int16: out.push_back(static_cast<int16_t>(bits)); break;
      case io::DType::Int32: out.push_back(static_cast<int32_t>(bits)); break;
      case io::DType::Int64: out.push_back(static_cast<double>(static_cast<int64_t>(bits))); break;
      case io::DType::Float16: out.push_back(half_to_float(static_cast<uint16_t>(bits))); break;
      case io::DType::BFloat16: out.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits) << 16)); break;
      case io::DType::Float32: out.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits))); break;
      case io::DType::Float64: out.push_back(std::bit_cast<double>(bits)); break;
    }
    for (std::size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

// Runs `read` and expects a FormatError whose message names `path` and contains `fragment`.
inline void expect_format_error(const std::function<void()>& read, const std::string& path, const std::string& fragment) {
  try {
    read();
    ADD_FAILURE() << "no FormatError for " << path << " (expected '" << fragment << "')";
  } catch (const io::FormatError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << "message: " << e.what();
  }
}

// A zip with STORED records, as torch.save writes it (without its 64-byte alignment padding).
// `method` lets a test claim compression.
struct ZipRecord {
  std::string name;
  Bytes data;
  uint16_t method = 0;
};

inline Bytes make_zip(const std::vector<ZipRecord>& records) {
  Bytes out, directory;
  for (const ZipRecord& r : records) {
    const uint64_t local_offset = out.size();
    append_le(out, 0x04034b50, 4);
    append_le(out, 20, 2);  // version needed
    append_le(out, 0, 2);   // flags
    append_le(out, r.method, 2);
    append_le(out, 0, 4);   // time, date
    append_le(out, 0, 4);   // crc (not checked)
    append_le(out, r.data.size(), 4);
    append_le(out, r.data.size(), 4);
    append_le(out, r.name.size(), 2);
    append_le(out, 0, 2);   // extra length
    out.insert(out.end(), r.name.begin(), r.name.end());
    out.insert(out.end(), r.data.begin(), r.data.end());

    append_le(directory, 0x02014b50, 4);
    append_le(directory, 20, 2);  // version made by
    append_le(directory, 20, 2);  // version needed
    append_le(directory, 0, 2);   // flags
    append_le(directory, r.method, 2);
    append_le(directory, 0, 4);   // time, date
    append_le(directory, 0, 4);   // crc
    append_le(directory, r.data.size(), 4);
    append_le(directory, r.data.size(), 4);
    append_le(directory, r.name.size(), 2);
    append_le(directory, 0, 2);   // extra length
    append_le(directory, 0, 2);   // comment length
    append_le(directory, 0, 2);   // disk
    append_le(directory, 0, 2);   // internal attributes
    append_le(directory, 0, 4);   // external attributes
    append_le(directory, local_offset, 4);
    directory.insert(directory.end(), r.name.begin(), r.name.end());
  }
  const uint64_t directory_offset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  append_le(out, 0x06054b50, 4);
  append_le(out, 0, 4);  // disk numbers
  append_le(out, records.size(), 2);
  append_le(out, records.size(), 2);
  append_le(out, directory.size(), 4);
  append_le(out, directory_offset, 4);
  append_le(out, 0, 2);  // comment length
  return out;
}

// Pickle opcode fragments for hand-written pickles, spelled like a pickletools disassembly.
namespace pickle_ops {
inline std::string le(uint64_t value, int size) {
  std::string out;
  for (int i = 0; i < size; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}
// An opcode followed by its operand bytes. (Appending, rather than "X" + operand, sidesteps a
// bogus GCC 12 -Wrestrict warning on literal + std::string.)
inline std::string opcode(char op, const std::string& operand) {
  std::string out(1, op);
  out += operand;
  return out;
}
inline std::string unicode(const std::string& s) { return opcode('X', le(s.size(), 4) + s); }
inline std::string global(const std::string& module, const std::string& name) {
  return opcode('c', module + "\n" + name + "\n");
}
inline std::string int1(int v) { return opcode('K', le(v, 1)); }
inline std::string binint(int32_t v) { return opcode('J', le(static_cast<uint32_t>(v), 4)); }
inline std::string binfloat(double v) {  // big-endian
  const auto bits = std::bit_cast<uint64_t>(v);
  std::string operand;
  for (int i = 7; i >= 0; --i) operand.push_back(static_cast<char>(bits >> (8 * i)));
  return opcode('G', operand);
}
inline std::string binput(int index) { return opcode('q', le(index, 1)); }
inline std::string binget(int index) { return opcode('h', le(index, 1)); }
inline const std::string kProto2 = "\x80\x02";
}  // namespace pickle_ops

}  // namespace vitscope::test
