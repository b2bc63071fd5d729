#pragma once
// Byte-level helpers shared by the io parsers: whole-file reads, little-endian fields and
// overflow-checked size arithmetic. Every number read from a file is untrusted.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vitscope::io {

// A whole file in memory; tensors read from it share it (TensorData::storage).
using FileBytes = std::shared_ptr<const std::vector<unsigned char>>;

// Throws FormatError naming the path when the file cannot be read.
FileBytes read_file_bytes(const std::string& path);

// Unsigned little-endian integer of `size` (<= 8) bytes at p; the caller has bounds-checked p.
uint64_t load_le(const unsigned char* p, std::size_t size);

std::optional<uint64_t> checked_add(uint64_t a, uint64_t b);
std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b);

// Element count of a shape, or nullopt when a dimension is negative or the product of the
// non-zero dimensions overflows int64 (so that TensorData::numel() never overflows either).
std::optional<int64_t> checked_numel(const std::vector<int64_t>& shape);

}  // namespace vitscope::io
