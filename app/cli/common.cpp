#include "app/cli/common.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

namespace vitscope::cli {

const char* const kLoadOptionsHelp =
    "model options (for checkpoints whose weights cannot say):\n"
    "  --heads N          attention heads (MoCo v3 ViT-S uses 12, DINO ViT-S 6)\n"
    "  --family NAME      skip detection: timm mocov3 dino ibot mae simmim hf-vit hf-vitmae hf-dinov2 dinov2 beit\n"
    "  --eps X            LayerNorm epsilon\n"
    "  --image-size N     resample position tables to N x N inputs\n"
    "  --branch NAME      teacher (default) or student, for DINO / iBOT full checkpoints\n"
    "  --norm-pix         the MAE decoder predicts per-patch normalised pixels\n";

model::LoadOptions load_options_from(const Args& args) {
  model::LoadOptions o;
  if (auto v = args.find("heads")) o.num_heads = args.get_int("heads", 0);
  if (auto v = args.find("family")) o.family = model::family_from_name(*v);
  if (auto v = args.find("eps")) o.layer_norm_eps = args.get_double("eps", 1e-6);
  if (auto v = args.find("image-size")) o.image_size = args.get_int("image-size", 224);
  o.branch = args.get("branch", "teacher");
  if (args.flag("norm-pix")) o.mae_norm_pixel_target = true;
  return o;
}

namespace {
std::optional<runtime::DeviceWarmUp>& device_warm_up() {
  static std::optional<runtime::DeviceWarmUp> warm_up;
  return warm_up;
}
}  // namespace

runtime::DeviceChoice device_from(const Args& args) {
  auto choice = runtime::choose_device(args.get("device", "auto"));
  if (!choice.warning.empty()) std::cerr << "warning: " << choice.warning << "\n";
  if (!device_warm_up()) device_warm_up().emplace(choice.device);
  return choice;
}

void finish_device_warm_up() { device_warm_up().reset(); }

model::LoadedModel load_for_cli(const std::string& path, const Args& args, const torch::Device& device) {
  auto loaded = model::load_model(path, load_options_from(args));
  loaded.model.to(device);
  return loaded;
}

std::filesystem::path make_output_dir(const std::string& dir) {
  std::filesystem::path p(dir);
  if (std::filesystem::exists(p) && !std::filesystem::is_directory(p))
    throw std::runtime_error(dir + ": exists and is not a directory");
  std::filesystem::create_directories(p);
  return p;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) throw std::runtime_error(path.string() + ": cannot write");
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

void report_skipped(const std::vector<std::string>& skipped) {
  for (const auto& s : skipped) std::fprintf(stderr, "skipped: %s\n", s.c_str());
}

}  // namespace vitscope::cli
