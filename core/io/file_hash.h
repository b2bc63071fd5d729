#pragma once
// A fingerprint of a file's bytes: SHA-256, so that a model card can say exactly which base model
// a fine-tune started from and a session which model file it used (the same digest as
// `sha256sum`, so a user can check either by hand).
#include <string>

namespace vitscope::io {

// 64 lowercase hex digits; throws std::runtime_error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);
// The same for bytes in memory.
std::string sha256_hex(const void* data, size_t size);

}  // namespace vitscope::io
