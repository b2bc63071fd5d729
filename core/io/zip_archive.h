#pragma once
// A minimal ZIP reader for torch.save files (checkpoints.md §4.2 and §5 "Implement 1."):
// torch writes every record STORED (uncompressed), so the reader only locates records and hands
// out byte ranges of the file; it refuses compressed or encrypted records. ZIP64 end records and
// extra fields are understood. Every offset and length read from the file is bounds-checked.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/io/bytes.h"

namespace vitscope::io {

class ZipArchive {
 public:
  // Parses the central directory of a whole zip file. Throws FormatError naming `path`.
  ZipArchive(std::string path, FileBytes bytes);

  const std::string& path() const { return path_; }
  const FileBytes& bytes() const { return bytes_; }
  const std::vector<std::string>& names() const { return names_; }  // central-directory order
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // Where a STORED record's data lies within bytes(). Throws FormatError for a missing,
  // compressed, encrypted or out-of-bounds record.
  struct Range {
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  Range record(const std::string& name) const;

 private:
  struct Entry {
    uint16_t flags = 0;
    uint16_t method = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
  };
  struct Directory {
    uint64_t entry_count = 0;
    uint64_t size = 0;
    uint64_t offset = 0;
  };

  [[noreturn]] void fail(const std::string& problem) const;
  // Fails unless [offset, offset + size) lies inside the file.
  void require_in_file(uint64_t offset, uint64_t size, const char* what) const;
  Directory find_directory() const;
  void read_directory(const Directory& directory);

  std::string path_;
  FileBytes bytes_;
  std::vector<std::string> names_;
  std::map<std::string, Entry> entries_;
};

}  // namespace vitscope::io
