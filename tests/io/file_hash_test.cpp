// SHA-256 of files and bytes: the FIPS 180-4 example digests, the padding boundaries, and a
// file against coreutils' sha256sum, an independent implementation.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/io/file_hash.h"
#include "support/test_env.h"

namespace vitscope::test {
namespace {

std::string sha(const std::string& s) { return io::sha256_hex(s.data(), s.size()); }

TEST(FileHash, Fips180Examples) {
  EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FileHash, FileMatchesBytesAndSha256sumAcrossPaddingBoundaries) {
  const auto dir = temp_dir("file-hash");
  std::mt19937 random(7);
  // 55/56/64 bytes straddle the length field's block; 3 MiB + 1 crosses the 1 MiB read buffer.
  for (size_t size : {size_t{55}, size_t{56}, size_t{63}, size_t{64}, size_t{65}, size_t{3 << 20} + 1}) {
    std::string bytes(size, '\0');
    for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
    std::string name = "f";  // then +=: "f" + to_string trips GCC 12's -Wrestrict false positive
    name += std::to_string(size);
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    const auto digest = io::sha256_file(path.string());
    EXPECT_EQ(digest, sha(bytes)) << size;
    if (FILE* p = popen(("sha256sum '" + path.string() + "' 2>/dev/null").c_str(), "r")) {
      char out[65] = {};
      const bool read = std::fread(out, 1, 64, p) == 64;
      pclose(p);
      if (read) {
        EXPECT_EQ(digest, std::string(out, 64)) << size;
      }
    }
  }
}

TEST(FileHash, UnreadableFileNamesIt) {
  try {
    io::sha256_file("/nonexistent/model.safetensors");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace vitscope::test
