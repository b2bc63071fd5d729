#include "core/runtime/probes.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "core/io/dataset.h"
#include "core/io/image.h"

namespace vitscope::runtime {

namespace fs = std::filesystem;

namespace probes_detail {

// Image files directly inside `dir`, sorted by name.
std::vector<fs::path> image_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && io::has_image_extension(e.path().string())) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> sub_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// <dir>/<class>/*.png as labelled images; empty when the folder does not exist.
std::vector<LabelledImage> labelled_images(const fs::path& dir) {
  std::vector<LabelledImage> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& cls : sub_folders(dir))
    for (const auto& f : image_files(cls)) out.push_back({f.string(), cls.filename().string()});
  return out;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open");
  try {
    nlohmann::json j;
    f >> j;
    return j;
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": invalid JSON (" + e.what() + ")");
  }
}

void check_cancel(const CancelToken* cancel) {
  if (cancel && cancel->is_cancelled()) throw Cancelled();
}

// Softmax outputs of the model's classifier for (N, 3, S, S) [0, 1] inputs at its size.
torch::Tensor class_probabilities(model::Model& model, const torch::Tensor& images, int batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (int64_t start = 0; start < images.size(0); start += batch_size) {
    const int64_t n = std::min<int64_t>(batch_size, images.size(0) - start);
    const auto x = io::normalize(images.narrow(0, start, n), model.card.preprocess).to(model.device());
    out.push_back(torch::softmax(model.encoder->forward(x), 1).to(torch::kCPU, torch::kFloat32));
  }
  return torch::cat(out);
}

// Decoded files at the model's input size, (N, 3, S, S).
torch::Tensor load_model_sized(const std::vector<std::string>& paths, const model::Model& model,
                               const std::function<void(int64_t)>& after_each) {
  std::vector<torch::Tensor> images;
  for (const auto& p : paths) {
    images.push_back(model_sized(io::load_image(p).unsqueeze(0), model)[0]);
    if (after_each) after_each(static_cast<int64_t>(images.size()));
  }
  return torch::stack(images);
}

// Copies every tensor of `from` into the same-named tensor of `to`, except names starting with `except`.
void copy_tensors(const model::Model& from, model::Model& to, const std::string& except) {
  std::map<std::string, torch::Tensor> source;
  for (const auto& [name, t] : from.named_tensors()) source[name] = t;
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : to.named_tensors()) {
    if (!except.empty() && name.rfind(except, 0) == 0) continue;
    const auto it = source.find(name);
    if (it == source.end()) throw std::logic_error("copy_tensors: " + name + " has no counterpart");
    t.copy_(it->second);
  }
}

std::string describe_head(const model::Model& model) {
  const auto& names = model.card.class_names;
  std::string text = std::to_string(model.config().num_classes) + "-way head";
  if (names.empty()) return text;
  text += ": ";
  for (size_t i = 0; i < names.size() && i < 10; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > 10) text += ", …";
  return text;
}

}  // namespace probes_detail

// ---------------------------------------------------------------------------------------------
// Stimuli

std::string texture_class_of(const std::string& file_name) {
  const auto stem = fs::path(file_name).stem().string();
  const auto dash = stem.rfind('-');
  if (dash == std::string::npos || dash + 1 >= stem.size())
    throw std::invalid_argument(file_name + ": not a cue-conflict name (<shape><i>-<texture><j>.png)");
  std::string texture;
  for (char c : stem.substr(dash + 1))
    if (!std::isdigit(static_cast<unsigned char>(c))) texture += c;
  if (texture.empty()) throw std::invalid_argument(file_name + ": no texture class after the '-'");
  return texture;
}

CueConflictStimuli read_cue_conflict_stimuli(const std::string& dir) {
  using namespace probes_detail;
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw std::runtime_error(dir + ": not a folder");
  const fs::path folder = fs::is_directory(root / "stimuli" / "cue-conflict") ? root / "stimuli" / "cue-conflict" : root;
  CueConflictStimuli s;
  s.folder = folder.string();
  for (const auto& cls : sub_folders(folder))
    for (const auto& f : image_files(cls))
      s.images.push_back({f.string(), cls.filename().string(), texture_class_of(f.filename().string())});
  if (s.images.empty())
    throw std::runtime_error(dir + ": no cue-conflict images (expected <shape>/<shape><i>-<texture><j>.png, or "
                                   "stimuli/cue-conflict/ inside)");
  s.silhouettes = labelled_images(folder.parent_path() / "filled-silhouettes");
  s.edges = labelled_images(folder.parent_path() / "edges");
  for (const auto& candidate : {root / "imagenet16_categories.json", folder / "imagenet16_categories.json",
                                folder.parent_path().parent_path() / "imagenet16_categories.json"})
    if (fs::is_regular_file(candidate)) {
      s.imagenet16_mapping = candidate.string();
      break;
    }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Class mappings

std::string bundled_mapping_dir() {
  const char* env = std::getenv("VITSCOPE_RESOURCES");
  if (env && *env) return (fs::path(env) / "probes").string();
  // An installed program (/usr/bin/vitscope-cli → /usr/share/vitscope/probes), as ui/resource_paths.
  std::error_code ec;
  const auto installed = fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "share/vitscope/probes";
  if (!ec && fs::is_directory(installed)) return installed.string();
  return (fs::path(VITSCOPE_SOURCE_RESOURCES) / "probes").string();
}

analysis::CategoryMapping class_mapping_for(const model::Model& model, const std::string& mapping_file,
                                            const CueConflictStimuli* stimuli) {
  using namespace probes_detail;
  const int num_classes = model.config().num_classes;
  if (num_classes <= 0)
    throw std::runtime_error(model.card.name + " has no classifier head: train a linear one on labelled images first");
  const auto& names = model.card.class_names;
  auto read = [&](const std::string& path) {
    return analysis::category_mapping_from_json(read_json(path), names, num_classes, path);
  };
  if (!mapping_file.empty()) return read(mapping_file);
  if (num_classes == 1000) {
    if (stimuli && !stimuli->imagenet16_mapping.empty()) return read(stimuli->imagenet16_mapping);
    throw std::runtime_error("a 1000-way head needs ImageNet's 16-category mapping (imagenet16_categories.json beside "
                             "the stimuli, or give it as the mapping file)");
  }
  const fs::path dir = bundled_mapping_dir();
  if (fs::is_directory(dir)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const auto j = read_json(f.string());
      if (j.contains("head_classes") && j["head_classes"] == nlohmann::json(names)) return read(f.string());
    }
  }
  std::string classes;
  for (size_t i = 0; i < names.size(); ++i) classes += (i ? ", " : "") + names[i];
  throw std::runtime_error("no class mapping for a head with the classes [" + classes + "]: write one like " +
                           (dir / "cifar10_to_cue_conflict.json").string() + " and give it as the mapping file");
}

// ---------------------------------------------------------------------------------------------
// Linear head

nlohmann::json HeadTrainingResult::record() const {
  return {{"train_top1", train_top1},
          {"test_top1", test_top1},
          {"train_images", train_images},
          {"test_images", test_images},
          {"test_data", test_source},
          {"classes", class_names},
          {"skipped_images", skipped.size()},
          {"feature", train::feature_readout_name(train::FeatureReadout::HeadInput)},
          {"protocol", "linear probe on frozen features (train::linear_probe: standardised features, AdamW, cosine "
                       "schedule), standardisation folded into the head"}};
}

void install_classifier(model::Model& model, const torch::Tensor& weight, const torch::Tensor& bias,
                        const std::vector<std::string>& class_names) {
  const auto classes = weight.size(0);
  if (weight.dim() != 2 || weight.size(1) != model.config().embed_dim || bias.numel() != classes ||
      static_cast<int64_t>(class_names.size()) != classes)
    throw std::invalid_argument("classifier must be (classes, embed_dim) with one bias and one name per class");
  auto card = model.card;
  card.vit.num_classes = static_cast<int>(classes);
  card.class_names = class_names;
  model::SkipParameterInit every_tensor_is_copied_below;
  auto fresh = model::Model::create(card);
  fresh.to(model.device());
  probes_detail::copy_tensors(model, fresh, "encoder.head.");
  torch::NoGradGuard no_grad;
  fresh.encoder->head->weight.copy_(weight);
  fresh.encoder->head->bias.copy_(bias.reshape({classes}));
  fresh.eval();
  model = std::move(fresh);
}

model::Model clone_model(const model::Model& model) {
  model::SkipParameterInit every_tensor_is_copied_below;
  auto copy = model::Model::create(model.card);
  copy.to(model.device());
  probes_detail::copy_tensors(model, copy, "");
  copy.eval();
  return copy;
}

HeadTrainingResult train_linear_head(model::Model& model, const std::string& data, const HeadTrainingOptions& o,
                                     const ProbeProgress& progress, const CancelToken* cancel) {
  using namespace probes_detail;
  auto report = [&](const std::string& stage, int64_t done, int64_t total) {
    if (progress) progress(stage, done, total);
    check_cancel(cancel);
  };
  report("reading " + fs::path(data).filename().string(), 0, 0);
  io::DatasetOptions options;
  options.image_size = model.config().image_size;
  options.max_per_class = o.max_per_class;
  auto train = io::load_dataset(data, options);
  io::ImageDataset test;
  HeadTrainingResult r;
  r.skipped = train.skipped;
  const bool has_splits = train.source.size() > 6 && train.source.compare(train.source.size() - 6, 6, ":train") == 0;
  if (has_splits) {
    options.split = "test";
    options.max_per_class = o.max_test_per_class;
    test = io::load_dataset(data, options);
    r.skipped.insert(r.skipped.end(), test.skipped.begin(), test.skipped.end());
    if (test.class_names != train.class_names) throw std::runtime_error(data + ": train and test have different classes");
    r.test_source = test.source;
  } else {  // no test split: every 10th image is held out
    const auto index = torch::arange(train.size(), torch::kInt64);
    const auto held = index.remainder(10).eq(9);
    test = train;
    test.images = train.images.index({held});
    test.labels = train.labels.index({held});
    train.images = train.images.index({held.logical_not()});
    train.labels = train.labels.index({held.logical_not()});
    r.test_source = train.source + " (every 10th image held out)";
  }
  auto features = [&](const io::ImageDataset& set, const std::string& stage) {
    std::vector<torch::Tensor> parts;
    const int64_t chunk = 8LL * o.batch_size;
    for (int64_t start = 0; start < set.size(); start += chunk) {
      report(stage, start, set.size());
      io::ImageDataset part;
      const int64_t n = std::min(chunk, set.size() - start);
      part.images = set.images.narrow(0, start, n);
      part.labels = set.labels.narrow(0, start, n);
      parts.push_back(train::extract_features(model, part, train::FeatureReadout::HeadInput, o.batch_size));
    }
    report(stage, set.size(), set.size());
    return torch::cat(parts);
  };
  const auto f_train = features(train, "train features");
  const auto f_test = features(test, "test features");
  report("training the head", 0, 0);
  const auto probe = train::linear_probe(f_train, train.labels, f_test, test.labels, train.num_classes(), o.probe);
  install_classifier(model, probe.weight, probe.bias, train.class_names);
  r.train_top1 = probe.train_top1;
  r.test_top1 = probe.test_top1;
  r.train_images = train.size();
  r.test_images = test.size();
  r.class_names = train.class_names;
  auto record = r.record();
  record["train_data"] = train.source;
  record["epochs"] = o.probe.epochs;
  record["lr"] = o.probe.lr;
  record["weight_decay"] = o.probe.weight_decay;
  record["batch_size"] = o.probe.batch_size;
  model.card.metrics["classifier_head"] = record;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Shape bias

nlohmann::json ShapeBiasMeasurement::to_json() const {
  auto overall = analysis::to_json(result.overall);
  overall["excluded_same_class"] = result.excluded_same_class;
  overall["excluded_unmapped"] = result.excluded_unmapped;
  nlohmann::json per_category = nlohmann::json::array();
  for (const auto& [category, counts] : result.per_category) {
    auto c = analysis::to_json(counts);
    c["category"] = category;
    per_category.push_back(c);
  }
  auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"classifier", classifier},
                      {"mapping", {{"source", mapping.source}, {"categories", mapping.categories}}},
                      {"stimuli", trials.size()},
                      {"overall", overall},
                      {"per_category", per_category},
                      {"silhouette_accuracy", optional(silhouette_accuracy)},
                      {"silhouettes_counted", silhouettes},
                      {"edge_accuracy", optional(edge_accuracy)},
                      {"edges_counted", edges},
                      {"definition", result.metadata}};
  if (!cutoffs.empty()) {
    nlohmann::json low = nlohmann::json::array(), high = nlohmann::json::array();
    for (size_t i = 0; i < cutoffs.size(); ++i) {
      low.push_back(analysis::to_json(low_pass[i]));
      high.push_back(analysis::to_json(high_pass[i]));
    }
    j["frequency"] = {{"cutoffs_fraction_of_nyquist", cutoffs}, {"low_pass", low}, {"high_pass", high},
                      {"definition", "decisions on low-pass / high-pass filtered stimuli at the model's input size "
                                     "(analysis/frequency_probe.h), counted like the unfiltered ones"}};
  }
  return j;
}

ShapeBiasMeasurement measure_shape_bias(model::Model& model, const CueConflictStimuli& stimuli,
                                        const analysis::CategoryMapping& mapping, const ShapeBiasOptions& o,
                                        const ProbeProgress& progress, const CancelToken* cancel) {
  using namespace probes_detail;
  if (model.config().num_classes <= 0) throw std::runtime_error(model.card.name + " has no classifier head");
  model.eval();
  auto report = [&](const std::string& stage, int64_t done, int64_t total) {
    if (progress) progress(stage, done, total);
    check_cancel(cancel);
  };
  auto decide = [&](const torch::Tensor& images) {
    return analysis::category_decisions(class_probabilities(model, images, o.batch_size), mapping);
  };
  ShapeBiasMeasurement m;
  m.classifier = describe_head(model);
  m.mapping = mapping;
  for (const auto& s : stimuli.images) m.paths.push_back(s.path);
  const auto total = static_cast<int64_t>(m.paths.size());
  const auto images = load_model_sized(m.paths, model, [&](int64_t done) { report("reading stimuli", done, total); });
  auto trials_for = [&](const torch::Tensor& decisions) {
    std::vector<analysis::CueConflictTrial> trials;
    for (int64_t i = 0; i < total; ++i)
      trials.push_back({stimuli.images[i].shape, stimuli.images[i].texture, mapping.categories[decisions[i].item<int64_t>()]});
    return trials;
  };
  report("classifying stimuli", 0, total);
  m.trials = trials_for(decide(images));
  m.result = analysis::shape_bias(m.trials, mapping.categories);

  // Silhouettes and edges: plain accuracy over the classes the mapping covers.
  auto accuracy = [&](const std::vector<LabelledImage>& set, int64_t& counted, const std::string& stage) -> std::optional<double> {
    std::vector<std::string> paths;
    std::vector<int> labels;
    for (const auto& s : set)
      if (const int c = mapping.index_of(s.label); c >= 0) paths.push_back(s.path), labels.push_back(c);
    counted = static_cast<int64_t>(paths.size());
    if (paths.empty()) return std::nullopt;
    report(stage, 0, counted);
    const auto decisions = decide(load_model_sized(paths, model, {}));
    int64_t right = 0;
    for (int64_t i = 0; i < counted; ++i) right += decisions[i].item<int64_t>() == labels[i];
    return static_cast<double>(right) / static_cast<double>(counted);
  };
  m.silhouette_accuracy = accuracy(stimuli.silhouettes, m.silhouettes, "silhouettes");
  m.edge_accuracy = accuracy(stimuli.edges, m.edges, "edge images");

  m.cutoffs = o.frequency_cutoffs;
  for (size_t i = 0; i < m.cutoffs.size(); ++i) {
    report("filtered stimuli", static_cast<int64_t>(i), static_cast<int64_t>(m.cutoffs.size()));
    for (auto band : {analysis::FrequencyBand::LowPass, analysis::FrequencyBand::HighPass}) {
      const auto counts = analysis::shape_bias(trials_for(decide(analysis::frequency_filtered(images, band, m.cutoffs[i]))),
                                               mapping.categories).overall;
      (band == analysis::FrequencyBand::LowPass ? m.low_pass : m.high_pass).push_back(counts);
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Label-free and frequency probes

torch::Tensor probe_image(const torch::Tensor& image) {
  model::Preprocess square;  // shorter side to the size, centre crop: any image becomes a square
  square.mode = model::Preprocess::Mode::ResizeShorterCenterCrop;
  square.crop_fraction = 1.0;
  return io::resize_for_model(image, kProbeImageSize, square);
}

torch::Tensor model_sized(const torch::Tensor& images, const model::Model& model) {
  model::Preprocess plain = model.card.preprocess;  // resize, never crop (§5 pitfall 14)
  plain.mode = model::Preprocess::Mode::Resize;
  const int size = model.config().image_size;
  if (images.size(2) == size && images.size(3) == size) return images;
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < images.size(0); ++i) out.push_back(io::resize_for_model(images[i], size, plain));
  return torch::stack(out);
}

analysis::LayerFeatures block_features(model::Model& model, int64_t chunk) {
  return analysis::in_chunks(
      [&model](const torch::Tensor& images) {
        torch::NoGradGuard no_grad;
        model.eval();
        const auto x = io::normalize(model_sized(images, model), model.card.preprocess).to(model.device());
        const int depth = model.config().depth;
        model::CaptureRequest request;
        for (int k = 1; k <= depth; ++k) request.taps.push_back(2 * k);
        model::Capture capture;
        model.encoder->forward_features(x, request, &capture);
        std::vector<torch::Tensor> out;
        for (int k = 1; k <= depth; ++k) out.push_back(capture.patch_tokens(2 * k).mean(1).to(torch::kCPU, torch::kFloat32));
        return out;
      },
      chunk);
}

}  // namespace vitscope::runtime
