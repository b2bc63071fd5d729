#pragma once
// Loading any supported checkpoint into a Model (checkpoints.md §6): read the container (io),
// detect the family from the keys, map names to ViTScope's canonical ones, infer the geometry,
// build the model and copy the weights — with a report that lists everything that happened.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/io/checkpoint_file.h"
#include "core/model/model.h"

namespace vitscope::model {

struct LoadOptions {
  std::optional<Family> family;       // override detection
  std::optional<int> num_heads;       // cannot be read from weights (checkpoints.md §0 item 3)
  std::optional<double> layer_norm_eps;
  std::optional<int> image_size;      // resample position tables to this input size
  std::optional<bool> mae_norm_pixel_target;
  std::string branch = "teacher";     // DINO / iBOT full checkpoints: teacher or student
};

struct LoadReport {
  std::string path;
  std::string container;              // safetensors, torch zip, HF folder
  std::string family;                 // detected family name
  std::string detection_rule;         // why (checkpoints.md §6.2 rule)
  std::string unwrapped_from;
  int loaded = 0;                     // tensors copied into the model
  std::vector<std::string> dtype_conversions;   // "142 F16 tensors converted to F32"
  std::vector<std::string> adapted;   // "qkv fused from q/k/v (12 blocks)", …
  std::map<std::string, int> known_extras;      // "MoCo momentum encoder" -> 150 tensors
  std::vector<std::string> unexpected;          // unknown keys, each listed
  std::vector<std::string> missing_optional;    // e.g. classifier head absent
  std::vector<std::string> assumptions;         // heads, eps, mean/std, readout, with their source
  nlohmann::json metadata;            // non-tensor values of the file (epoch, arch, args…)
  std::string text() const;           // human-readable, multi-line
  nlohmann::json to_json() const;
};

struct LoadedModel {
  Model model;
  LoadReport report;
};

// Throws io::FormatError (file problems) or LoadError (a file we read but cannot use: unknown
// layout, shape mismatch, missing backbone weights), always naming the file.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

LoadedModel load_model(const std::string& path, const LoadOptions& options = {});
LoadedModel load_model(const io::RawCheckpoint& raw, const LoadOptions& options = {});

// Family detection alone (checkpoints.md §6.2), for reports and tests.
struct FamilyDetection {
  Family family;
  std::string rule;
};
FamilyDetection detect_family(const io::RawCheckpoint& raw);

}  // namespace vitscope::model
