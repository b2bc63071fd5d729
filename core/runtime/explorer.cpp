#include "core/runtime/explorer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <unistd.h>

#include "core/analysis/attention_distance.h"
#include "core/analysis/attention_entropy.h"
#include "core/analysis/attention_maps.h"
#include "core/analysis/cue_conflict_maker.h"
#include "core/analysis/fourier.h"
#include "core/analysis/nmi.h"
#include "core/analysis/representation.h"
#include "core/analysis/rollout.h"
#include "core/io/image.h"
#include "core/model/loader.h"
#include "core/model/masking.h"
#include "core/model/reconstruction.h"
#include "core/runtime/device.h"
#include "core/runtime/plain_data.h"
#include "core/runtime/probes.h"

namespace vitscope::runtime {

namespace {

LayerHeadValues explorer_layer_head_values(const analysis::LayerHeadTable& table, const std::string& definition) {
  LayerHeadValues v;
  v.blocks = static_cast<int>(table.per_head.size(0));
  v.heads = static_cast<int>(table.per_head.size(1));
  v.values = explorer_doubles(table.per_head);
  v.per_layer = explorer_doubles(table.per_layer);
  v.definition = definition;
  return v;
}

analysis::AttentionQuery explorer_query(const Query& q) {
  return q.cls ? analysis::AttentionQuery::cls() : analysis::AttentionQuery::patch(q.row, q.col);
}

// The pre-training method: from our own card's recipe, else from the checkpoint family.
std::string pretraining_method(const model::ModelCard& card) {
  const auto& training = card.training;
  if (training.is_object() && training.contains("objective") && training["objective"].is_string()) {
    const auto o = training["objective"].get<std::string>();
    if (o == "moco") return "MoCo v3";
    if (o == "mae") return "MAE";
    if (o == "simmim") return "SimMIM";
    if (o == "hybrid") return "SimMIM + MoCo v3";
  }
  switch (card.family) {
    case model::Family::MocoV3: return "MoCo v3";
    case model::Family::Dino: return "DINO";
    case model::Family::Ibot: return "iBOT";
    case model::Family::Mae:
    case model::Family::HfVitMae: return "MAE";
    case model::Family::SimMim: return "SimMIM";
    case model::Family::Dinov2:
    case model::Family::HfDinov2: return "DINOv2";
    case model::Family::Beit: return "BEiT";
    default: return "";
  }
}

ModelInfo describe_model(const std::string& id, const model::LoadedModel& loaded) {
  const auto& m = loaded.model;
  const auto& c = m.config();
  ModelInfo info;
  info.id = id;
  info.name = m.card.name;
  info.path = m.card.source_path;
  info.family = model::family_name(m.card.family);
  info.objective = model::objective_name(m.card.objective);
  info.objective_label = m.card.objective_label();
  info.lambda = m.card.lambda;
  info.method = pretraining_method(m.card);
  info.image_size = c.image_size;
  info.patch_size = c.patch_size;
  info.grid = c.grid();
  info.depth = c.depth;
  info.heads = c.num_heads;
  info.embed_dim = c.embed_dim;
  info.num_prefix_tokens = c.num_prefix_tokens();
  info.parameters = m.num_parameters();
  info.num_classes = c.num_classes;
  info.class_names = m.card.class_names;
  info.can_reconstruct = m.can_reconstruct();
  info.has_mae_decoder = static_cast<bool>(m.mae_decoder);
  info.reconstruction_kind = m.mae_decoder ? "MAE" : (m.simmim_head ? "SimMIM" : "");
  info.load_report = loaded.report.text();
  info.card_json = model::to_json(m.card).dump(2);
  info.description = m.card.description;
  return info;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct ImageAnalysis::Impl {
  ModelInfo model;
  RgbImage input;
  double ms = 0;
  model::Capture capture;  // batch of one, CPU, float32
  analysis::LayerHeadTable distance, nmi, entropy;
  analysis::FourierAnalysis fourier;
  analysis::TokenGeometry geometry;
  std::vector<std::string> warnings;
  size_t bytes = 0;
};

ImageAnalysis::ImageAnalysis(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
const ModelInfo& ImageAnalysis::model() const { return impl_->model; }
const RgbImage& ImageAnalysis::input() const { return impl_->input; }
double ImageAnalysis::forward_ms() const { return impl_->ms; }
int ImageAnalysis::depth() const { return impl_->capture.depth(); }
int ImageAnalysis::heads() const { return impl_->model.heads; }
int ImageAnalysis::grid() const { return impl_->capture.grid_h; }
int ImageAnalysis::num_taps() const { return static_cast<int>(impl_->capture.taps.size()); }
std::vector<std::string> ImageAnalysis::warnings() const { return impl_->warnings; }

FloatGrid ImageAnalysis::attention_map(int block, int head, const Query& q) const {
  return explorer_grid(analysis::attention_map(impl_->capture, block, 0, head, explorer_query(q)));
}

std::vector<FloatGrid> ImageAnalysis::head_attention_maps(int block, const Query& q) const {
  auto maps = analysis::head_attention_maps(impl_->capture, block, 0, explorer_query(q));
  std::vector<FloatGrid> out;
  for (int64_t h = 0; h < maps.size(0); ++h) out.push_back(explorer_grid(maps[h]));
  return out;
}

FloatGrid ImageAnalysis::rollout_map(const Query& q, int last_block) const {
  const auto& c = impl_->capture;
  auto r = analysis::attention_rollout(c, {}, 0, last_block);
  return explorer_grid(analysis::rollout_map(r.matrix, c.num_prefix_tokens, c.grid_h, c.grid_w, explorer_query(q))[0]);
}

LayerHeadValues ImageAnalysis::attention_distance() const {
  return explorer_layer_head_values(impl_->distance, "mean attention distance in pixels (paper-analyses.md §3.2)");
}
LayerHeadValues ImageAnalysis::nmi() const {
  return explorer_layer_head_values(impl_->nmi, "normalised mutual information of queries and keys (§3.3)");
}
LayerHeadValues ImageAnalysis::entropy() const {
  return explorer_layer_head_values(impl_->entropy, "mean entropy of a query's attention, nats");
}

namespace {
// Row of a per-tap Fourier result for `tap`.
int64_t fourier_row(const analysis::FourierAnalysis& f, int tap) {
  for (size_t i = 0; i < f.taps.size(); ++i)
    if (f.taps[i] == tap) return static_cast<int64_t>(i);
  throw std::out_of_range("tap " + std::to_string(tap) + " has no spectrum");
}
}  // namespace

FloatGrid ImageAnalysis::spectrum(int tap) const {
  return explorer_grid(impl_->fourier.spectrum[fourier_row(impl_->fourier, tap)]);
}

std::vector<double> ImageAnalysis::relative_log_amplitude(int tap) const {
  return explorer_doubles(impl_->fourier.diagonal[fourier_row(impl_->fourier, tap)]);
}

std::vector<double> ImageAnalysis::delta_log_amplitude() const { return explorer_doubles(impl_->fourier.delta_log_amplitude); }

RgbImage ImageAnalysis::pca_rgb(int tap) const {
  const auto& c = impl_->capture;
  return explorer_rgb(analysis::pca_rgb(c.patch_tokens(tap), c.grid_h, c.grid_w)[0], /*channels_last=*/true);
}

std::vector<double> ImageAnalysis::singular_values(int tap) const {
  auto s = impl_->geometry.singular_values[0][tap];
  return explorer_doubles(s / s[0].clamp_min(1e-12));
}
std::vector<double> ImageAnalysis::effective_rank() const { return explorer_doubles(impl_->geometry.effective_rank[0]); }
std::vector<double> ImageAnalysis::token_cosine_similarity() const {
  return explorer_doubles(impl_->geometry.mean_cosine_similarity[0]);
}

// ---------------------------------------------------------------------------------------------

struct Explorer::State {
  // Shared so that a forward running on a worker keeps its model alive while the UI removes
  // it; forward_mutex serialises forwards and device moves of one model, and guards `device`
  // (where the weights are now), so no caller waits on the Explorer-wide mutex for either.
  struct LoadedEntry {
    model::LoadedModel loaded;
    ModelInfo info;
    std::mutex forward_mutex;
    torch::Device device{torch::kCPU};
  };
  struct ImageEntry {
    std::string name;
    torch::Tensor pixels;  // (3, H, W) float [0, 1], CPU
  };
  // The probe image (runtime::probe_image) and its views, made once per image.
  struct ProbeViewsEntry {
    torch::Tensor original;
    analysis::ProbeViews views;
    std::vector<std::string> descriptions;
  };
  mutable std::mutex mutex;
  torch::Device device{torch::kCPU};
  std::map<std::string, std::shared_ptr<LoadedEntry>> models;
  std::map<std::string, ImageEntry> images;
  std::map<std::string, std::shared_ptr<const ProbeViewsEntry>> probe_views;
  int next_id = 1;
  // LRU of analyses, bounded by bytes so ViT-B captures cannot fill the memory.
  std::list<std::pair<std::string, std::shared_ptr<const ImageAnalysis::Impl>>> cache;
  size_t cache_bytes = 0;
  static constexpr size_t kCacheLimit = size_t(1) << 30;

  static std::string key(const std::string& m, const std::string& i) { return m + "|" + i; }
  std::shared_ptr<LoadedEntry> model_entry(const std::string& id) const {
    auto it = models.find(id);
    if (it == models.end()) throw std::runtime_error("no model with id " + id);
    return it->second;
  }
  const ImageEntry& image_entry(const std::string& id) const {
    auto it = images.find(id);
    if (it == images.end()) throw std::runtime_error("no image with id " + id);
    return it->second;
  }
  // The probe views of an image, made on first use (outside the lock: GrabCut and stylisation
  // take a moment).
  std::shared_ptr<const ProbeViewsEntry> probe_views_of(const std::string& image_id) {
    torch::Tensor pixels;
    {
      std::lock_guard lock(mutex);
      if (auto it = probe_views.find(image_id); it != probe_views.end()) return it->second;
      pixels = image_entry(image_id).pixels;
    }
    auto entry = std::make_shared<ProbeViewsEntry>();
    entry->original = runtime::probe_image(pixels);
    const auto transforms = analysis::standard_probe_transforms();
    entry->views = analysis::probe_views(entry->original, transforms);
    for (const auto& t : transforms) entry->descriptions.push_back(t.description);
    std::lock_guard lock(mutex);
    if (images.count(image_id)) probe_views[image_id] = entry;
    return entry;
  }
  void drop_cache_where(const std::function<bool(const std::string&)>& pred) {
    for (auto it = cache.begin(); it != cache.end();) {
      if (pred(it->first)) {
        cache_bytes -= it->second->bytes;
        it = cache.erase(it);
      } else {
        ++it;
      }
    }
  }
};

Explorer::Explorer() : state_(std::make_unique<State>()) {
  tune_process();  // the GUI's forwards need the same allocator settings as the CLI's
}
Explorer::~Explorer() = default;

std::string Explorer::set_device(const std::string& request) {
  auto choice = choose_device(request);
  std::vector<std::shared_ptr<State::LoadedEntry>> entries;
  {
    std::lock_guard lock(state_->mutex);
    if (choice.device == state_->device) return choice.warning;
    state_->device = choice.device;
    for (auto& [id, e] : state_->models) entries.push_back(e);
    state_->drop_cache_where([](const std::string&) { return true; });
  }
  // Model by model, each after its running forward; the other methods stay responsive.
  for (auto& e : entries) {
    std::lock_guard fwd(e->forward_mutex);
    e->loaded.model.to(choice.device);
    e->device = choice.device;
  }
  return choice.warning;
}

std::string Explorer::device() const {
  std::lock_guard lock(state_->mutex);
  return state_->device.str();
}

std::string Explorer::device_description() const {
  std::lock_guard lock(state_->mutex);
  return describe(state_->device);
}

std::vector<std::string> Explorer::available_devices() const { return runtime::available_devices(); }

void Explorer::set_cpu_threads(int threads) { runtime::set_cpu_kernel_threads(threads); }

std::string Explorer::memory_summary() const {
  long pages = 0, resident = 0;
  std::ifstream statm("/proc/self/statm");
  statm >> pages >> resident;
  const double mib = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f MiB resident", mib);
  return buf;
}

ModelInfo Explorer::load_model(const std::string& path, const LoadRequest& request) {
  model::LoadOptions opt;
  opt.num_heads = request.num_heads;
  if (request.family) opt.family = model::family_from_name(*request.family);
  auto loaded = model::load_model(path, opt);  // outside the lock: may take seconds
  auto entry = std::make_shared<State::LoadedEntry>();
  {
    std::lock_guard lock(state_->mutex);
    entry->device = state_->device;
  }
  loaded.model.to(entry->device);
  std::lock_guard lock(state_->mutex);
  if (entry->device != state_->device) {  // the device changed meanwhile (rare)
    entry->device = state_->device;
    loaded.model.to(entry->device);
  }
  const std::string id = "m" + std::to_string(state_->next_id++);
  if (loaded.model.card.name.empty()) loaded.model.card.name = path;
  auto info = describe_model(id, loaded);
  entry->loaded = std::move(loaded);
  entry->info = info;
  state_->models.emplace(id, std::move(entry));
  return info;
}

void Explorer::remove_model(const std::string& id) {
  std::lock_guard lock(state_->mutex);
  state_->models.erase(id);
  state_->drop_cache_where([&](const std::string& k) { return k.rfind(id + "|", 0) == 0; });
}

void Explorer::rename_model(const std::string& id, const std::string& name) {
  std::lock_guard lock(state_->mutex);
  auto e = state_->model_entry(id);
  e->info.name = name;
  e->loaded.model.card.name = name;
}

std::vector<ModelInfo> Explorer::models() const {
  std::lock_guard lock(state_->mutex);
  std::vector<ModelInfo> out;
  for (const auto& [id, e] : state_->models) out.push_back(e->info);
  return out;
}

ModelInfo Explorer::model(const std::string& id) const {
  std::lock_guard lock(state_->mutex);
  return state_->model_entry(id)->info;
}

std::string Explorer::add_image(const std::string& path) {
  torch::Tensor pixels;
  try {
    pixels = io::load_image(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(e.what());
  }
  std::lock_guard lock(state_->mutex);
  const std::string id = "i" + std::to_string(state_->next_id++);
  state_->images[id] = {path, pixels};
  return id;
}

std::string Explorer::add_image_rgb(const RgbImage& image, const std::string& name) {
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != size_t(image.width) * image.height * 3)
    throw std::runtime_error(name + ": empty or inconsistent image");
  auto t = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {image.height, image.width, 3}, torch::kUInt8)
               .permute({2, 0, 1})
               .to(torch::kFloat32)
               .div(255.0)
               .contiguous();
  std::lock_guard lock(state_->mutex);
  const std::string id = "i" + std::to_string(state_->next_id++);
  state_->images[id] = {name, t};
  return id;
}

void Explorer::remove_image(const std::string& id) {
  std::lock_guard lock(state_->mutex);
  state_->images.erase(id);
  state_->probe_views.erase(id);
  const std::string suffix = "|" + id;
  state_->drop_cache_where([&](const std::string& k) {
    return k.size() >= suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

std::string Explorer::image_name(const std::string& id) const {
  std::lock_guard lock(state_->mutex);
  return state_->image_entry(id).name;
}

RgbImage Explorer::image_preview(const std::string& id, int max_side) const {
  torch::Tensor pixels;
  {
    std::lock_guard lock(state_->mutex);
    pixels = state_->image_entry(id).pixels;
  }
  const auto h = pixels.size(1), w = pixels.size(2);
  const double scale = std::min(1.0, double(max_side) / double(std::max(h, w)));
  if (scale < 1.0) {
    const std::vector<int64_t> size{std::max<int64_t>(1, std::llround(h * scale)), std::max<int64_t>(1, std::llround(w * scale))};
    pixels = torch::nn::functional::interpolate(
                 pixels.unsqueeze(0),
                 torch::nn::functional::InterpolateFuncOptions().size(size).mode(torch::kArea))[0];
  }
  return explorer_rgb(pixels);
}

bool Explorer::has_cached_analysis(const std::string& m, const std::string& i) const {
  std::lock_guard lock(state_->mutex);
  const auto k = State::key(m, i);
  for (const auto& [key, v] : state_->cache)
    if (key == k) return true;
  return false;
}

ImageAnalysis Explorer::analyze(const std::string& model_id, const std::string& image_id, const CancelToken* cancel) {
  const auto key = State::key(model_id, image_id);
  std::shared_ptr<State::LoadedEntry> entry;
  torch::Tensor pixels;
  ModelInfo info;
  {
    std::lock_guard lock(state_->mutex);
    for (auto it = state_->cache.begin(); it != state_->cache.end(); ++it)
      if (it->first == key) {
        state_->cache.splice(state_->cache.begin(), state_->cache, it);  // most recent first
        return ImageAnalysis(it->second);
      }
    entry = state_->model_entry(model_id);
    info = entry->info;  // rename_model writes it under this lock
    pixels = state_->image_entry(image_id).pixels;
  }
  model::Model* m = &entry->loaded.model;
  auto check = [&] {
    if (cancel && cancel->is_cancelled()) throw Cancelled();
  };
  auto impl = std::make_shared<ImageAnalysis::Impl>();
  impl->model = info;
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard fwd(entry->forward_mutex);
    torch::NoGradGuard no_grad;
    auto resized = io::resize_for_model(pixels, m->config().image_size, m->card.preprocess);
    impl->input = explorer_rgb(resized);
    auto x = io::normalize(resized, m->card.preprocess).unsqueeze(0).to(entry->device);
    check();
    model::Capture cap;
    m->encoder->forward_features(x, model::CaptureRequest::everything(m->config().depth), &cap);
    for (auto& a : cap.attentions) a = a.to(torch::kCPU, torch::kFloat32);
    for (auto& t : cap.taps) t = t.to(torch::kCPU, torch::kFloat32);
    impl->capture = std::move(cap);
  }
  check();
  const auto& cap = impl->capture;
  impl->distance = analysis::attention_distance_table(cap);
  impl->nmi = analysis::nmi_table(cap);
  impl->entropy = analysis::attention_entropy_table(cap);
  check();
  impl->fourier = analysis::fourier_analysis(cap);
  impl->geometry = analysis::token_geometry(cap);
  impl->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!impl->distance.invalid_images.empty() || !impl->fourier.invalid_images.empty())
    impl->warnings.push_back("NaN or Inf in the activations: measurements of this image are not valid");
  for (const auto& t : cap.attentions) impl->bytes += t.numel() * 4;
  for (const auto& t : cap.taps) impl->bytes += t.numel() * 4;

  std::lock_guard lock(state_->mutex);
  if (!state_->models.count(model_id)) throw std::runtime_error("model " + model_id + " was removed");
  state_->cache.emplace_front(key, impl);
  state_->cache_bytes += impl->bytes;
  while (state_->cache_bytes > State::kCacheLimit && state_->cache.size() > 1) {
    state_->cache_bytes -= state_->cache.back().second->bytes;
    state_->cache.pop_back();
  }
  return ImageAnalysis(impl);
}

std::vector<uint8_t> Explorer::random_mask(const std::string& model_id, double ratio, uint64_t seed) const {
  ModelInfo info = model(model_id);
  auto gen = at::detail::createCPUGenerator(seed);
  torch::Tensor mask;
  if (info.reconstruction_kind == "SimMIM" && info.grid % 2 == 0)
    mask = model::simmim_block_mask(1, info.grid, 2, ratio, gen);
  else
    mask = model::mae_random_mask(1, int64_t(info.grid) * info.grid, std::min(ratio, 0.99), gen);
  auto m = mask.to(torch::kUInt8).contiguous();
  return std::vector<uint8_t>(m.data_ptr<uint8_t>(), m.data_ptr<uint8_t>() + m.numel());
}

ReconstructionView Explorer::reconstruct(const std::string& model_id, const std::string& image_id,
                                         const std::vector<uint8_t>& mask) {
  std::shared_ptr<State::LoadedEntry> entry;
  torch::Tensor pixels;
  ModelInfo info;
  {
    std::lock_guard lock(state_->mutex);
    entry = state_->model_entry(model_id);
    info = entry->info;  // rename_model writes it under this lock
    pixels = state_->image_entry(image_id).pixels;
  }
  model::Model* m = &entry->loaded.model;
  if (!info.can_reconstruct) throw std::runtime_error(info.name + " has no decoder: it cannot reconstruct");
  if (mask.size() != size_t(info.grid) * info.grid)
    throw std::runtime_error("mask has " + std::to_string(mask.size()) + " entries, the model's grid has " +
                             std::to_string(info.grid * info.grid));
  std::lock_guard fwd(entry->forward_mutex);
  torch::NoGradGuard no_grad;
  auto resized = io::resize_for_model(pixels, m->config().image_size, m->card.preprocess);
  auto x = io::normalize(resized, m->card.preprocess).unsqueeze(0).to(entry->device);
  auto mask_t = torch::from_blob(const_cast<uint8_t*>(mask.data()), {1, static_cast<int64_t>(mask.size())}, torch::kUInt8)
                    .to(torch::kFloat32)
                    .to(entry->device);
  auto r = model::reconstruct(*m, x, mask_t);
  ReconstructionView v;
  v.original = explorer_rgb(r.original[0]);
  v.masked = explorer_rgb(r.masked_input[0]);
  v.prediction = explorer_rgb(r.prediction[0]);
  v.composite = explorer_rgb(r.composite[0]);
  v.error = explorer_grid(r.error[0]);
  v.mask = mask;
  v.masked_mse = r.masked_mse;
  v.borrowed_patch_statistics = r.borrowed_patch_statistics;
  v.kind = info.reconstruction_kind;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Shape-vs-texture probes

namespace {

std::string explorer_definition(const analysis::Metadata& metadata) {
  std::string text;
  for (const auto& [key, value] : metadata) text += key + ": " + value + "\n";
  return text;
}

}  // namespace

std::vector<ProbeView> Explorer::probe_view_kinds() {
  std::vector<ProbeView> out;
  for (const auto& t : analysis::standard_probe_transforms()) out.push_back({t.name, analysis::cue_name(t.keeps), t.description, {}});
  return out;
}

std::vector<ProbeView> Explorer::probe_views(const std::string& image_id) {
  const auto entry = state_->probe_views_of(image_id);
  std::vector<ProbeView> out;
  for (size_t v = 0; v < entry->views.names.size(); ++v)
    out.push_back({entry->views.names[v], analysis::cue_name(entry->views.keeps[v]), entry->descriptions[v],
                   explorer_rgb(entry->views.images[static_cast<int64_t>(v)])});
  return out;
}

ImageProbe Explorer::probe_image(const std::string& model_id, const std::string& image_id, const CancelToken* cancel) {
  std::shared_ptr<State::LoadedEntry> entry;
  {
    std::lock_guard lock(state_->mutex);
    entry = state_->model_entry(model_id);
  }
  const auto views = state_->probe_views_of(image_id);
  if (cancel && cancel->is_cancelled()) throw Cancelled();
  analysis::LabelFreeResult label_free;
  analysis::FrequencyProbeResult frequency;
  {
    std::lock_guard fwd(entry->forward_mutex);
    auto& m = entry->loaded.model;
    const auto features = block_features(m);
    const auto& original = views->original;
    const auto reference = analysis::reference_features(features, original.size(1), original.size(2), original.options());
    label_free = analysis::summarize_label_free(analysis::image_view_similarity(features, reference, original, views->views),
                                                views->views.names, views->views.keeps);
    if (cancel && cancel->is_cancelled()) throw Cancelled();
    frequency = analysis::frequency_probe(features, model_sized(original.unsqueeze(0), m));
  }
  ImageProbe p;
  p.views = views->views.names;
  for (auto k : views->views.keeps) p.keeps.push_back(analysis::cue_name(k));
  for (int64_t v = 0; v < label_free.mean_similarity.size(0); ++v) p.similarity.push_back(explorer_doubles(label_free.mean_similarity[v]));
  p.index_per_block = explorer_doubles(label_free.index_per_layer);
  p.shape_reliance_index = label_free.shape_reliance_index;
  p.cutoffs = frequency.cutoffs;
  p.low_pass = explorer_doubles(frequency.low_pass.select(1, -1));
  p.high_pass = explorer_doubles(frequency.high_pass.select(1, -1));
  p.definition = explorer_definition(label_free.metadata) + explorer_definition(frequency.metadata);
  return p;
}

HeadTrainingReport Explorer::train_head(const std::string& model_id, const std::string& data_path, int max_per_class,
                                        const ProgressFn& progress, const CancelToken* cancel) {
  std::shared_ptr<State::LoadedEntry> entry;
  {
    std::lock_guard lock(state_->mutex);
    entry = state_->model_entry(model_id);
  }
  // Trained on a copy, so analyses of the model go on meanwhile; installed at the end.
  model::Model copy;
  {
    std::lock_guard fwd(entry->forward_mutex);
    copy = clone_model(entry->loaded.model);
  }
  HeadTrainingOptions options;
  options.max_per_class = options.max_test_per_class = max_per_class;
  const auto r = train_linear_head(copy, data_path, options, progress, cancel);
  {
    std::lock_guard fwd(entry->forward_mutex);
    auto& m = entry->loaded.model;
    install_classifier(m, copy.encoder->head->weight, copy.encoder->head->bias, r.class_names);
    m.card.metrics["classifier_head"] = copy.card.metrics["classifier_head"];
  }
  {
    std::lock_guard lock(state_->mutex);
    entry->info = describe_model(model_id, entry->loaded);
  }
  return {r.train_top1, r.test_top1, r.train_images, r.test_images, r.test_source, r.skipped};
}

ShapeBiasReport Explorer::measure_shape_bias(const std::string& model_id, const std::string& stimuli_dir,
                                             const std::string& mapping_file, const ProgressFn& progress,
                                             const CancelToken* cancel) {
  std::shared_ptr<State::LoadedEntry> entry;
  {
    std::lock_guard lock(state_->mutex);
    entry = state_->model_entry(model_id);
  }
  const auto stimuli = read_cue_conflict_stimuli(stimuli_dir);
  ShapeBiasMeasurement m;
  {
    std::lock_guard fwd(entry->forward_mutex);
    auto& model = entry->loaded.model;
    m = runtime::measure_shape_bias(model, stimuli, class_mapping_for(model, mapping_file, &stimuli), {}, progress, cancel);
  }
  ShapeBiasReport r;
  r.classifier = m.classifier;
  r.mapping = m.mapping.source;
  const auto& o = m.result.overall;
  r.trials = o.trials;
  r.shape_hits = o.shape_hits;
  r.texture_hits = o.texture_hits;
  r.excluded_same_class = m.result.excluded_same_class;
  r.excluded_unmapped = m.result.excluded_unmapped;
  r.shape_bias = o.shape_bias();
  r.shape_hit_rate = o.shape_hit_rate();
  r.texture_hit_rate = o.texture_hit_rate();
  for (const auto& [category, c] : m.result.per_category)
    r.per_category.push_back({category, c.trials, c.shape_hits, c.texture_hits, c.shape_bias()});
  r.silhouette_accuracy = m.silhouette_accuracy;
  r.edge_accuracy = m.edge_accuracy;
  r.json = m.to_json().dump(2);
  return r;
}

RgbImage Explorer::make_cue_conflict(const std::string& shape_image_id, const std::string& texture_path, bool outline,
                                     bool transfer) {
  torch::Tensor pixels;
  {
    std::lock_guard lock(state_->mutex);
    pixels = state_->image_entry(shape_image_id).pixels;
  }
  const auto texture = io::load_image(texture_path);
  analysis::CueConflictOptions o;
  o.shape = outline ? analysis::ShapeCue::Outline : analysis::ShapeCue::Silhouette;
  o.texture = transfer ? analysis::TextureFill::Transfer : analysis::TextureFill::Tiling;
  return explorer_rgb(analysis::make_cue_conflict(runtime::probe_image(pixels), runtime::probe_image(texture), o));
}

}  // namespace vitscope::runtime
