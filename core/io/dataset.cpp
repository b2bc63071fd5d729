#include "core/io/dataset.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#ifdef VITSCOPE_HAVE_ZLIB
#include <zlib.h>
#endif

#include "core/io/checkpoint_file.h"
#include "core/io/image.h"

namespace vitscope::io {

namespace fs = std::filesystem;

namespace {

// One image file before decoding: where it came from, its class and its encoded bytes.
struct EncodedImage {
  std::string name;  // path inside the folder or archive, for error messages
  int label = 0;
  std::vector<unsigned char> bytes;
};

// The split rule of DatasetOptions::split, given the top-level names that exist.
std::string resolve_split(const std::string& requested, const std::vector<std::string>& top_level) {
  if (!requested.empty()) return requested;
  return std::find(top_level.begin(), top_level.end(), "train") != top_level.end() ? "train" : "";
}

// Keeps the first `max_per_class` images of each class; `images` is sorted by (label, name).
void limit_per_class(std::vector<EncodedImage>& images, int max_per_class) {
  if (max_per_class <= 0) return;
  std::vector<EncodedImage> kept;
  std::map<int, int> count;
  for (auto& im : images)
    if (count[im.label]++ < max_per_class) kept.push_back(std::move(im));
  images = std::move(kept);
}

// Decodes every image on `num_threads` threads into one (N, 3, S, S) uint8 tensor. Images that
// fail to decode are dropped and reported.
ImageDataset decode_all(std::vector<EncodedImage> encoded, std::vector<std::string> class_names,
                        const DatasetOptions& options, std::string source) {
  const int S = options.image_size;
  if (S <= 0) throw std::invalid_argument("dataset image size must be positive");
  const auto n = static_cast<int64_t>(encoded.size());
  auto images = torch::empty({n, 3, S, S}, torch::kUInt8);
  std::vector<char> ok(n, 0);
  std::vector<std::string> errors(n);
  // Shorter side to S, then centre crop: a square image of any size keeps all its content.
  model::Preprocess square;
  square.mode = model::Preprocess::Mode::ResizeShorterCenterCrop;
  square.crop_fraction = 1.0;

  auto work = [&](int64_t first, int64_t step) {
    torch::NoGradGuard no_grad;
    for (int64_t i = first; i < n; i += step) {
      try {
        auto img = decode_image(encoded[i].bytes, encoded[i].name);
        if (img.size(1) != S || img.size(2) != S) img = resize_for_model(img, S, square);
        images[i].copy_(img.mul(255.0).round_().clamp_(0, 255).to(torch::kUInt8));
        ok[i] = 1;
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  int threads = options.num_threads > 0 ? options.num_threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(1, n)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& th : pool) th.join();

  ImageDataset d;
  d.class_names = std::move(class_names);
  d.source = std::move(source);
  std::vector<int64_t> good, labels;
  for (int64_t i = 0; i < n; ++i) {
    if (ok[i]) {
      good.push_back(i);
      labels.push_back(encoded[i].label);
    } else {
      d.skipped.push_back(errors[i]);
    }
  }
  if (good.empty()) {
    // Say why with the first file's reason; the rest usually fail the same way.
    std::string why = d.source + ": no readable images";
    if (!d.skipped.empty())
      why += " (" + std::to_string(d.skipped.size()) + " could not be read; the first: " + d.skipped.front() + ")";
    throw std::runtime_error(why);
  }
  d.images = static_cast<int64_t>(good.size()) == n ? images : images.index_select(0, torch::tensor(good));
  d.labels = torch::tensor(labels, torch::kInt64);
  return d;
}

// Sorts by (class, name) — ImageFolder order — and fills class_names / labels from the
// "<class>/<file>" relative names.
std::vector<std::string> assign_classes(std::vector<std::pair<std::string, EncodedImage>>& by_class,
                                        std::vector<EncodedImage>& out) {
  std::vector<std::string> classes;
  for (const auto& [cls, im] : by_class) classes.push_back(cls);
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  for (auto& [cls, im] : by_class) {
    im.label = static_cast<int>(std::lower_bound(classes.begin(), classes.end(), cls) - classes.begin());
    out.push_back(std::move(im));
  }
  std::sort(out.begin(), out.end(), [](const EncodedImage& a, const EncodedImage& b) {
    return a.label != b.label ? a.label < b.label : a.name < b.name;
  });
  return classes;
}

std::vector<unsigned char> read_file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw FormatError(p.string(), "cannot open file");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

#ifdef VITSCOPE_HAVE_ZLIB
// Streams the members of a gzip-compressed tar file (POSIX ustar, GNU long names, PAX path
// records). Every field is bounds-checked; a malformed header throws FormatError.
class TarGzReader {
 public:
  explicit TarGzReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) throw FormatError(path, "cannot open archive");
  }
  ~TarGzReader() { gzclose(file_); }
  TarGzReader(const TarGzReader&) = delete;
  TarGzReader& operator=(const TarGzReader&) = delete;

  struct Member {
    std::string name;
    char type = '0';
    std::vector<unsigned char> data;  // regular files only
  };

  // Next regular file or directory; false at the end of the archive.
  bool next(Member& m) {
    std::string long_name;  // from a preceding GNU 'L' or PAX 'x' record
    for (;;) {
      std::array<unsigned char, 512> h{};
      if (!read_exact(h.data(), h.size(), /*eof_ok=*/true)) return false;
      if (std::all_of(h.begin(), h.end(), [](unsigned char c) { return c == 0; })) return false;
      check_checksum(h);
      const uint64_t size = parse_octal(h.data() + 124, 12, "size");
      if (size > kMaxMemberBytes) throw FormatError(path_, "member larger than 1 GiB");
      const char type = static_cast<char>(h[156]);
      if (type == 'L' || type == 'x' || type == 'g') {
        auto payload = read_payload(size);
        if (type == 'L') long_name = std::string(payload.begin(), std::find(payload.begin(), payload.end(), 0));
        if (type == 'x') {
          auto p = pax_path(payload);
          if (!p.empty()) long_name = p;
        }
        continue;
      }
      m.type = type;
      m.name = long_name.empty() ? header_name(h) : long_name;
      if (type == '0' || type == '\0') {
        m.data = read_payload(size);
      } else {
        skip_payload(size);
        m.data.clear();
      }
      return true;
    }
  }

 private:
  static constexpr uint64_t kMaxMemberBytes = uint64_t{1} << 30;

  bool read_exact(unsigned char* dst, size_t n, bool eof_ok) {
    size_t got = 0;
    while (got < n) {
      const int r = gzread(file_, dst + got, static_cast<unsigned>(n - got));
      if (r < 0) {
        int err = 0;
        throw FormatError(path_, std::string("gzip error: ") + gzerror(file_, &err));
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    if (got == n) return true;
    if (got == 0 && eof_ok) return false;
    throw FormatError(path_, "archive is truncated");
  }
  std::vector<unsigned char> read_payload(uint64_t size) {
    std::vector<unsigned char> data(size);
    if (size > 0) read_exact(data.data(), size, false);
    skip_padding(size);
    return data;
  }
  void skip_payload(uint64_t size) {
    std::array<unsigned char, 4096> buf{};
    for (uint64_t left = size; left > 0;) {
      const auto n = std::min<uint64_t>(left, buf.size());
      read_exact(buf.data(), n, false);
      left -= n;
    }
    skip_padding(size);
  }
  void skip_padding(uint64_t size) {
    std::array<unsigned char, 512> pad{};
    if (size % 512 != 0) read_exact(pad.data(), 512 - size % 512, false);
  }
  uint64_t parse_octal(const unsigned char* field, size_t width, const char* what) const {
    uint64_t v = 0;
    size_t i = 0;
    while (i < width && field[i] == ' ') ++i;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) v = v * 8 + (field[i] - '0');
    for (; i < width; ++i)
      if (field[i] != 0 && field[i] != ' ') throw FormatError(path_, std::string("bad tar header field ") + what);
    return v;
  }
  void check_checksum(const std::array<unsigned char, 512>& h) const {
    uint64_t sum = 0;
    for (size_t i = 0; i < h.size(); ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    if (sum != parse_octal(h.data() + 148, 8, "checksum")) throw FormatError(path_, "tar header checksum mismatch");
  }
  static std::string field_string(const unsigned char* p, size_t width) {
    return std::string(reinterpret_cast<const char*>(p), strnlen(reinterpret_cast<const char*>(p), width));
  }
  static std::string header_name(const std::array<unsigned char, 512>& h) {
    std::string name = field_string(h.data(), 100);
    // POSIX ustar ("ustar\0" + "00") keeps a path prefix at 345; GNU tar uses those bytes otherwise.
    if (std::memcmp(h.data() + 257, "ustar\0", 6) == 0) {
      std::string prefix = field_string(h.data() + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    return name;
  }
  // PAX extended header: records "<len> <key>=<value>\n"; returns the value of "path".
  std::string pax_path(const std::vector<unsigned char>& payload) const {
    const std::string text(payload.begin(), payload.end());
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t space = text.find(' ', pos);
      if (space == std::string::npos) break;
      size_t len = 0;
      try {
        len = std::stoul(text.substr(pos, space - pos));
      } catch (const std::exception&) {
        throw FormatError(path_, "bad PAX record length");
      }
      if (len == 0 || pos + len > text.size()) throw FormatError(path_, "bad PAX record length");
      const std::string record = text.substr(space + 1, pos + len - space - 2);  // without "\n"
      if (record.rfind("path=", 0) == 0) return record.substr(5);
      pos += len;
    }
    return {};
  }

  std::string path_;
  gzFile file_;
};
#endif

}  // namespace

ImageDataset ImageDataset::to(const torch::Device& device) const {
  ImageDataset d = *this;
  d.images = images.to(device);
  d.labels = labels.to(device);
  return d;
}

bool can_read_archives() {
#ifdef VITSCOPE_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

ImageDataset load_image_folder(const std::string& root_path, const DatasetOptions& options) {
  const fs::path root(root_path);
  if (!fs::is_directory(root)) throw std::runtime_error(root_path + ": not a directory");
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) top.push_back(e.path().filename().string());
  const std::string split = resolve_split(options.split, top);
  const fs::path base = split.empty() ? root : root / split;
  if (!fs::is_directory(base)) throw std::runtime_error(root_path + ": no split folder '" + split + "'");

  std::vector<std::pair<std::string, EncodedImage>> by_class;
  std::vector<std::string> skipped;
  auto add = [&](const fs::directory_entry& f, const std::string& cls) {
    if (!f.is_regular_file() || !has_image_extension(f.path().string())) return;
    EncodedImage im;
    im.name = f.path().string();
    try {
      im.bytes = read_file_bytes(f.path());
    } catch (const std::exception& e) {
      skipped.push_back(e.what());
      return;
    }
    by_class.emplace_back(cls, std::move(im));
  };
  for (const auto& cls : fs::directory_iterator(base)) {
    if (!cls.is_directory()) continue;
    for (const auto& f : fs::recursive_directory_iterator(cls.path())) add(f, cls.path().filename().string());
  }
  // An unlabeled folder (images, no class sub-folders) is one class: enough for pre-training.
  if (by_class.empty())
    for (const auto& f : fs::directory_iterator(base)) add(f, kUnlabeledClass);
  if (by_class.empty()) throw std::runtime_error(base.string() + ": no images (neither in class sub-folders nor in the folder)");
  std::vector<EncodedImage> encoded;
  auto classes = assign_classes(by_class, encoded);
  limit_per_class(encoded, options.max_per_class);
  auto d = decode_all(std::move(encoded), std::move(classes), options,
                      split.empty() ? root_path : root_path + ":" + split);
  d.skipped.insert(d.skipped.begin(), skipped.begin(), skipped.end());
  return d;
}

ImageDataset load_image_archive(const std::string& path, const DatasetOptions& options) {
#ifdef VITSCOPE_HAVE_ZLIB
  // Collect every image member (names are "<split>/<class>/<file>" or "<class>/<file>"), then
  // choose the split, because the split rule needs the archive's top-level names.
  struct Entry {
    std::vector<std::string> parts;
    std::vector<unsigned char> bytes;
  };
  std::vector<Entry> entries;
  std::vector<std::string> top;
  TarGzReader reader(path);
  TarGzReader::Member m;
  while (reader.next(m)) {
    if (m.type != '0' && m.type != '\0') continue;
    if (!has_image_extension(m.name)) continue;
    Entry e;
    for (const auto& p : fs::path(m.name)) {
      const auto s = p.string();
      if (!s.empty() && s != ".") e.parts.push_back(s);
    }
    if (e.parts.size() < 2) continue;  // an image outside any class folder
    if (e.parts.size() >= 3) top.push_back(e.parts.front());
    e.bytes = std::move(m.data);
    entries.push_back(std::move(e));
  }
  const std::string split = resolve_split(options.split, top);
  std::vector<std::pair<std::string, EncodedImage>> by_class;
  for (auto& e : entries) {
    size_t cls = 0;
    if (!split.empty()) {
      if (e.parts.size() < 3 || e.parts[0] != split) continue;
      cls = 1;
    }
    EncodedImage im;
    im.name = path + ":";
    for (size_t i = 0; i < e.parts.size(); ++i) im.name += (i ? "/" : "") + e.parts[i];
    im.bytes = std::move(e.bytes);
    by_class.emplace_back(e.parts[cls], std::move(im));
  }
  if (by_class.empty())
    throw FormatError(path, split.empty() ? "no images in class folders" : "no images under '" + split + "/'");
  std::vector<EncodedImage> encoded;
  auto classes = assign_classes(by_class, encoded);
  limit_per_class(encoded, options.max_per_class);
  const auto name = fs::path(path).filename().string();
  return decode_all(std::move(encoded), std::move(classes), options, split.empty() ? name : name + ":" + split);
#else
  (void)options;
  throw std::runtime_error(path + ": this build cannot read .tar.gz archives (built without zlib); extract it "
                                  "and pass the folder instead");
#endif
}

ImageDataset load_dataset(const std::string& path, const DatasetOptions& options) {
  if (fs::is_directory(path)) return load_image_folder(path, options);
  if (!fs::exists(path)) throw std::runtime_error(path + ": no such file or directory");
  return load_image_archive(path, options);
}

}  // namespace vitscope::io
