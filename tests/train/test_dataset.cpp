// Image folders and .tar.gz archives decoded into the in-memory uint8 cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/io/checkpoint_file.h"
#include "core/io/dataset.h"
#include "core/io/image.h"
#include "support/test_env.h"

namespace fs = std::filesystem;
namespace io = vitscope::io;

namespace {

// root/<split>/<class>/<i>.png with a solid colour per class; plus a corrupt file and a text file.
void make_image_folder(const fs::path& root, const std::string& split, int per_class, int size) {
  const std::vector<std::string> classes = {"zebra", "ant", "mole"};  // sorted: ant, mole, zebra
  for (size_t c = 0; c < classes.size(); ++c) {
    const auto dir = root / split / classes[c];
    fs::create_directories(dir);
    for (int i = 0; i < per_class; ++i) {
      auto img = torch::zeros({3, size, size});
      img[c].fill_(0.2 + 0.2 * i);
      io::save_image(img, (dir / (std::to_string(i) + ".png")).string());
    }
  }
  std::ofstream(root / split / "ant" / "broken.png") << "not a png";
  std::ofstream(root / split / "ant" / "notes.txt") << "ignored";
}

}  // namespace

TEST(Dataset, ImageFolderClassesLabelsAndSkippedFiles) {
  const auto root = vitscope::test::temp_dir("dataset-folder");
  make_image_folder(root, "train", 3, 12);
  io::DatasetOptions o;
  o.image_size = 8;  // 12 px images are resized to 8 px
  auto d = io::load_image_folder(root.string(), o);  // split: "train" chosen automatically
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "mole", "zebra"}));
  ASSERT_EQ(d.size(), 9);
  EXPECT_EQ(d.images.sizes(), (std::vector<int64_t>{9, 3, 8, 8}));
  EXPECT_EQ(d.images.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(d.labels.equal(torch::tensor({0, 0, 0, 1, 1, 1, 2, 2, 2}, torch::kInt64)));
  // "ant" was the second folder, coloured in channel 1; its first image has value 0.2 → 51.
  EXPECT_EQ(d.images[0][1][4][4].item<uint8_t>(), 51);
  EXPECT_EQ(d.images[0][0][4][4].item<uint8_t>(), 0);
  ASSERT_EQ(d.skipped.size(), 1u);
  EXPECT_NE(d.skipped[0].find("broken.png"), std::string::npos);

  o.max_per_class = 2;
  EXPECT_EQ(io::load_image_folder(root.string(), o).size(), 6);

  // Nothing readable: the error says so and why, naming a file.
  const auto broken = root / "all-broken";
  fs::create_directories(broken / "a");
  std::ofstream(broken / "a" / "x.jpg") << "not a jpeg";
  try {
    io::load_image_folder(broken.string(), o);
    ADD_FAILURE() << "no error for a folder without a readable image";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no readable images (1 could not be read; the first: "), std::string::npos) << what;
    EXPECT_NE(what.find("x.jpg"), std::string::npos) << what;
  }
  fs::remove_all(root);
}

TEST(Dataset, TarGzArchiveWithSplitsAndLongNames) {
  if (!io::can_read_archives()) GTEST_SKIP() << "built without zlib";
  const auto root = vitscope::test::temp_dir("dataset-archive");
  make_image_folder(root / "tree", "train", 2, 8);
  make_image_folder(root / "tree", "test", 1, 8);
  // A path longer than tar's 100-byte name field (GNU 'L' or PAX record).
  const std::string long_class(120, 'q');
  fs::create_directories(root / "tree" / "test" / long_class);
  io::save_image(torch::ones({3, 8, 8}), (root / "tree" / "test" / long_class / "x.png").string());
  const auto archive = root / "data.tar.gz";
  const std::string cmd = "tar -czf '" + archive.string() + "' -C '" + (root / "tree").string() + "' train test";
  ASSERT_EQ(std::system(cmd.c_str()), 0);

  io::DatasetOptions o;
  o.image_size = 8;
  auto train = io::load_dataset(archive.string(), o);
  EXPECT_EQ(train.size(), 6);
  EXPECT_EQ(train.source, "data.tar.gz:train");
  EXPECT_EQ(train.skipped.size(), 1u);
  o.split = "test";
  auto test = io::load_dataset(archive.string(), o);
  EXPECT_EQ(test.size(), 4);
  EXPECT_NE(std::find(test.class_names.begin(), test.class_names.end(), long_class), test.class_names.end());

  // A truncated archive is an error naming the file, not a silent partial read.
  std::ifstream in(archive, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = root / "cut.tar.gz";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(io::load_dataset(cut.string(), o), io::FormatError);
  fs::remove_all(root);
}

TEST(Dataset, Cifar10ArchiveCounts) {
  const auto archive = vitscope::test::shared_dir() / "data" / "cifar10" / "cifar10-jpg.tar.gz";
  if (!fs::exists(archive)) GTEST_SKIP() << "CIFAR-10 archive not found at " << archive << " (../shared absent)";
  if (!io::can_read_archives()) GTEST_SKIP() << "built without zlib";
  io::DatasetOptions o;
  o.split = "train";
  auto train = io::load_dataset(archive.string(), o);
  o.split = "test";
  auto test = io::load_dataset(archive.string(), o);
  EXPECT_EQ(train.size(), 50000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_TRUE(train.skipped.empty());
  const std::vector<std::string> classes = {"airplane", "automobile", "bird", "cat", "deer",
                                            "dog",      "frog",       "horse", "ship", "truck"};
  EXPECT_EQ(train.class_names, classes);
  EXPECT_EQ(test.class_names, classes);
  EXPECT_TRUE(torch::bincount(train.labels).eq(5000).all().item<bool>());
  EXPECT_TRUE(torch::bincount(test.labels).eq(1000).all().item<bool>());
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{50000, 3, 32, 32}));
}
