#include "core/io/zip_archive.h"

#include "core/io/checkpoint_file.h"

namespace vitscope::io {
namespace {

// Record layouts from the ZIP application note (PKWARE APPNOTE.TXT), offsets in bytes.
constexpr uint64_t kEndRecordSignature = 0x06054b50;
constexpr std::size_t kEndRecordSize = 22;
constexpr std::size_t kMaxCommentSize = 0xFFFF;
constexpr uint64_t kZip64LocatorSignature = 0x07064b50;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr uint64_t kZip64EndRecordSignature = 0x06064b50;
constexpr std::size_t kZip64EndRecordSize = 56;
constexpr uint64_t kCentralHeaderSignature = 0x02014b50;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr uint64_t kLocalHeaderSignature = 0x04034b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr uint16_t kZip64ExtraFieldId = 0x0001;
constexpr uint64_t kZip64Marker32 = 0xFFFFFFFF;
constexpr uint64_t kZip64Marker16 = 0xFFFF;
constexpr uint16_t kEncryptedFlag = 0x0001;
constexpr uint16_t kMethodStored = 0;

}  // namespace

ZipArchive::ZipArchive(std::string path, FileBytes bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {
  read_directory(find_directory());
}

void ZipArchive::fail(const std::string& problem) const { throw FormatError(path_, "zip: " + problem); }

void ZipArchive::require_in_file(uint64_t offset, uint64_t size, const char* what) const {
  const uint64_t file_size = bytes_->size();
  if (offset > file_size || size > file_size - offset) {
    fail(std::string(what) + " (byte " + std::to_string(offset) + ", " + std::to_string(size) +
         " bytes) lies outside the file of " + std::to_string(file_size) + " bytes");
  }
}

ZipArchive::Directory ZipArchive::find_directory() const {
  const auto& b = *bytes_;
  if (b.size() < kEndRecordSize) fail("file too short to be a zip archive");
  // The end record is last, followed only by a comment of at most 64 KiB: search backwards.
  const std::size_t lowest = b.size() > kEndRecordSize + kMaxCommentSize ? b.size() - kEndRecordSize - kMaxCommentSize : 0;
  std::size_t end_record = b.size() - kEndRecordSize;
  while (load_le(&b[end_record], 4) != kEndRecordSignature ||
         end_record + kEndRecordSize + load_le(&b[end_record + 20], 2) > b.size()) {
    if (end_record == lowest) fail("no end-of-central-directory record (truncated, or not a zip file)");
    --end_record;
  }
  Directory directory{load_le(&b[end_record + 10], 2), load_le(&b[end_record + 12], 4),
                      load_le(&b[end_record + 16], 4)};
  if (directory.entry_count == kZip64Marker16 || directory.size == kZip64Marker32 ||
      directory.offset == kZip64Marker32) {
    // ZIP64: a locator right before the end record points at the ZIP64 end record.
    if (end_record < kZip64LocatorSize || load_le(&b[end_record - kZip64LocatorSize], 4) != kZip64LocatorSignature) {
      fail("ZIP64 end-of-central-directory locator missing");
    }
    const uint64_t zip64_record = load_le(&b[end_record - kZip64LocatorSize + 8], 8);
    require_in_file(zip64_record, kZip64EndRecordSize, "ZIP64 end-of-central-directory record");
    const unsigned char* p = &b[zip64_record];
    if (load_le(p, 4) != kZip64EndRecordSignature) fail("bad ZIP64 end-of-central-directory signature");
    directory = {load_le(p + 32, 8), load_le(p + 40, 8), load_le(p + 48, 8)};
  }
  require_in_file(directory.offset, directory.size, "central directory");
  return directory;
}

void ZipArchive::read_directory(const Directory& directory) {
  const auto& b = *bytes_;
  if (directory.entry_count > directory.size / kCentralHeaderSize) {
    fail("central directory claims " + std::to_string(directory.entry_count) + " entries in " +
         std::to_string(directory.size) + " bytes");
  }
  std::size_t pos = directory.offset;
  const std::size_t end = directory.offset + directory.size;
  for (uint64_t i = 0; i < directory.entry_count; ++i) {
    const std::string where = "central directory entry " + std::to_string(i) + " at byte " + std::to_string(pos);
    if (end - pos < kCentralHeaderSize) fail(where + " is truncated");
    const unsigned char* p = &b[pos];
    if (load_le(p, 4) != kCentralHeaderSignature) fail(where + " has a bad signature");
    Entry entry{static_cast<uint16_t>(load_le(p + 8, 2)), static_cast<uint16_t>(load_le(p + 10, 2)),
                load_le(p + 20, 4), load_le(p + 24, 4), load_le(p + 42, 4)};
    const std::size_t name_size = load_le(p + 28, 2);
    const std::size_t extra_size = load_le(p + 30, 2);
    const std::size_t comment_size = load_le(p + 32, 2);
    const std::size_t total = kCentralHeaderSize + name_size + extra_size + comment_size;
    if (total > end - pos) fail(where + " overruns the central directory");
    std::string name(reinterpret_cast<const char*>(p + kCentralHeaderSize), name_size);

    // ZIP64 extra field: 64-bit values for exactly those 32-bit fields that hold 0xFFFFFFFF,
    // in the order uncompressed size, compressed size, local header offset.
    const unsigned char* extra = p + kCentralHeaderSize + name_size;
    for (std::size_t at = 0; at + 4 <= extra_size;) {
      const uint64_t id = load_le(extra + at, 2);
      const std::size_t field_size = load_le(extra + at + 2, 2);
      if (field_size > extra_size - at - 4) fail(where + " has an extra field overrunning the entry");
      if (id == kZip64ExtraFieldId) {
        std::size_t next = at + 4;
        for (uint64_t* value : {&entry.uncompressed_size, &entry.compressed_size, &entry.local_header_offset}) {
          if (*value != kZip64Marker32) continue;
          if (next + 8 > at + 4 + field_size) fail(where + " has a short ZIP64 extra field");
          *value = load_le(extra + next, 8);
          next += 8;
        }
      }
      at += 4 + field_size;
    }

    if (!entries_.emplace(name, entry).second) fail("duplicate record '" + name + "'");
    names_.push_back(std::move(name));
    pos += total;
  }
}

ZipArchive::Range ZipArchive::record(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) fail("no record '" + name + "'");
  const Entry& entry = it->second;
  if (entry.flags & kEncryptedFlag) fail("record '" + name + "' is encrypted");
  if (entry.method != kMethodStored) {
    fail("record '" + name + "' is compressed (method " + std::to_string(entry.method) +
         "); torch.save stores records uncompressed, so this file was probably re-zipped — "
         "unzip it and zip it again without compression (zip -0)");
  }
  if (entry.compressed_size != entry.uncompressed_size) fail("record '" + name + "' has inconsistent sizes");
  require_in_file(entry.local_header_offset, kLocalHeaderSize, "local header");
  const unsigned char* p = &(*bytes_)[entry.local_header_offset];
  if (load_le(p, 4) != kLocalHeaderSignature) fail("record '" + name + "' has a bad local header signature");
  // The local name and extra field (torch pads here to align data to 64 bytes) precede the data.
  const uint64_t data_offset = entry.local_header_offset + kLocalHeaderSize + load_le(p + 26, 2) + load_le(p + 28, 2);
  require_in_file(data_offset, entry.compressed_size, "record data");
  return {static_cast<std::size_t>(data_offset), static_cast<std::size_t>(entry.compressed_size)};
}

}  // namespace vitscope::io
