#pragma once
// Labelled image sets for pre-training and evaluation: an ImageFolder directory
// (root/<class>/<image>) or a .tar.gz archive with the same layout (CIFAR-10:
// train/<class>/*.jpg, test/<class>/*.jpg). Every image is decoded once, resized to a square
// and kept as one uint8 tensor, so a training step never touches the disk.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace vitscope::io {

struct DatasetOptions {
  int image_size = 32;  // every image becomes (3, image_size, image_size): shorter side resized, centre crop
  // Top-level sub-folder that holds the class folders ("train", "test"). Empty: "train" when the
  // source has one, else the root's own sub-folders are the classes.
  std::string split;
  int max_per_class = 0;  // 0 = all; N = the first N images of each class in sorted order
  int num_threads = 0;    // decoding threads; 0 = all hardware threads
};

struct ImageDataset {
  torch::Tensor images;                  // (N, 3, S, S) uint8 RGB
  torch::Tensor labels;                  // (N) int64, index into class_names
  std::vector<std::string> class_names;  // sorted sub-folder names (torchvision ImageFolder order)
  std::vector<std::string> skipped;      // "file: reason" for every image that could not be decoded
  std::string source;                    // what was read, e.g. "cifar10-jpg.tar.gz:train"

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  int image_size() const { return images.defined() ? static_cast<int>(images.size(2)) : 0; }
  int num_classes() const { return static_cast<int>(class_names.size()); }
  ImageDataset to(const torch::Device& device) const;  // images and labels moved, lists copied
};

// The one class name of an unlabeled folder (images directly in the folder, no class folders).
inline constexpr const char* kUnlabeledClass = "(unlabeled)";

// Directory in ImageFolder layout, or a folder of images without class folders (one class,
// kUnlabeledClass). Files without an image extension are ignored; files that do not decode are
// listed in `skipped`. Throws std::runtime_error when no image is found.
ImageDataset load_image_folder(const std::string& root, const DatasetOptions& options = {});
// .tar.gz archive in ImageFolder layout, read with zlib and a bounds-checked tar parser.
// Throws FormatError naming the archive when it is truncated or malformed.
ImageDataset load_image_archive(const std::string& path, const DatasetOptions& options = {});
// Either of the two, by what `path` is.
ImageDataset load_dataset(const std::string& path, const DatasetOptions& options = {});

// False when the library was built without zlib (then only folders can be read).
bool can_read_archives();

}  // namespace vitscope::io
