#include "core/io/torch_zip.h"

#include "core/io/checkpoint_file.h"
#include "core/io/zip_archive.h"

namespace vitscope::io {
namespace {

// The top folder that holds data.pkl: the one "<top>/data.pkl" record, <top> without slashes.
std::string find_top_folder(const ZipArchive& zip) {
  static const std::string kPickle = "/data.pkl";
  std::string top;
  for (const std::string& name : zip.names()) {
    if (name.size() <= kPickle.size() || name.compare(name.size() - kPickle.size(), kPickle.size(), kPickle) != 0) continue;
    const std::string folder = name.substr(0, name.size() - kPickle.size());
    if (folder.find('/') != std::string::npos) continue;
    if (!top.empty()) throw FormatError(zip.path(), "several data.pkl records ('" + top + "', '" + folder + "')");
    top = folder;
  }
  if (top.empty()) {
    throw FormatError(zip.path(), "a zip file without <folder>/data.pkl: not a torch.save checkpoint "
                                  "(a numpy .npz or another zip?)");
  }
  return top;
}

bool is_torchscript(const ZipArchive& zip, const std::string& top) {
  if (zip.contains(top + "/constants.pkl")) return true;
  const std::string code = top + "/code/";
  for (const std::string& name : zip.names()) {
    if (name.compare(0, code.size(), code) == 0) return true;
  }
  return false;
}

}  // namespace

pickle::Unpickled read_torch_zip(const std::string& path, FileBytes bytes) {
  const ZipArchive zip(path, std::move(bytes));
  const std::string top = find_top_folder(zip);
  if (is_torchscript(zip, top)) {
    throw FormatError(path, "a TorchScript archive (torch.jit.save), not a state dict; save the weights "
                            "with torch.save(model.state_dict(), path) instead");
  }

  const auto load_storage = [&](const std::string& key, DType dtype, int64_t numel) {
    const std::string name = top + "/data/" + key;
    const ZipArchive::Range range = zip.record(name);
    const auto needed = checked_mul(static_cast<uint64_t>(numel), element_size(dtype));
    if (!needed || *needed > range.size) {
      throw FormatError(path, "storage record '" + name + "' holds " + std::to_string(range.size) +
                                  " bytes, too few for " + std::to_string(numel) + " " + dtype_name(dtype) +
                                  " elements");
    }
    TensorData storage;
    storage.dtype = dtype;
    storage.shape = {numel};
    storage.storage = zip.bytes();
    storage.byte_offset = range.offset;
    return storage;
  };

  const std::string pickle_name = top + "/data.pkl";
  const ZipArchive::Range pickle_range = zip.record(pickle_name);
  const std::span<const unsigned char> pickle_bytes(zip.bytes()->data() + pickle_range.offset, pickle_range.size);
  return pickle::unpickle(pickle_bytes, path, pickle_name, load_storage);
}

}  // namespace vitscope::io
