#include "core/runtime/dataset_analysis.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/analysis/attention_distance.h"
#include "core/analysis/attention_entropy.h"
#include "core/analysis/fourier.h"
#include "core/analysis/nmi.h"
#include "core/analysis/representation.h"
#include "core/analysis/rollout.h"
#include "core/io/image.h"

namespace vitscope::runtime {

namespace fs = std::filesystem;

const std::vector<std::string>& dataset_metric_names() {
  static const std::vector<std::string> names = {"attention-distance", "nmi", "entropy", "fourier",
                                                 "svd",                "rollout", "pca", "cka"};
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
          {"effective-rank", "per image (taps): exp(entropy of σ/Σσ) of the L×D patch-token matrix (§3.5, recommended "
                             "definition; not centred)"},
          {"token-cosine-similarity", "per image (taps): mean pairwise cosine similarity of the patch tokens (§3.5)"},
          {"singular-values", "per image (taps, K): singular values of the patch-token matrix (§3.5)"},
          {"cka", "linear CKA, unbiased minibatch estimator (Nguyen et al. 2021), between block outputs (even taps) of "
                  "model 0 and each other model; features = mean of the patch tokens per image"}};
}

// Splits a batch so that captured attentions stay below ~256 MB (ViT-B/16: ~1.9 MB per image
// and block, so 10 images at a time).
int64_t chunk_size(const model::Model& m, int64_t batch, bool attentions) {
  if (!attentions) return batch;
  const auto& c = m.config();
  const double per_image = double(c.depth) * c.num_heads * double(c.num_tokens()) * c.num_tokens() * 4.0;
  return std::clamp<int64_t>(static_cast<int64_t>((256.0 * 1024 * 1024) / per_image), 1, batch);
}

}  // namespace

DatasetAnalysis analyze_dataset(std::vector<model::Model*> models, const std::vector<ImageItem>& images,
                                const DatasetAnalysisOptions& o) {
  if (models.empty()) throw std::invalid_argument("no model to analyse");
  if (images.empty()) throw std::invalid_argument("no images to analyse");
  for (const auto& m : o.metrics)
    if (std::find(dataset_metric_names().begin(), dataset_metric_names().end(), m) == dataset_metric_names().end())
      throw std::invalid_argument("unknown metric '" + m + "'");
  const bool want_cka = wants(o, "cka");
  if (want_cka && models.size() < 2) throw std::invalid_argument("cka compares models: give at least two");
  if (want_cka && o.batch_size < 4) throw std::invalid_argument("cka needs batches of at least 4 images");
  const bool need_attn = wants(o, "attention-distance") || wants(o, "nmi") || wants(o, "entropy") || wants(o, "rollout");
  const bool need_taps = wants(o, "fourier") || wants(o, "svd") || wants(o, "pca") || want_cka;

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

  torch::NoGradGuard no_grad;
  int64_t index = o.first_index;  // global index of the next image (RunningStats image index)
  for (size_t start = 0; start < images.size(); start += o.batch_size) {
    if (o.cancel && o.cancel->is_cancelled()) throw Cancelled();
    // Decode the batch once; every model resizes it to its own input.
    std::vector<torch::Tensor> pixels;
    std::vector<const ImageItem*> items;
    for (size_t i = start; i < std::min(images.size(), start + o.batch_size); ++i) {
      try {
        pixels.push_back(io::load_image(images[i].path));
        items.push_back(&images[i]);
      } catch (const std::exception& e) {
        out.skipped.push_back(e.what());
      }
    }
    if (pixels.empty()) continue;
    const auto B = static_cast<int64_t>(pixels.size());
    std::vector<std::vector<torch::Tensor>> cka_features(models.size());
    for (size_t mi = 0; mi < models.size(); ++mi) {
      auto& m = *models[mi];
      auto& stats = out.models[mi].stats;
      std::vector<torch::Tensor> inputs;
      for (const auto& p : pixels)
        inputs.push_back(io::normalize(io::resize_for_model(p, m.config().image_size, m.card.preprocess), m.card.preprocess));
      auto batch = torch::stack(inputs).to(m.device());
      model::CaptureRequest request;
      if (need_attn) request.attention_blocks = model::CaptureRequest::attentions_only(m.config().depth).attention_blocks;
      if (need_taps) request.taps = model::CaptureRequest::taps_only(m.config().depth).taps;
      const auto chunk = chunk_size(m, B, need_attn);
      std::vector<torch::Tensor> image_vectors;  // per even tap, (B, D), for CKA
      for (int64_t c0 = 0; c0 < B; c0 += chunk) {
        const auto n = std::min(chunk, B - c0);
        model::Capture cap;
        m.encoder->forward_features(batch.narrow(0, c0, n), request, &cap);
        const int64_t first = index + c0;
        if (wants(o, "attention-distance")) stats.add("attention-distance", analysis::attention_distance_table(cap).per_image, first);
        if (wants(o, "nmi")) stats.add("nmi", analysis::nmi_table(cap).per_image, first);
        if (wants(o, "entropy")) stats.add("entropy", analysis::attention_entropy_table(cap).per_image, first);
        if (wants(o, "fourier")) {
          auto f = analysis::fourier_analysis(cap);
          stats.add("delta-log-amplitude", f.per_image_delta, first);
          stats.add("log-amplitude-spectrum", f.per_image_spectrum, first);
        }
        if (wants(o, "svd")) {
          auto g = analysis::token_geometry(cap);
          stats.add("effective-rank", g.effective_rank, first);
          stats.add("token-cosine-similarity", g.mean_cosine_similarity, first);
          stats.add("singular-values", g.singular_values, first);
        }
        if (o.on_picture) {
          for (int64_t b = 0; b < n && first + b < o.max_pictures; ++b) {
            const auto& item = *items[c0 + b];
            if (wants(o, "rollout")) {
              auto r = analysis::attention_rollout(cap);
              auto map = analysis::rollout_map(r.matrix.narrow(0, b, 1), cap.num_prefix_tokens, cap.grid_h, cap.grid_w,
                                               analysis::AttentionQuery::cls())[0];
              o.on_picture(static_cast<int>(mi), item, "rollout", map);
            }
            if (wants(o, "pca")) {
              auto last = cap.patch_tokens(2 * m.config().depth).narrow(0, b, 1);
              o.on_picture(static_cast<int>(mi), item, "pca", analysis::pca_rgb(last, cap.grid_h, cap.grid_w)[0]);
            }
          }
        }
        if (want_cka) {
          std::vector<torch::Tensor> v;
          for (int t = 0; t <= 2 * m.config().depth; t += 2) v.push_back(cap.patch_tokens(t).mean(1));
          if (image_vectors.empty()) image_vectors = v;
          else
            for (size_t k = 0; k < v.size(); ++k) image_vectors[k] = torch::cat({image_vectors[k], v[k]});
        }
      }
      cka_features[mi] = std::move(image_vectors);
    }
    for (size_t j = 1; want_cka && j < models.size(); ++j)
      if (B >= 4) out.cka[j - 1].update(cka_features[0], cka_features[j], index);
    index += B;
    out.images += B;
    if (o.progress) o.progress(static_cast<int64_t>(std::min(images.size(), start + o.batch_size)), images.size());
  }
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

#include "core/io/dataset.h"
#include "core/train/evaluation.h"

namespace vitscope::runtime {

namespace {

// (N, depth, D) mean patch token of every block output, on the CPU.
torch::Tensor depth_features(model::Model& m, const io::ImageDataset& data, const CancelToken* cancel) {
  torch::NoGradGuard no_grad;
  const auto& c = m.config();
  model::CaptureRequest request;
  for (int k = 1; k <= c.depth; ++k) request.taps.push_back(2 * k);
  std::vector<torch::Tensor> out;
  const int64_t batch = 128;
  for (int64_t i = 0; i < data.size(); i += batch) {
    if (cancel && cancel->is_cancelled()) throw Cancelled();
    auto x = data.images.narrow(0, i, std::min(batch, data.size() - i)).to(m.device(), torch::kFloat32) / 255.0;
    if (x.size(-1) != c.image_size)
      x = torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                     .size(std::vector<int64_t>{c.image_size, c.image_size})
                                                     .mode(torch::kBilinear)
                                                     .align_corners(false));
    x = io::normalize(x, m.card.preprocess);
    model::Capture cap;
    m.encoder->forward_features(x, request, &cap);
    std::vector<torch::Tensor> per_depth;
    for (int k = 1; k <= c.depth; ++k) per_depth.push_back(cap.patch_tokens(2 * k).mean(1));
    out.push_back(torch::stack(per_depth, 1).to(torch::kCPU));
  }
  return torch::cat(out);
}

}  // namespace

DepthProbe probe_per_depth(model::Model& m, const io::ImageDataset& train, const io::ImageDataset& test,
                           int probe_epochs, const CancelToken* cancel) {
  if (train.num_classes() < 2) throw std::invalid_argument("linear probing needs a labelled training set with 2+ classes");
  auto ftrain = depth_features(m, train, cancel), ftest = depth_features(m, test, cancel);
  auto ltrain = train.labels.to(torch::kCPU), ltest = test.labels.to(torch::kCPU);
  DepthProbe p;
  train::LinearProbeOptions lp;
  lp.epochs = probe_epochs;
  for (int64_t k = 0; k < ftrain.size(1); ++k) {
    if (cancel && cancel->is_cancelled()) throw Cancelled();
    auto a = ftrain.select(1, k).contiguous(), b = ftest.select(1, k).contiguous();
    p.linear_top1.push_back(train::linear_probe(a, ltrain, b, ltest, train.num_classes(), lp).test_top1);
    p.knn_top1.push_back(train::knn_top1(a, ltrain, b, ltest, train.num_classes()));
  }
  p.protocol = "feature: mean of the patch tokens of block k's output (residual stream before the final norm); "
               "linear: standardised features, AdamW lr 1e-3, " + std::to_string(probe_epochs) +
               " epochs (train::linear_probe); kNN: k = 20, cosine, T = 0.07. The paper's protocol is unverified "
               "(paper-analyses.md §3.9)";
  return p;
}

}  // namespace vitscope::runtime
