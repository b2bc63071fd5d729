#include "core/io/bytes.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/io/checkpoint_file.h"

namespace vitscope::io {

FileBytes read_file_bytes(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw FormatError(path, std::filesystem::exists(path, error) ? "not a regular file" : "no such file");
  }
  const auto size = std::filesystem::file_size(path, error);
  if (error) throw FormatError(path, "cannot read: " + error.message());
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw FormatError(path, std::string("cannot open: ") + std::strerror(errno));
  auto bytes = std::make_shared<std::vector<unsigned char>>(size);
  const bool complete = std::fread(bytes->data(), 1, size, file) == size;
  const int read_errno = errno;
  std::fclose(file);
  if (!complete) throw FormatError(path, std::string("cannot read: ") + std::strerror(read_errno));
  return bytes;
}

uint64_t load_le(const unsigned char* p, std::size_t size) {
  uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
  return value;
}

std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

std::optional<int64_t> checked_numel(const std::vector<int64_t>& shape) {
  int64_t nonzero_product = 1;
  bool has_zero = false;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) {
      has_zero = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero_product, dim, &nonzero_product)) return std::nullopt;
  }
  return has_zero ? 0 : nonzero_product;
}

}  // namespace vitscope::io
