#include "core/runtime/dataset_analysis.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/analysis/attention_distance.h"
#include "core/analysis/attention_entropy.h"
#include "core/analysis/attention_maps.h"
#include "core/analysis/fourier.h"
#include "core/analysis/nmi.h"
#include "core/analysis/representation.h"
#include "core/analysis/rollout.h"
#include "core/analysis/tsne.h"
#include "core/io/image.h"
#include "core/runtime/device.h"

namespace vitscope::runtime {

namespace fs = std::filesystem;

const std::vector<std::string>& dataset_metric_names() {
  static const std::vector<std::string> names = {"attention-distance", "nmi",  "entropy", "fourier",
                                                 "svd",                "rollout", "pca",   "cka",
                                                 "attention-maps",     "tsne"};
  return names;
}

ImageList list_images(const std::string& root) {
  ImageList list;
  if (!fs::is_directory(root)) throw std::runtime_error(root + ": not a directory");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied))
    if (e.is_regular_file() && io::has_image_extension(e.path().string())) files.push_back(e.path());
  if (files.empty()) throw std::runtime_error(root + ": no image files found");
  std::sort(files.begin(), files.end());
  // ImageFolder layout when every image is exactly one folder below the root.
  const bool image_folder = std::all_of(files.begin(), files.end(), [&](const fs::path& p) {
    const auto rel = fs::relative(p, root);
    return std::distance(rel.begin(), rel.end()) == 2;
  });
  std::set<std::string> classes;
  if (image_folder)
    for (const auto& f : files) classes.insert(fs::relative(f, root).begin()->string());
  list.class_names.assign(classes.begin(), classes.end());
  for (const auto& f : files) {
    int label = -1;
    if (image_folder) {
      const auto cls = fs::relative(f, root).begin()->string();
      label = static_cast<int>(std::lower_bound(list.class_names.begin(), list.class_names.end(), cls) -
                               list.class_names.begin());
    }
    list.items.push_back({f.string(), label});
  }
  return list;
}

namespace {

bool wants(const DatasetAnalysisOptions& o, const std::string& metric) {
  return std::find(o.metrics.begin(), o.metrics.end(), metric) != o.metrics.end();
}

nlohmann::json metric_definitions() {
  return {{"attention-distance", "per image (blocks, heads): mean attention distance in input pixels, CLS dropped, "
                                 "rows renormalised with eps 1e-32 (paper-analyses.md §3.2)"},
          {"nmi", "per image (blocks, heads): normalised mutual information of queries and keys, eps 1e-8 (§3.3)"},
          {"entropy", "per image (blocks, heads): mean Shannon entropy (nats) of the renormalised patch attention rows"},
          {"delta-log-amplitude", "per image (taps): ln|F| at the highest kept diagonal frequency minus DC, mean over "
                                  "channels (§3.6); depth k = tap 2k"},
          {"log-amplitude-spectrum", "per image (taps, g, g): mean over channels of ln(|FFT2| + 1e-6), DC centred (§3.6)"},
          {"relative-log-amplitude", "per image (taps, K): the log-amplitude spectrum along its diagonal from DC "
                                     "outwards minus DC, entry k at frequency (k, k)·2π/g (§3.6 step 6); its last "
                                     "entry is delta-log-amplitude"},
          {"decoder-delta-log-amplitude",
           "MAE decoder, per image (decoder taps): as delta-log-amplitude (§3.10). The encoder runs unmasked and the "
           "decoder gets no mask tokens (every patch is visible): the mask ratio behind the paper's Fig. 11 is "
           "unverified, and with masking the encoder's tokens do not form a grid. Decoder tap 0 (input after "
           "decoder_embed and the decoder position table) is depth E (the encoder's depth), tap 2j is depth E + j"},
          {"decoder-log-amplitude-spectrum", "MAE decoder, per image (decoder taps, g, g): as log-amplitude-spectrum"},
          {"effective-rank", "per image (taps): exp(entropy of σ/Σσ) of the L×D patch-token matrix (§3.5, recommended "
                             "definition; not centred)"},
          {"token-cosine-similarity", "per image (taps): mean pairwise cosine similarity of the patch tokens (§3.5)"},
          {"singular-values", "per image (taps, K): singular values of the patch-token matrix (§3.5)"},
          {"cka", "linear CKA, unbiased minibatch estimator (Nguyen et al. 2021), between block outputs (even taps) of "
                  "model 0 and each other model; features = mean of the patch tokens per image"}};
}

// Splits a batch so that its captured attentions stay within a budget: 256 MB of CPU memory
// (ViT-B/16: ~1.9 MB per image and block, so 11 images at a time), 2 GB on a GPU, where small
// chunks would leave it idle. On the CPU also at most about 512 tokens per chunk (ViT-B/16: 2
// images): the CPU workers get chunks to share, and a chunk's activations stay closer to the
// caches (measured fastest of 256 to 4,096 tokens). The size depends on the model only, never on
// the number of workers, so that every worker count gives the same numbers (another split
// rounds the float matmuls differently, and t-SNE magnifies that).
int64_t chunk_size(const model::Model& m, int64_t batch, bool attentions) {
  const auto& c = m.config();
  const bool cuda = m.device().is_cuda();
  int64_t chunk = cuda ? batch : std::max<int64_t>(1, 512 / c.num_tokens());
  if (attentions) {
    const double per_image = double(c.depth) * c.num_heads * double(c.num_tokens()) * c.num_tokens() * 4.0;
    const double budget = (cuda ? 2048.0 : 256.0) * 1024 * 1024;
    chunk = std::min(chunk, static_cast<int64_t>(budget / per_image));
  }
  return std::clamp<int64_t>(chunk, 1, batch);
}

// CPU workers when the caller leaves it to us: one per core, but no more than keep their chunks'
// captures (every attention map and tap, an upper bound) within 2 GB together (ViT-B/16: two
// images' 75 MB per worker, so up to 27 workers; ViT-L/16: ~200 MB, 10).
int automatic_cpu_workers(const std::vector<model::Model*>& models, int64_t batch) {
  double largest_chunk_bytes = 0;
  for (const auto* m : models) {
    const auto& c = m->config();
    const double tokens = c.num_tokens();
    const double per_image = 4.0 * (double(c.depth) * c.num_heads * tokens * tokens + (2.0 * c.depth + 1) * tokens * c.embed_dim);
    largest_chunk_bytes = std::max(largest_chunk_bytes, per_image * double(chunk_size(*m, batch, true)));
  }
  const int by_memory = std::max(1, static_cast<int>(2048.0 * 1024 * 1024 / largest_chunk_bytes));
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, by_memory);
}

// What the requested metrics read from a forward pass, and nothing more.
model::CaptureRequest capture_request(const model::Model& m, const DatasetAnalysisOptions& o) {
  const int depth = m.config().depth;
  model::CaptureRequest r;
  if (wants(o, "attention-distance") || wants(o, "nmi") || wants(o, "entropy") || wants(o, "rollout"))
    r = model::CaptureRequest::attentions_only(depth);
  else if (wants(o, "attention-maps"))
    r.attention_blocks = {o.attention_block < 0 ? depth - 1 : o.attention_block};
  if (wants(o, "fourier") || wants(o, "svd") || wants(o, "cka")) {
    r.taps = model::CaptureRequest::taps_only(depth).taps;
  } else {
    if (wants(o, "pca")) r.taps.push_back(2 * depth);
    if (wants(o, "tsne")) r.taps.push_back(o.tsne_tap);
  }
  return r;
}

// §3.10: the MAE decoder's residual stream on the encoder's output (B, 1 + L, D) after its
// final norm, with every patch visible (identity restore order, no mask token).
model::Capture decoder_capture(model::Model& m, const torch::Tensor& encoded) {
  const auto patches = encoded.size(1) - 1;
  const auto identity = torch::arange(patches, encoded.options().dtype(torch::kLong)).expand({encoded.size(0), patches});
  model::Capture capture;
  m.mae_decoder->forward(encoded, identity, model::CaptureRequest::taps_only(m.mae_decoder->config.depth), &capture);
  return capture;
}

analysis::AttentionQuery patch_query(const DatasetAnalysisOptions& o, int grid) {
  const auto [row, col] = attention_maps_query(o, grid);
  return analysis::AttentionQuery::patch(row, col);
}

// Whether every captured activation of image b is finite.
bool finite_activations(const model::Capture& cap, int64_t b) {
  auto finite = [&](const std::vector<torch::Tensor>& tensors) {
    return std::all_of(tensors.begin(), tensors.end(), [&](const torch::Tensor& t) {
      return !t.defined() || torch::isfinite(t[b]).all().item<bool>();
    });
  };
  return finite(cap.taps) && finite(cap.attentions);
}

// Pictures of images c0 .. c0 + n - 1 of the batch (global indices first_index + 0 .. n - 1)
// while below max_pictures. Images with NaN/Inf activations get none: an SVD of NaN fails and a
// NaN map would be drawn as noise.
void emit_pictures(const model::Model& m, int model_index, const model::Capture& cap,
                   const std::vector<const ImageItem*>& items, int64_t c0, int64_t n, int64_t first_index,
                   const DatasetAnalysisOptions& o, std::vector<std::string>& skipped) {
  const int depth = m.config().depth;
  const int block = o.attention_block < 0 ? depth - 1 : o.attention_block;
  for (int64_t b = 0; b < n && first_index + b < o.max_pictures; ++b) {
    const auto& item = *items[c0 + b];
    if (!finite_activations(cap, b)) {
      skipped.push_back(item.path + ": " + m.card.name + ": no pictures (NaN/Inf activations)");
      continue;
    }
    if (wants(o, "rollout")) {
      std::vector<torch::Tensor> attentions;
      for (const auto& a : cap.attentions) attentions.push_back(a.narrow(0, b, 1));
      const auto rollout = analysis::attention_rollout(attentions);
      o.on_picture(model_index, item, "rollout",
                   analysis::rollout_map(rollout, cap.num_prefix_tokens, cap.grid_h, cap.grid_w,
                                         analysis::AttentionQuery::cls())[0]);
    }
    if (wants(o, "pca"))
      o.on_picture(model_index, item, "pca",
                   analysis::pca_rgb(cap.patch_tokens(2 * depth).narrow(0, b, 1), cap.grid_h, cap.grid_w)[0]);
    if (wants(o, "attention-maps")) {
      // (heads + 1, g, g): every head, then the mean of the per-head maps (§3.1). CLS only for
      // models that have one.
      std::vector<std::pair<std::string, analysis::AttentionQuery>> queries = {
          {"attention-query", patch_query(o, cap.grid_h)}};
      if (cap.num_prefix_tokens > 0) queries.insert(queries.begin(), {"attention-cls", analysis::AttentionQuery::cls()});
      for (const auto& [kind, query] : queries) {
        const auto heads = analysis::head_attention_maps(cap, block, static_cast<int>(b), query);
        o.on_picture(model_index, item, kind, torch::cat({heads, heads.mean(0, /*keepdim=*/true)}));
      }
    }
  }
}

// The tokens t-SNE is run on, gathered over the first batches.
struct TsneTokens {
  std::vector<torch::Tensor> tokens;  // (L, D) per kept image, CPU
  std::vector<int64_t> image_index;
  std::vector<int> label;
  std::vector<int64_t> left_out;
  int64_t images_seen = 0;
};

void collect_tsne_tokens(const model::Capture& cap, int tap, const std::vector<const ImageItem*>& items,
                         int64_t first_in_batch, int64_t first_index, int limit, TsneTokens& into) {
  const auto tokens = cap.patch_tokens(tap).to(torch::kCPU, torch::kFloat);
  for (int64_t b = 0; b < tokens.size(0) && into.images_seen < limit; ++b, ++into.images_seen) {
    const auto t = tokens[b];
    if (!torch::isfinite(t).all().item<bool>()) {
      into.left_out.push_back(first_index + b);
      continue;
    }
    into.tokens.push_back(t);
    into.image_index.push_back(first_index + b);
    into.label.push_back(items[first_in_batch + b]->label);
  }
}

TokenTsne token_tsne(const TsneTokens& collected, int tap, uint64_t seed) {
  TokenTsne t;
  t.tap = tap;
  t.left_out = collected.left_out;
  if (collected.tokens.size() < 2) return t;  // nothing to embed: every image was left out
  analysis::TsneOptions options;
  options.seed = seed;
  auto result = analysis::tsne(torch::cat(collected.tokens), options);
  t.embedding = result.embedding.to(torch::kCPU, torch::kFloat);
  const auto per_image = collected.tokens.front().size(0);
  for (size_t i = 0; i < collected.tokens.size(); ++i)
    for (int64_t k = 0; k < per_image; ++k) {
      t.image_index.push_back(collected.image_index[i]);
      t.label.push_back(collected.label[i]);
    }
  t.kl_divergence = result.kl_divergence;
  t.metadata = result.metadata;
  t.metadata["tap"] = std::to_string(tap) + " (residual stream, pre-final-norm; tap 2k = block k after its MLP, §5 "
                      "pitfall 4; the notebook's default is 10)";
  t.metadata["tokens"] = "patch tokens of the first " + std::to_string(collected.images_seen) +
                         " images, raw (no normalisation or PCA, §3.4 step 1)";
  return t;
}

// What a model gives for one chunk of a batch: its per-image metric tables in the order they go
// into the statistics, the CKA image vectors, and its capture when pictures or t-SNE want some
// of its images (otherwise dropped at once: captures are the large part).
struct ChunkResult {
  std::vector<std::pair<std::string, torch::Tensor>> tables;
  std::vector<torch::Tensor> image_vectors;  // per even tap, (n, D), for CKA
  std::optional<model::Capture> capture;
};

// Pure with respect to the model (no state changes), so chunks may run on several threads.
ChunkResult analyse_chunk(model::Model& m, const torch::Tensor& inputs, const model::CaptureRequest& request,
                          const DatasetAnalysisOptions& o, bool want_cka, bool keep_capture) {
  torch::NoGradGuard no_grad;  // thread-local: workers need their own
  model::Capture cap;
  const auto encoded = m.encoder->forward_features(inputs, request, &cap);
  ChunkResult r;
  auto add = [&](const std::string& name, torch::Tensor per_image) { r.tables.emplace_back(name, std::move(per_image)); };
  if (wants(o, "attention-distance")) add("attention-distance", analysis::attention_distance_table(cap).per_image);
  if (wants(o, "nmi")) add("nmi", analysis::nmi_table(cap).per_image);
  if (wants(o, "entropy")) add("entropy", analysis::attention_entropy_table(cap).per_image);
  if (wants(o, "fourier")) {
    auto f = analysis::fourier_analysis(cap);
    add("delta-log-amplitude", f.per_image_delta);
    add("log-amplitude-spectrum", f.per_image_spectrum);
    add("relative-log-amplitude", f.per_image_diagonal);
    if (m.mae_decoder) {
      auto d = analysis::fourier_analysis(decoder_capture(m, encoded));
      add("decoder-delta-log-amplitude", d.per_image_delta);
      add("decoder-log-amplitude-spectrum", d.per_image_spectrum);
    }
  }
  if (wants(o, "svd")) {
    auto g = analysis::token_geometry(cap);
    add("effective-rank", g.effective_rank);
    add("token-cosine-similarity", g.mean_cosine_similarity);
    add("singular-values", g.singular_values);
  }
  if (want_cka)
    for (int t = 0; t <= 2 * m.config().depth; t += 2) r.image_vectors.push_back(cap.patch_tokens(t).mean(1));
  if (keep_capture) r.capture = std::move(cap);
  return r;
}

// Runs job(0), ..., job(count - 1) on `workers` threads that each take the next index, and
// consume(k) on this thread in index order as soon as job k is done, so that results are used
// and dropped while later jobs still run. workers <= 1: job(k) then consume(k), in order, here.
// Rethrows the first error once the workers have stopped.
void run_jobs_in_order(size_t count, int workers, const std::function<void(size_t)>& job,
                       const std::function<void(size_t)>& consume) {
  if (workers <= 1 || count <= 1) {
    for (size_t k = 0; k < count; ++k) {
      job(k);
      consume(k);
    }
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::vector<char> done(count, 0);
  std::exception_ptr error;
  auto fail = [&](std::exception_ptr e) {
    std::lock_guard lock(mutex);
    if (!error) error = e;
    next = count;  // the workers stop after their current job
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < std::min<int>(workers, static_cast<int>(count)); ++w)
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < count;) {
        try {
          job(i);
        } catch (...) {
          fail(std::current_exception());
        }
        {
          std::lock_guard lock(mutex);
          done[i] = 1;
        }
        finished.notify_all();
      }
    });
  for (size_t k = 0; k < count; ++k) {
    {
      std::unique_lock lock(mutex);
      finished.wait(lock, [&] { return done[k] || error; });
      if (error) break;
    }
    try {
      consume(k);
    } catch (...) {
      fail(std::current_exception());
      break;
    }
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

// One batch ready for the models: the images that decoded, and for every model its input batch
// (B, 3, S, S), resized and normalised as its card says, on the CPU.
struct InputBatch {
  std::vector<const ImageItem*> items;
  std::vector<torch::Tensor> inputs;  // per model
  std::vector<std::string> skipped;
};

// Decodes images[start, end) and prepares every model's input, spread over a few threads (the
// models' forward passes run meanwhile on the previous batch).
InputBatch prepare_batch(const std::vector<ImageItem>& images, size_t start, size_t end,
                         const std::vector<model::Model*>& models) {
  struct Prepared {
    std::vector<torch::Tensor> per_model;
    std::string error;
  };
  auto prepare = [&](size_t i) {
    Prepared p;
    try {
      const auto pixels = io::load_image(images[i].path);
      for (const auto* m : models)
        p.per_model.push_back(
            io::normalize(io::resize_for_model(pixels, m->config().image_size, m->card.preprocess), m->card.preprocess));
    } catch (const std::exception& e) {
      p.error = e.what();
    }
    return p;
  };
  const size_t workers = std::clamp<size_t>(std::thread::hardware_concurrency() / 2, 1, 8);
  std::vector<Prepared> prepared(end - start);
  std::vector<std::future<void>> running;
  for (size_t w = 0; w < workers; ++w)
    running.push_back(std::async(std::launch::async, [&, w] {
      for (size_t i = start + w; i < end; i += workers) prepared[i - start] = prepare(i);
    }));
  for (auto& r : running) r.get();

  InputBatch batch;
  std::vector<std::vector<torch::Tensor>> per_model(models.size());
  for (size_t i = start; i < end; ++i) {
    auto& p = prepared[i - start];
    if (!p.error.empty()) {
      batch.skipped.push_back(p.error);
      continue;
    }
    batch.items.push_back(&images[i]);
    for (size_t m = 0; m < models.size(); ++m) per_model[m].push_back(std::move(p.per_model[m]));
  }
  if (!batch.items.empty())
    for (auto& inputs : per_model) batch.inputs.push_back(torch::stack(inputs));
  return batch;
}

}  // namespace

std::pair<int, int> attention_maps_query(const DatasetAnalysisOptions& o, int grid) {
  if (!o.attention_query) return {8 * grid / 14, 3 * grid / 14};
  const auto [row, col] = *o.attention_query;
  if (row < 0 || col < 0 || row >= grid || col >= grid)
    throw std::invalid_argument("attention-maps: query (" + std::to_string(row) + ", " + std::to_string(col) +
                                ") is outside a model's " + std::to_string(grid) + "x" + std::to_string(grid) +
                                " patch grid");
  return {row, col};
}

DatasetAnalysis analyze_dataset(std::vector<model::Model*> models, const std::vector<ImageItem>& images,
                                const DatasetAnalysisOptions& o) {
  if (models.empty()) throw std::invalid_argument("no model to analyse");
  if (images.empty()) throw std::invalid_argument("no images to analyse");
  if (o.batch_size < 1) throw std::invalid_argument("the batch size must be positive");
  for (const auto& m : o.metrics)
    if (std::find(dataset_metric_names().begin(), dataset_metric_names().end(), m) == dataset_metric_names().end())
      throw std::invalid_argument("unknown metric '" + m + "'");
  const bool want_cka = wants(o, "cka");
  if (want_cka && models.size() < 2) throw std::invalid_argument("cka compares models: give at least two");
  if (want_cka && o.batch_size < 4) throw std::invalid_argument("cka needs batches of at least 4 images");
  for (auto* m : models) {
    const int depth = m->config().depth;
    if (wants(o, "attention-maps") && o.attention_block >= depth)
      throw std::invalid_argument("attention-maps: block " + std::to_string(o.attention_block) + " does not exist in " +
                                  m->card.name + " (" + std::to_string(depth) + " blocks, 0-based)");
    if (wants(o, "tsne") && (o.tsne_tap < 0 || o.tsne_tap > 2 * depth))
      throw std::invalid_argument("tsne: tap " + std::to_string(o.tsne_tap) + " does not exist in " + m->card.name +
                                  " (taps 0.." + std::to_string(2 * depth) + ")");
    if (wants(o, "attention-maps")) patch_query(o, m->config().grid());  // reject a bad query before any work
  }

  DatasetAnalysis out;
  for (auto* m : models) {
    ModelStatistics s;
    s.name = m->card.name;
    s.card = model::to_json(m->card);
    s.definitions = metric_definitions();
    out.models.push_back(std::move(s));
  }
  for (size_t j = 1; want_cka && j < models.size(); ++j)
    out.cka.emplace_back(models[0]->config().depth + 1, models[j]->config().depth + 1);
  std::vector<TsneTokens> tsne_tokens(models.size());

  torch::NoGradGuard no_grad;
  // CPU: whole forward passes on `cpu_workers` threads at once, each with single-threaded
  // kernels, whatever their number (multi-threaded BLAS rounds differently).
  const bool on_cpu = std::all_of(models.begin(), models.end(), [](auto* m) { return m->device().is_cpu(); });
  const int cpu_workers = !on_cpu ? 1 : o.cpu_workers > 0 ? o.cpu_workers : automatic_cpu_workers(models, o.batch_size);
  std::optional<SingleThreadedKernels> single_threaded;
  if (on_cpu) single_threaded.emplace();
  int64_t index = o.first_index;  // global index of the next image (RunningStats image index)
  // The next batch is decoded and prepared on other threads while this one runs through the
  // models; at most two batches of inputs are held at a time.
  auto prepare_from = [&](size_t first) {
    return std::async(std::launch::async, prepare_batch, std::cref(images), first,
                      std::min<size_t>(images.size(), first + o.batch_size), std::cref(models));
  };
  auto next = prepare_from(0);
  for (size_t start = 0; start < images.size(); start += o.batch_size) {
    if (o.cancel && o.cancel->is_cancelled()) throw Cancelled();
    const auto waiting_since = std::chrono::steady_clock::now();
    auto prepared = next.get();
    const auto models_since = std::chrono::steady_clock::now();
    out.seconds_waiting_for_images += std::chrono::duration<double>(models_since - waiting_since).count();
    if (start + o.batch_size < images.size()) next = prepare_from(start + o.batch_size);
    out.skipped.insert(out.skipped.end(), prepared.skipped.begin(), prepared.skipped.end());
    if (prepared.items.empty()) continue;
    const auto B = static_cast<int64_t>(prepared.items.size());
    std::vector<std::vector<torch::Tensor>> cka_features(models.size());
    for (size_t mi = 0; mi < models.size(); ++mi) {
      auto& m = *models[mi];
      auto& stats = out.models[mi].stats;
      auto batch = prepared.inputs[mi].to(m.device());
      if (o.input_transform) batch = o.input_transform(batch);
      const auto request = capture_request(m, o);
      const auto chunk = chunk_size(m, B, !request.attention_blocks.empty());
      std::vector<int64_t> starts;
      for (int64_t c0 = 0; c0 < B; c0 += chunk) starts.push_back(c0);
      const int64_t seen_before = index - o.first_index;  // images of this run before this batch
      std::vector<ChunkResult> chunks(starts.size());
      std::vector<torch::Tensor> image_vectors;  // per even tap, (B, D), for CKA
      run_jobs_in_order(
          starts.size(), cpu_workers,
          [&](size_t k) {
            const auto c0 = starts[k], n = std::min(chunk, B - c0);
            const bool keep = (o.on_picture && index + c0 < o.max_pictures) ||
                              (wants(o, "tsne") && seen_before + c0 < o.tsne_images);
            chunks[k] = analyse_chunk(m, batch.narrow(0, c0, n), request, o, want_cka, keep);
          },
          // In image order, whatever order the chunks finish in; then the chunk is dropped.
          [&](size_t k) {
            const auto c0 = starts[k], n = std::min(chunk, B - c0);
            const int64_t first = index + c0;
            auto result = std::move(chunks[k]);
            for (const auto& [name, per_image] : result.tables) stats.add(name, per_image, first);
            if (const auto& cap = result.capture) {
              if (o.on_picture) emit_pictures(m, static_cast<int>(mi), *cap, prepared.items, c0, n, first, o, out.skipped);
              if (wants(o, "tsne"))
                collect_tsne_tokens(*cap, o.tsne_tap, prepared.items, c0, first, o.tsne_images, tsne_tokens[mi]);
            }
            if (want_cka) {
              const auto& v = result.image_vectors;
              if (image_vectors.empty()) image_vectors = v;
              else
                for (size_t t = 0; t < v.size(); ++t) image_vectors[t] = torch::cat({image_vectors[t], v[t]});
            }
          });
      cka_features[mi] = std::move(image_vectors);
    }
    for (size_t j = 1; want_cka && j < models.size(); ++j)
      if (B >= 4) out.cka[j - 1].update(cka_features[0], cka_features[j], index);
    out.seconds_in_models += std::chrono::duration<double>(std::chrono::steady_clock::now() - models_since).count();
    index += B;
    out.images += B;
    if (o.progress) o.progress(static_cast<int64_t>(std::min(images.size(), start + o.batch_size)), images.size());
  }
  if (wants(o, "tsne"))
    for (size_t mi = 0; mi < models.size(); ++mi)
      out.tsne.push_back(token_tsne(tsne_tokens[mi], o.tsne_tap, o.tsne_seed));
  return out;
}

nlohmann::json DatasetAnalysis::to_json() const {
  nlohmann::json j = {{"format", "vitscope-dataset-stats"}, {"version", 1}, {"images", images}, {"skipped", skipped}};
  for (const auto& m : models)
    j["models"].push_back({{"name", m.name}, {"card", m.card}, {"definitions", m.definitions}, {"stats", m.stats.to_json()}});
  for (const auto& c : cka) j["cka"].push_back(c.to_json());
  return j;
}

DatasetAnalysis DatasetAnalysis::from_json(const nlohmann::json& j) {
  if (j.value("format", std::string()) != "vitscope-dataset-stats")
    throw std::runtime_error("not a ViTScope statistics file (format field missing)");
  DatasetAnalysis d;
  d.images = j.value("images", int64_t{0});
  d.skipped = j.value("skipped", std::vector<std::string>{});
  for (const auto& m : j.at("models")) {
    ModelStatistics s;
    s.name = m.at("name");
    s.card = m.at("card");
    s.definitions = m.value("definitions", nlohmann::json::object());
    s.stats = analysis::RunningStats::from_json(m.at("stats"));
    d.models.push_back(std::move(s));
  }
  if (j.contains("cka"))
    for (const auto& c : j["cka"]) d.cka.push_back(analysis::MinibatchCka::from_json(c));
  return d;
}

void DatasetAnalysis::merge(const DatasetAnalysis& other) {
  if (other.models.size() != models.size()) throw std::runtime_error("cannot merge statistics of different model sets");
  for (size_t i = 0; i < models.size(); ++i) {
    if (models[i].name != other.models[i].name)
      throw std::runtime_error("cannot merge statistics: model " + std::to_string(i) + " is '" + models[i].name +
                               "' here and '" + other.models[i].name + "' there");
    models[i].stats.merge(other.models[i].stats);
  }
  if (other.cka.size() != cka.size()) throw std::runtime_error("cannot merge statistics with and without CKA");
  for (size_t i = 0; i < cka.size(); ++i) cka[i].merge(other.cka[i]);
  images += other.images;
  skipped.insert(skipped.end(), other.skipped.begin(), other.skipped.end());
}

}  // namespace vitscope::runtime
