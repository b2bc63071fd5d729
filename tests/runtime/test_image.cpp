// Images in: OpenCV decoding with EXIF orientation, grayscale, alpha, 16-bit; preprocessing.
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/io/checkpoint_file.h"
#include "core/io/image.h"
#include "support/test_env.h"

using namespace vitscope;
namespace fs = std::filesystem;

namespace {

fs::path write_mat(const fs::path& dir, const std::string& name, const cv::Mat& m) {
  const auto p = dir / name;
  EXPECT_TRUE(cv::imwrite(p.string(), m));
  return p;
}

TEST(Image, GrayscaleBecomesThreeEqualChannels) {
  const auto dir = test::temp_dir("image-gray");
  cv::Mat g(4, 6, CV_8UC1, cv::Scalar(51));
  auto t = io::load_image(write_mat(dir, "g.png", g).string());
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 4, 6}));
  EXPECT_NEAR(t.min().item<float>(), 0.2f, 1e-6);
  EXPECT_NEAR(t.max().item<float>(), 0.2f, 1e-6);
}

TEST(Image, ChannelsAreRgbAndAlphaIsCompositedOverWhite) {
  const auto dir = test::temp_dir("image-alpha");
  cv::Mat bgra(2, 2, CV_8UC4, cv::Scalar(255, 0, 0, 255));  // opaque blue (OpenCV is BGR)
  bgra.at<cv::Vec4b>(0, 0) = cv::Vec4b(0, 0, 0, 0);          // fully transparent black
  auto t = io::load_image(write_mat(dir, "a.png", bgra).string());
  EXPECT_FLOAT_EQ(t[2][1][1].item<float>(), 1.0f);  // blue channel of the opaque pixel
  EXPECT_FLOAT_EQ(t[0][1][1].item<float>(), 0.0f);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(t[c][0][0].item<float>(), 1.0f);  // white
}

TEST(Image, SixteenBitKeepsItsPrecision) {
  const auto dir = test::temp_dir("image-16");
  cv::Mat m(1, 2, CV_16UC3, cv::Scalar(0, 0, 0));
  m.at<cv::Vec3w>(0, 1) = cv::Vec3w(65535, 32768, 257);
  auto t = io::load_image(write_mat(dir, "d.png", m).string());
  EXPECT_NEAR(t[0][0][1].item<float>(), 257.0 / 65535, 1e-7);    // R came from the third BGR slot
  EXPECT_NEAR(t[1][0][1].item<float>(), 32768.0 / 65535, 1e-7);
  EXPECT_NEAR(t[2][0][1].item<float>(), 1.0, 1e-7);
}

// A JPEG with an EXIF APP1 segment whose Orientation tag is `orientation`.
std::vector<unsigned char> jpeg_with_orientation(const cv::Mat& bgr, uint16_t orientation) {
  std::vector<unsigned char> jpg;
  cv::imencode(".jpg", bgr, jpg, {cv::IMWRITE_JPEG_QUALITY, 100});
  const unsigned char tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0,                 // little-endian header, IFD at 8
                                1, 0,                                         // one entry
                                0x12, 0x01, 3, 0, 1, 0, 0, 0,                 // tag 0x0112, SHORT, count 1
                                static_cast<unsigned char>(orientation), 0, 0, 0,
                                0, 0, 0, 0};                                  // no next IFD
  std::vector<unsigned char> app1 = {'E', 'x', 'i', 'f', 0, 0};
  app1.insert(app1.end(), std::begin(tiff), std::end(tiff));
  const size_t len = app1.size() + 2;
  std::vector<unsigned char> out;
  for (unsigned char byte : {0xFF, 0xD8, 0xFF, 0xE1}) out.push_back(byte);  // SOI, APP1 marker
  out.push_back(static_cast<unsigned char>(len >> 8));
  out.push_back(static_cast<unsigned char>(len & 0xFF));
  out.insert(out.end(), app1.begin(), app1.end());
  out.insert(out.end(), jpg.begin() + 2, jpg.end());  // the original stream after its SOI
  return out;
}

TEST(Image, ExifOrientationIsApplied) {
  // A 16x32 (h x w) image, white on its left half: rotated 90° clockwise (orientation 6) it is
  // 32x16 with the white half on top.
  cv::Mat bgr(16, 32, CV_8UC3, cv::Scalar(0, 0, 0));
  bgr(cv::Rect(0, 0, 16, 16)).setTo(cv::Scalar(255, 255, 255));
  auto upright = io::decode_image(jpeg_with_orientation(bgr, 1), "upright.jpg");
  EXPECT_EQ(upright.sizes(), (std::vector<int64_t>{3, 16, 32}));
  auto rotated = io::decode_image(jpeg_with_orientation(bgr, 6), "rotated.jpg");
  ASSERT_EQ(rotated.sizes(), (std::vector<int64_t>{3, 32, 16}));
  EXPECT_GT(rotated[0][4][8].item<float>(), 0.9f);   // top: white
  EXPECT_LT(rotated[0][28][8].item<float>(), 0.1f);  // bottom: black
}

TEST(Image, CorruptAndNonImageFilesNameTheFile) {
  const auto dir = test::temp_dir("image-bad");
  const auto text = dir / "notes.png";
  std::ofstream(text) << "not an image";
  try {
    io::load_image(text.string());
    FAIL();
  } catch (const io::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("notes.png"), std::string::npos);
  }
  cv::Mat m(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<unsigned char> png;
  cv::imencode(".png", m, png);
  png.resize(png.size() / 2);
  EXPECT_THROW(io::decode_image(png, "half.png"), io::FormatError);
  EXPECT_THROW(io::load_image((dir / "missing.png").string()), io::FormatError);
}

TEST(Image, PreprocessResizesCropsAndNormalises) {
  auto img = torch::rand({3, 40, 80});
  model::Preprocess p;  // shorter side to size/0.875, centre crop
  auto crop = io::resize_for_model(img, 32, p);
  EXPECT_EQ(crop.sizes(), (std::vector<int64_t>{3, 32, 32}));
  p.mode = model::Preprocess::Mode::Resize;
  EXPECT_EQ(io::resize_for_model(img, 16, p).sizes(), (std::vector<int64_t>{3, 16, 16}));
  auto back = io::denormalize(io::normalize(crop, p), p);
  EXPECT_TRUE(torch::allclose(back, crop, 1e-5, 1e-6));
  auto n = io::normalize(torch::full({3, 1, 1}, 0.485f), p);
  EXPECT_NEAR(n[0][0][0].item<float>(), 0.0f, 1e-6);
}

}  // namespace
