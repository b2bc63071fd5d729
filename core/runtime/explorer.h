#pragma once
// The engine behind the desktop app, as plain data: no torch and no Qt in this header, so the
// ui/ layer stays free of tensor code (and of LibTorch's compile cost).
//
//   Explorer::load_model / add_image     — models and images held by id
//   Explorer::analyze(model, image)      — one forward with everything captured, then the
//                                          paper's measurements; cached per (model, image)
//   ImageAnalysis::attention_map(…) etc. — cheap views of a cached analysis (layer / head /
//                                          query changes redraw from these within a frame)
//   Explorer::reconstruct(model, image, mask)
//   Explorer::probe_image / train_head / measure_shape_bias — shape-vs-texture probes
//                                          (docs/PROBES.md, core/runtime/probes.h)
//
// All Explorer methods are thread-safe and synchronous; the UI calls the heavy ones on worker
// threads and passes a CancelToken.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vitscope::runtime {

// Set by the caller to ask long work to stop; checked between steps.
struct CancelToken {
  std::atomic<bool> cancelled{false};
  void cancel() { cancelled = true; }
  bool is_cancelled() const { return cancelled.load(); }
};

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

struct FloatGrid {  // row-major rows × cols
  int rows = 0, cols = 0;
  std::vector<float> values;
  float at(int r, int c) const { return values[static_cast<size_t>(r) * cols + c]; }
};

struct RgbImage {  // 8-bit RGB, row-major, 3 bytes per pixel
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

struct Query {  // which token asks: a patch (row, col) or the CLS token
  bool cls = false;
  int row = 0, col = 0;
  static Query patch(int r, int c) { return {false, r, c}; }
  static Query cls_token() { return {true, 0, 0}; }
};

struct ModelInfo {
  std::string id;            // stable handle
  std::string name;          // display name (renamable)
  std::string path;          // file it came from
  std::string family;        // detected family
  std::string objective;     // CL / MIM / hybrid / supervised / unknown
  std::string objective_label;  // "hybrid λ=0.2"
  std::string method;           // pre-training method in words: "MoCo v3", "MAE", "SimMIM + MoCo v3", "DINO"…; "" when unknown
  std::optional<double> lambda;
  int image_size = 0, patch_size = 0, grid = 0, depth = 0, heads = 0, embed_dim = 0;
  int num_prefix_tokens = 1;
  int64_t parameters = 0;
  int num_classes = 0;                   // classifier outputs; 0 = no classifier head
  std::vector<std::string> class_names;  // its labels, when known
  bool can_reconstruct = false;
  bool has_mae_decoder = false;
  std::string reconstruction_kind;  // "MAE", "SimMIM" or ""
  std::string load_report;          // multi-line text
  std::string card_json;            // the model card
  std::string description;
};

// Values per (block, head) with per-layer means (heads averaged last, paper-analyses.md §5).
struct LayerHeadValues {
  int blocks = 0, heads = 0;
  std::vector<double> values;     // blocks × heads
  std::vector<double> per_layer;  // blocks
  std::string definition;         // what was measured, with the spec section
};

class ImageAnalysis {
 public:
  struct Impl;
  explicit ImageAnalysis(std::shared_ptr<const Impl> impl);

  const ModelInfo& model() const;
  const RgbImage& input() const;      // the image as the model saw it (after resize / crop)
  double forward_ms() const;          // forward + measurements, for the performance record
  int depth() const;
  int heads() const;
  int grid() const;
  int num_taps() const;               // 2·depth + 1

  // §3.1: the query's attention over the patch grid (prefix dropped, rows renormalised);
  // head -1 = mean over heads of the per-head maps.
  FloatGrid attention_map(int block, int head, const Query& q) const;
  // The same map for every head of the block at once (index = head), for the heads grid.
  std::vector<FloatGrid> head_attention_maps(int block, const Query& q) const;
  // Attention rollout (Abnar & Zuidema) from block 0 through `last_block`, CLS or a patch query.
  FloatGrid rollout_map(const Query& q, int last_block = -1) const;
  LayerHeadValues attention_distance() const;  // §3.2, pixels of the model's input
  LayerHeadValues nmi() const;                 // §3.3
  LayerHeadValues entropy() const;             // nats
  // §3.6: mean log-amplitude spectrum of a tap's feature map (DC in the centre) and the
  // ΔLog-amplitude curve over all taps (index = tap; depth k is tap 2k).
  FloatGrid spectrum(int tap) const;
  std::vector<double> delta_log_amplitude() const;
  // §3.6 step 6: the tap's relative log amplitude along the spectrum's diagonal, from DC (0)
  // outwards; entry k is at diagonal_frequency_pi(k, grid), the last one is the tap's ΔLog amplitude.
  std::vector<double> relative_log_amplitude(int tap) const;
  // §3.5: PCA of the patch tokens as an RGB picture; token singular values; summaries per tap.
  RgbImage pca_rgb(int tap) const;
  std::vector<double> singular_values(int tap) const;  // normalised by the largest
  std::vector<double> effective_rank() const;          // per tap
  std::vector<double> token_cosine_similarity() const; // per tap
  std::vector<std::string> warnings() const;           // e.g. NaN in activations

 private:
  std::shared_ptr<const Impl> impl_;
};

struct ReconstructionView {
  RgbImage original, masked, prediction, composite;
  FloatGrid error;            // per pixel mean |prediction − original|
  std::vector<uint8_t> mask;  // the patch mask used (grid × grid, 1 = masked)
  double masked_mse = 0;
  bool borrowed_patch_statistics = false;
  std::string kind;           // "MAE" or "SimMIM"
};

// A probe view of an image (docs/PROBES.md): the picture and which cue it keeps.
struct ProbeView {
  std::string name;         // "patch-shuffle-4", "silhouette", …
  std::string keeps;        // "shape" or "texture"
  std::string description;
  RgbImage image;           // at the probe size (224 × 224)
};

// The label-free and frequency probes of one model on one image.
struct ImageProbe {
  std::vector<std::string> views, keeps;          // as probe_views
  std::vector<std::vector<double>> similarity;    // per view, per block 1..depth: s_l(x, v)
  std::vector<double> index_per_block;            // shape-keeping minus texture-keeping mean
  double shape_reliance_index = 0;                // mean over blocks
  std::vector<double> cutoffs;                    // fractions of Nyquist
  std::vector<double> low_pass, high_pass;        // similarity at the last block per cut-off
  std::string definition;                         // the formulas, one per line
};

struct ShapeBiasCategory {
  std::string category;
  int64_t trials = 0, shape_hits = 0, texture_hits = 0;
  std::optional<double> shape_bias;
};

// Cue-conflict shape bias of one model (paper-analyses.md §3.8).
struct ShapeBiasReport {
  std::string classifier, mapping;  // "10-way head: …", the mapping file
  int64_t trials = 0, shape_hits = 0, texture_hits = 0, excluded_same_class = 0, excluded_unmapped = 0;
  std::optional<double> shape_bias;
  double shape_hit_rate = 0, texture_hit_rate = 0;
  std::vector<ShapeBiasCategory> per_category;  // by shape category, alphabetical
  std::optional<double> silhouette_accuracy, edge_accuracy;
  std::string json;  // the whole measurement, with definitions
};

struct HeadTrainingReport {
  double train_top1 = 0, test_top1 = 0;
  int64_t train_images = 0, test_images = 0;
  std::string test_data;
  std::vector<std::string> skipped;  // images that could not be read ("file: why"), left out
};

// (stage, done, total) of long probe work; total 0 when unknown.
using ProgressFn = std::function<void(const std::string&, int64_t, int64_t)>;

struct LoadRequest {
  std::optional<int> num_heads;
  std::optional<std::string> family;
};

class Explorer {
 public:
  Explorer();
  ~Explorer();
  Explorer(const Explorer&) = delete;
  Explorer& operator=(const Explorer&) = delete;

  // "cpu", "cuda", "auto". Returns a warning when the request could not be honoured.
  std::string set_device(const std::string& request);
  std::string device() const;                 // e.g. "cpu", "cuda:0"
  std::string device_description() const;
  std::vector<std::string> available_devices() const;
  std::string memory_summary() const;         // process RSS (and CUDA memory when in use)
  // Threads one forward may use on the CPU (LibTorch's and the BLAS library's, process-wide:
  // runtime::set_cpu_kernel_threads). A caller that runs several forwards at once (the GUI: one
  // per model) divides the cores among them; set it before the first forward.
  void set_cpu_threads(int threads);

  // Throws std::runtime_error naming the file and the problem.
  ModelInfo load_model(const std::string& path, const LoadRequest& request = {});
  void remove_model(const std::string& model_id);
  void rename_model(const std::string& model_id, const std::string& name);
  std::vector<ModelInfo> models() const;
  ModelInfo model(const std::string& model_id) const;

  // Decodes once; returns the image id. Throws std::runtime_error naming the file.
  std::string add_image(const std::string& path);
  std::string add_image_rgb(const RgbImage& image, const std::string& name);
  void remove_image(const std::string& image_id);
  std::string image_name(const std::string& image_id) const;
  // The decoded image (orientation applied) scaled so its longer side is at most max_side.
  RgbImage image_preview(const std::string& image_id, int max_side) const;

  // One forward with everything captured + all measurements; cached per (model, image).
  ImageAnalysis analyze(const std::string& model_id, const std::string& image_id,
                        const CancelToken* cancel = nullptr);
  bool has_cached_analysis(const std::string& model_id, const std::string& image_id) const;

  // A random patch mask in the model's own style (MAE: per-patch; SimMIM: 2×2 blocks).
  std::vector<uint8_t> random_mask(const std::string& model_id, double ratio, uint64_t seed) const;
  ReconstructionView reconstruct(const std::string& model_id, const std::string& image_id,
                                 const std::vector<uint8_t>& mask);

  // Shape-vs-texture probes (docs/PROBES.md). The views of an image are made once and cached;
  // probe_view_kinds() lists them (names, cues, descriptions) without an image.
  static std::vector<ProbeView> probe_view_kinds();
  std::vector<ProbeView> probe_views(const std::string& image_id);
  ImageProbe probe_image(const std::string& model_id, const std::string& image_id, const CancelToken* cancel = nullptr);
  // Trains a linear classifier on the model's frozen features (labelled folder or .tar.gz, at most
  // max_per_class training and as many test images per class, 0 = all) and installs it: afterwards
  // the model has a classifier (model(id).num_classes). The model keeps serving analyses meanwhile.
  HeadTrainingReport train_head(const std::string& model_id, const std::string& data_path, int max_per_class,
                                const ProgressFn& progress = {}, const CancelToken* cancel = nullptr);
  // stimuli_dir: Geirhos et al.'s cue-conflict data (root or stimuli/cue-conflict); mapping_file
  // "" = automatic (ImageNet-16 for 1000-way heads, resources/probes for known heads).
  ShapeBiasReport measure_shape_bias(const std::string& model_id, const std::string& stimuli_dir,
                                     const std::string& mapping_file = "", const ProgressFn& progress = {},
                                     const CancelToken* cancel = nullptr);
  // A cue-conflict probe image of one's own: this image's shape (silhouette, or outline) with the
  // texture of the image file (tiled, or blended in by OpenCV texture transfer), 224 × 224.
  RgbImage make_cue_conflict(const std::string& shape_image_id, const std::string& texture_path, bool outline,
                             bool transfer);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// §3.6 step 6: the frequency of entry k of a relative-log-amplitude diagonal on a grid × grid
// feature map, (k, k)·2π/grid, in units of π per axis (the x axis of the paper's Fig. 9, right).
inline double diagonal_frequency_pi(int64_t k, int64_t grid) {
  return 2.0 * static_cast<double>(k) / static_cast<double>(grid);
}

}  // namespace vitscope::runtime
