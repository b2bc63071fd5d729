// safetensors reading and writing, checkpoints.md §4.5.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unistd.h>

#include "core/io/bytes.h"
#include "core/io/checkpoint_file.h"

namespace vitscope::io {
namespace {

constexpr uint64_t kMaxHeaderSize = 100'000'000;  // §4.5 item 8, as the reference reader
constexpr std::size_t kPrefixSize = 8;            // the little-endian u64 header length
constexpr std::size_t kHeaderAlignment = 8;       // §4.5 item 2: 8 + N is a multiple of 8

std::optional<DType> parse_dtype(const std::string& name) {
  for (DType d : {DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                  DType::Float16, DType::BFloat16, DType::Float32, DType::Float64}) {
    if (name == dtype_name(d)) return d;
  }
  return std::nullopt;
}

struct HeaderEntry {
  std::string name;
  TensorData tensor;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// An unsigned integer field of the header JSON; negative, fractional or huge values fail.
uint64_t unsigned_field(const nlohmann::json& value, const std::string& path, const std::string& what) {
  if (!value.is_number_unsigned()) throw FormatError(path, what + " is not a non-negative integer");
  return value.get<uint64_t>();
}

HeaderEntry parse_entry(const std::string& name, const nlohmann::json& info, const std::string& path) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object()) throw FormatError(path, where + " is not described by a JSON object");
  const auto dtype_it = info.find("dtype");
  const auto shape_it = info.find("shape");
  const auto offsets_it = info.find("data_offsets");
  if (dtype_it == info.end() || shape_it == info.end() || offsets_it == info.end()) {
    throw FormatError(path, where + " lacks dtype, shape or data_offsets");
  }
  if (!dtype_it->is_string()) throw FormatError(path, where + " has a non-string dtype");
  const auto dtype = parse_dtype(dtype_it->get<std::string>());
  if (!dtype) throw FormatError(path, "unsupported dtype " + dtype_it->get<std::string>() + " for " + where);
  if (!shape_it->is_array()) throw FormatError(path, where + " has a shape that is not an array");
  if (!offsets_it->is_array() || offsets_it->size() != 2) {
    throw FormatError(path, where + " has data_offsets that are not [begin, end]");
  }

  HeaderEntry entry;
  entry.name = name;
  entry.tensor.dtype = *dtype;
  for (const auto& dim : *shape_it) {
    const uint64_t size = unsigned_field(dim, path, where + " shape entry");
    if (size > static_cast<uint64_t>(INT64_MAX)) throw FormatError(path, where + " has a dimension too large");
    entry.tensor.shape.push_back(static_cast<int64_t>(size));
  }
  entry.begin = unsigned_field((*offsets_it)[0], path, where + " data offset");
  entry.end = unsigned_field((*offsets_it)[1], path, where + " data offset");
  if (entry.end < entry.begin) throw FormatError(path, where + " ends before it begins");
  const auto numel = checked_numel(entry.tensor.shape);
  const auto bytes = numel ? checked_mul(static_cast<uint64_t>(*numel), element_size(*dtype)) : std::nullopt;
  if (!bytes) throw FormatError(path, where + " has a shape whose size overflows");
  if (*bytes != entry.end - entry.begin) {
    throw FormatError(path, where + " spans " + std::to_string(entry.end - entry.begin) + " bytes but its shape and " +
                                dtype_name(*dtype) + " need " + std::to_string(*bytes));
  }
  return entry;
}

// Parses the header JSON, refusing duplicate top-level keys (JSON parsers keep the last one).
nlohmann::json parse_header(const unsigned char* begin, const unsigned char* end, const std::string& path) {
  std::set<std::string> keys;
  std::string duplicate;
  const auto note_duplicates = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && !keys.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(begin, end, note_duplicates);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw FormatError(path, "header is not a JSON object");
  if (!duplicate.empty()) throw FormatError(path, "header names tensor '" + duplicate + "' twice");
  return header;
}

// Fails unless a tensor's strided view lies inside its storage (the writer copies through it).
void check_in_storage(const std::string& name, const TensorData& t) {
  const auto numel = checked_numel(t.shape);
  if (!numel) throw std::invalid_argument("tensor '" + name + "' has an invalid shape");
  if (*numel == 0) return;
  const auto strides = t.strides.empty() ? t.contiguous_strides() : t.strides;
  if (!t.storage || strides.size() != t.shape.size()) throw std::invalid_argument("tensor '" + name + "' has no storage or bad strides");
  const std::string past_storage = "tensor '" + name + "' reaches past its storage";
  uint64_t reach = 0;  // the farthest element, counted from byte_offset
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (strides[i] < 0) throw std::invalid_argument("tensor '" + name + "' has a negative stride");
    const auto step = checked_mul(static_cast<uint64_t>(t.shape[i] - 1), static_cast<uint64_t>(strides[i]));
    const auto next = step ? checked_add(reach, *step) : std::nullopt;
    if (!next) throw std::invalid_argument(past_storage);  // overflows 64 bits: certainly past it
    reach = *next;
  }
  const auto end_element = checked_add(reach, 1);
  const auto end_byte = end_element ? checked_mul(*end_element, element_size(t.dtype)) : std::nullopt;
  if (!end_byte || *end_byte > t.storage->size() || t.byte_offset > t.storage->size() - *end_byte) {
    throw std::invalid_argument(past_storage);
  }
}

// The tensor's elements in row-major order (one block when it is already contiguous).
std::vector<unsigned char> contiguous_bytes(const TensorData& t) {
  const std::size_t elem = element_size(t.dtype);
  const std::size_t numel = static_cast<std::size_t>(t.numel());
  const unsigned char* base = numel ? t.storage->data() + t.byte_offset : nullptr;
  const auto strides = t.strides.empty() ? t.contiguous_strides() : t.strides;
  if (numel == 0 || strides == t.contiguous_strides()) return {base, base + numel * elem};

  std::vector<unsigned char> out(numel * elem);
  std::vector<int64_t> index(t.shape.size(), 0);
  for (std::size_t n = 0; n < numel; ++n) {
    int64_t source = 0;
    for (std::size_t d = 0; d < index.size(); ++d) source += index[d] * strides[d];
    std::memcpy(&out[n * elem], base + source * static_cast<int64_t>(elem), elem);
    for (std::size_t d = index.size(); d-- > 0;) {  // advance the row-major odometer
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

std::string quoted(const std::string& text) { return nlohmann::json(text).dump(); }

}  // namespace

TensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata_out) {
  const FileBytes file = read_file_bytes(path);
  const auto& b = *file;
  if (b.size() < kPrefixSize) throw FormatError(path, "file too short for a safetensors header");
  const uint64_t header_size = load_le(b.data(), kPrefixSize);
  if (header_size > kMaxHeaderSize) {
    throw FormatError(path, "header too large (" + std::to_string(header_size) + " bytes; the limit is " +
                                std::to_string(kMaxHeaderSize) + ")");
  }
  if (header_size > b.size() - kPrefixSize) {
    throw FormatError(path, "header of " + std::to_string(header_size) + " bytes exceeds the file of " +
                                std::to_string(b.size()) + " bytes");
  }
  const nlohmann::json header = parse_header(b.data() + kPrefixSize, b.data() + kPrefixSize + header_size, path);

  std::vector<HeaderEntry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw FormatError(path, "__metadata__ is not a JSON object");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) throw FormatError(path, "__metadata__ value of '" + key + "' is not a string");
      }
      if (metadata_out)
        for (const auto& [key, value] : info.items()) (*metadata_out)[key] = value.get<std::string>();
      continue;
    }
    entries.push_back(parse_entry(name, info, path));
  }

  // §4.5 item 8: sorted by offsets, the tensors tile the byte buffer from 0 without holes or
  // overlaps, and the buffer ends exactly at the end of the file.
  std::sort(entries.begin(), entries.end(),
            [](const HeaderEntry& a, const HeaderEntry& c) { return std::tie(a.begin, a.end) < std::tie(c.begin, c.end); });
  uint64_t buffer_end = 0;
  for (const HeaderEntry& entry : entries) {
    if (entry.begin != buffer_end) {
      throw FormatError(path, "tensor '" + entry.name + "' begins at byte " + std::to_string(entry.begin) + " of the data, expected " +
                                  std::to_string(buffer_end) + (entry.begin < buffer_end ? " (overlap)" : " (hole)"));
    }
    buffer_end = entry.end;
  }
  const uint64_t data_start = kPrefixSize + header_size;
  if (buffer_end != b.size() - data_start) {
    throw FormatError(path, "tensor data ends at byte " + std::to_string(data_start + buffer_end) + " but the file has " +
                                std::to_string(b.size()) + " bytes (truncated or padded file)");
  }

  TensorMap tensors;
  for (HeaderEntry& entry : entries) {
    entry.tensor.storage = file;
    entry.tensor.byte_offset = data_start + entry.begin;
    tensors.insert(entry.name, std::move(entry.tensor));
  }
  return tensors;
}

void write_safetensors(const std::string& path, const TensorMap& tensors, const std::map<std::string, std::string>& metadata) {
  // The reference writer's order (§4.5 item 9): descending element size, then name, so that every
  // tensor starts aligned to its element size.
  std::vector<std::string> order = tensors.names;
  for (const std::string& name : order) check_in_storage(name, tensors.tensors.at(name));
  std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& c) {
    const std::size_t size_a = element_size(tensors.tensors.at(a).dtype);
    const std::size_t size_c = element_size(tensors.tensors.at(c).dtype);
    return size_a != size_c ? size_a > size_c : a < c;
  });

  // The header as the reference writer (serde_json) spells it: compact, __metadata__ first, then
  // the tensors in data order. Built by hand because nlohmann::json objects sort their keys.
  std::string header = "{";
  if (!metadata.empty()) header += quoted("__metadata__") + ":" + nlohmann::json(metadata).dump() + ",";
  uint64_t offset = 0;
  for (const std::string& name : order) {
    const TensorData& t = tensors.tensors.at(name);
    const uint64_t size = static_cast<uint64_t>(t.numel()) * element_size(t.dtype);
    header += quoted(name) + ":{\"dtype\":" + quoted(dtype_name(t.dtype)) + ",\"shape\":" + nlohmann::json(t.shape).dump() +
              ",\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + size) + "]},";
    offset += size;
  }
  if (header.back() == ',') header.pop_back();
  header += "}";
  header.append((kHeaderAlignment - header.size() % kHeaderAlignment) % kHeaderAlignment, ' ');

  // Atomic replace: write a sibling temporary file, flush it to disk, then rename it over `path`.
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (!file) throw std::runtime_error(temporary + ": cannot create: " + std::strerror(errno));
  const auto write = [&](const void* data, std::size_t size) {
    return size == 0 || std::fwrite(data, 1, size, file) == size;
  };
  unsigned char prefix[kPrefixSize];
  for (std::size_t i = 0; i < kPrefixSize; ++i) prefix[i] = static_cast<unsigned char>(header.size() >> (8 * i));
  bool ok = write(prefix, kPrefixSize) && write(header.data(), header.size());
  for (std::size_t i = 0; ok && i < order.size(); ++i) {
    const auto bytes = contiguous_bytes(tensors.tensors.at(order[i]));
    ok = write(bytes.data(), bytes.size());
  }
  ok = ok && std::fflush(file) == 0 && ::fsync(fileno(file)) == 0;
  const int write_errno = errno;
  ok = (std::fclose(file) == 0) && ok;
  std::error_code rename_error;
  if (ok) std::filesystem::rename(temporary, path, rename_error);
  if (!ok || rename_error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw std::runtime_error(path + ": cannot write: " + (ok ? rename_error.message() : std::strerror(write_errno)));
  }
}

}  // namespace vitscope::io
