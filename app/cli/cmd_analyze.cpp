// vitscope-cli analyze: the paper's measurements for one or more models over images or a data
// set — JSON + CSV + curve figures (one line per model, layer on the x axis), mergeable stats,
// per-image pictures, token t-SNE, linear probing per depth and frequency-noise robustness.
// vitscope-cli merge-stats: combines stats.json files of runs over parts of a data set.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "app/cli/common.h"
#include "core/analysis/frequency_filter.h"
#include "core/io/dataset.h"
#include "core/io/image.h"
#include "core/runtime/dataset_analysis.h"
#include "core/runtime/depth_probe.h"
#include "core/runtime/explorer.h"
#include "core/runtime/noise_robustness.h"
#ifdef VITSCOPE_HAVE_FIGURES
#include "ui/plots/curve_figure.h"
#include "ui/plots/model_colors.h"
#endif

namespace vitscope::cli {
namespace {

namespace fs = std::filesystem;

// How each per-image statistic is drawn: per block (x = 1..depth) or per depth (even taps).
struct CurveSpec {
  const char* stat;
  const char* title;
  const char* y_label;
  bool per_block;   // values (blocks[, heads]) vs (taps)
  double y_min, y_max;
  // Per-tap statistic of the MAE decoder drawn as a second segment after the encoder's (§3.10).
  const char* decoder_stat;
};
const CurveSpec kCurves[] = {
    {"attention-distance", "Mean attention distance", "distance (px of the input)", true, 0, 0, nullptr},
    {"nmi", "Normalized mutual information", "NMI", true, 0, 0.6, nullptr},
    {"entropy", "Attention entropy", "entropy (nats)", true, 0, 0, nullptr},
    {"delta-log-amplitude", "Relative log amplitude of high frequencies", "ΔLog amplitude", false, 0, 0,
     "decoder-delta-log-amplitude"},
    {"effective-rank", "Effective rank of the patch tokens", "effective rank", false, 0, 0, nullptr},
    {"token-cosine-similarity", "Mean cosine similarity of patch tokens", "cosine similarity", false, 0, 0, nullptr},
};

std::string safe_name(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

// A CSV number; NaN (a statistic without a valid image) always as "nan", whatever its sign bit.
std::string csv_value(double v) {
  if (std::isnan(v)) return "nan";
  std::ostringstream s;
  s << v;
  return s.str();
}

bool is_archive(const std::string& p) { return p.size() > 7 && p.substr(p.size() - 7) == ".tar.gz"; }

bool has_metric(const analysis::RunningStats& stats, const std::string& metric) {
  const auto names = stats.metrics();
  return std::find(names.begin(), names.end(), metric) != names.end();
}

// A figure line without its NaN points: a model whose values are all invalid draws no line at
// all rather than a line at 0 (NaN policy: invalid images are reported, never plotted).
#ifdef VITSCOPE_HAVE_FIGURES
std::vector<std::string> objectives_of(const std::vector<model::Model*>& models) {
  std::vector<std::string> objectives;
  for (const auto* m : models) objectives.push_back(model::objective_name(m->card.objective));
  return objectives;
}

ui::CurveSeries finite_series(const std::string& name, const std::vector<double>& x, const std::vector<double>& y,
                              const std::string& color, bool dashed = false) {
  ui::CurveSeries s{name, {}, {}, color, dashed};
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(y[i])) {
      s.x.push_back(x[i]);
      s.y.push_back(y[i]);
    }
  if (s.x.empty()) s.name += " (no valid image)";
  return s;
}
#endif

// Per-layer curve of a statistic: per-head means averaged over heads last (paper-analyses.md
// §5); per-tap statistics at their even taps, tap 2k = depth first_depth + k (§3.6 step 8).
std::vector<double> layer_curve(const analysis::RunningStats& stats, const std::string& stat, bool per_block,
                                int first_depth, std::vector<double>& x) {
  auto mean = stats.mean(stat);
  torch::Tensor y;
  x.clear();
  if (per_block) {
    y = (mean.dim() == 2 ? mean.mean(1) : mean).contiguous();
    for (int64_t k = 0; k < y.size(0); ++k) x.push_back(static_cast<double>(k + 1));
  } else {
    y = mean.slice(0, 0, mean.size(0), 2).contiguous();
    for (int64_t k = 0; k < y.size(0); ++k) x.push_back(static_cast<double>(first_depth + k));
  }
  return std::vector<double>(y.data_ptr<double>(), y.data_ptr<double>() + y.numel());
}

int encoder_depth(const runtime::ModelStatistics& m) { return m.card.at("architecture").at("vit").at("depth"); }

// §3.6 step 6 over the images: at every depth, the relative log amplitude along the spectrum's
// diagonal from DC outwards (the curves over frequency of the paper's Fig. 9), frequency in units
// of π per axis. The last frequency of a depth is its delta-log-amplitude. The figure shows each
// model's last depth (the encoder's output), as the app's Spectrum panel does at the last block.
void write_frequency_profiles(const runtime::DatasetAnalysis& result, const fs::path& out, bool figures,
                              const std::vector<std::string>& colors) {
  std::ostringstream csv;
  csv << "model,depth,frequency_pi,mean,std,count\n";
  bool any = false;
#ifdef VITSCOPE_HAVE_FIGURES
  ui::CurveFigure fig{"Relative log amplitude at the last depth", "frequency along the diagonal (× π per axis)",
                      "ΔLog amplitude", {}, false, 0, 0};
#endif
  for (size_t model_index = 0; model_index < result.models.size(); ++model_index) {
    const auto& m = result.models[model_index];
    if (!has_metric(m.stats, "relative-log-amplitude") || !has_metric(m.stats, "log-amplitude-spectrum")) continue;
    any = true;
    const auto mean = m.stats.mean("relative-log-amplitude"), sd = m.stats.standard_deviation("relative-log-amplitude");
    const auto grid = m.stats.mean("log-amplitude-spectrum").size(1);
    const auto count = m.stats.count("relative-log-amplitude");
    std::vector<double> x, y;
    for (int64_t tap = 0; tap < mean.size(0); tap += 2) {
      x.clear();
      y.clear();
      for (int64_t k = 0; k < mean.size(1); ++k) {
        x.push_back(runtime::diagonal_frequency_pi(k, grid));
        y.push_back(mean[tap][k].item<double>());
        csv << '"' << m.name << "\"," << tap / 2 << ',' << csv_value(x.back()) << ',' << csv_value(y.back()) << ','
            << csv_value(sd[tap][k].item<double>()) << ',' << count << "\n";
      }
    }
#ifdef VITSCOPE_HAVE_FIGURES
    fig.series.push_back(finite_series(m.name, x, y, colors[model_index]));  // x, y: the last depth
#endif
  }
  if (!any) return;
  write_text(out / "relative-log-amplitude.csv", csv.str());
#ifdef VITSCOPE_HAVE_FIGURES
  if (figures) {
    ui::save_curve_figure(fig, (out / "relative-log-amplitude.png").string());
    ui::save_curve_figure(fig, (out / "relative-log-amplitude.svg").string());
  }
#else
  (void)figures;
  (void)colors;
#endif
}

void write_outputs(const runtime::DatasetAnalysis& result, const fs::path& out, bool figures,
                   const nlohmann::json& run_info) {
  write_text(out / "stats.json", result.to_json().dump() + "\n");
  nlohmann::json summary = {{"images", result.images}, {"skipped", result.skipped}, {"models", nlohmann::json::array()}};
  summary.update(run_info);
  std::vector<std::string> colors;  // each model's colour in the app (figures only)
#ifdef VITSCOPE_HAVE_FIGURES
  std::vector<std::string> objectives;
  for (const auto& m : result.models) objectives.push_back(m.card.value("objective", ""));
  colors = ui::model_colors(objectives);
#endif
  for (const auto& spec : kCurves) {
    std::ostringstream csv;
    csv << "model,x,head,mean,std,count\n";
    bool any = false;
#ifdef VITSCOPE_HAVE_FIGURES
    ui::CurveFigure fig{spec.title, spec.per_block ? "block" : "depth", spec.y_label, {}, true, spec.y_min, spec.y_max};
#endif
    for (size_t model_index = 0; model_index < result.models.size(); ++model_index) {
      const auto& m = result.models[model_index];
      if (!has_metric(m.stats, spec.stat)) continue;
      any = true;
      std::vector<double> x;
      auto y = layer_curve(m.stats, spec.stat, spec.per_block, 0, x);
      auto mean = m.stats.mean(spec.stat), sd = m.stats.standard_deviation(spec.stat);
      const auto count = m.stats.count(spec.stat);
      if (spec.per_block && mean.dim() == 2) {
        for (int64_t k = 0; k < mean.size(0); ++k)
          for (int64_t h = 0; h < mean.size(1); ++h)
            csv << '"' << m.name << "\"," << k + 1 << ',' << h << ',' << csv_value(mean[k][h].item<double>()) << ','
                << csv_value(sd[k][h].item<double>()) << ',' << count << "\n";
      }
      for (size_t i = 0; i < x.size(); ++i)
        csv << '"' << m.name << "\"," << x[i] << ",mean," << csv_value(y[i]) << ",," << count << "\n";
#ifdef VITSCOPE_HAVE_FIGURES
      fig.series.push_back(finite_series(m.name, x, y, colors[model_index]));
#endif
      if (spec.decoder_stat && has_metric(m.stats, spec.decoder_stat)) {
        const auto decoder_name = m.name + " (decoder)";
        y = layer_curve(m.stats, spec.decoder_stat, false, encoder_depth(m), x);
        const auto decoder_count = m.stats.count(spec.decoder_stat);
        for (size_t i = 0; i < x.size(); ++i)
          csv << '"' << decoder_name << "\"," << x[i] << ",mean," << csv_value(y[i]) << ",," << decoder_count << "\n";
#ifdef VITSCOPE_HAVE_FIGURES
        fig.series.push_back(finite_series(decoder_name, x, y, colors[model_index], /*dashed=*/true));
#endif
      }
    }
    if (!any) continue;
    write_text(out / (std::string(spec.stat) + ".csv"), csv.str());
#ifdef VITSCOPE_HAVE_FIGURES
    if (figures) {
      ui::save_curve_figure(fig, (out / (std::string(spec.stat) + ".png")).string());
      ui::save_curve_figure(fig, (out / (std::string(spec.stat) + ".svg")).string());
    }
#endif
  }
  write_frequency_profiles(result, out, figures, colors);
  for (size_t i = 0; i < result.models.size(); ++i) {
    const auto& m = result.models[i];
    nlohmann::json jm = {{"name", m.name}, {"objective", m.card.value("objective", "")}, {"metrics", nlohmann::json::object()}};
    for (const auto& name : m.stats.metrics()) {
      auto to_json_tensor = [](const torch::Tensor& t) {
        auto c = t.contiguous();
        return nlohmann::json{{"shape", c.sizes().vec()},
                              {"values", std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel())}};
      };
      jm["metrics"][name] = {{"mean", to_json_tensor(m.stats.mean(name))},
                             {"std", to_json_tensor(m.stats.standard_deviation(name))},
                             {"count", m.stats.count(name)},
                             {"invalid_images", m.stats.invalid_images(name)},
                             {"definition", m.definitions.value(name, "")}};
    }
    summary["models"].push_back(jm);
  }
  for (size_t j = 0; j < result.cka.size(); ++j) {
    auto matrix = result.cka[j].result().to(torch::kFloat64).contiguous();
    std::ostringstream csv;
    csv << "depth_a\\depth_b";
    for (int64_t b = 0; b < matrix.size(1); ++b) csv << ',' << b;
    csv << "\n";
    for (int64_t a = 0; a < matrix.size(0); ++a) {
      csv << a;
      for (int64_t b = 0; b < matrix.size(1); ++b) csv << ',' << matrix[a][b].item<double>();
      csv << "\n";
    }
    const auto file = "cka_" + safe_name(result.models[0].name) + "_vs_" + safe_name(result.models[j + 1].name) + ".csv";
    write_text(out / file, csv.str());
    summary["cka"].push_back({{"a", result.models[0].name}, {"b", result.models[j + 1].name}, {"file", file},
                              {"minibatches", result.cka[j].num_minibatches()}, {"metadata", result.cka[j].metadata()}});
  }
  write_text(out / "metrics.json", summary.dump(2) + "\n");
}

// NaN policy: images whose activations are not finite are left out of every mean; say so.
void report_invalid_images(const runtime::DatasetAnalysis& result) {
  for (const auto& m : result.models)
    for (const auto& metric : m.stats.metrics()) {
      const auto& invalid = m.stats.invalid_images(metric);
      if (invalid.empty()) continue;
      std::cerr << "warning: " << m.name << ": " << invalid.size() << " of " << invalid.size() + m.stats.count(metric)
                << " images have NaN/Inf values in " << metric
                << " (left out of the means, not plotted; indices under invalid_images in metrics.json)\n";
    }
}

// §3.4 outputs: tsne_<model>.csv (x, y, image, label) and a scatter coloured by class (by image
// without labels).
nlohmann::json write_tsne(const runtime::DatasetAnalysis& result, const std::vector<std::string>& class_names,
                          const fs::path& out, bool figures) {
  nlohmann::json summary = nlohmann::json::array();
  for (size_t mi = 0; mi < result.tsne.size(); ++mi) {
    const auto& t = result.tsne[mi];
    const auto& name = result.models[mi].name;
    if (!t.left_out.empty())
      std::cerr << "warning: tsne: " << name << ": " << t.left_out.size()
                << " images left out (NaN/Inf tokens at tap " << t.tap << ")\n";
    if (!t.embedding.defined()) {
      summary.push_back({{"model", name}, {"tap", t.tap}, {"left_out_images", t.left_out},
                         {"error", "fewer than two images with finite tokens: no t-SNE"}});
      continue;
    }
    auto label_name = [&](int label) {
      return label >= 0 && label < static_cast<int>(class_names.size()) ? class_names[label] : std::string();
    };
    const auto e = t.embedding.to(torch::kDouble).contiguous();
    const auto* xy = e.data_ptr<double>();
    std::ostringstream csv;
    csv << "x,y,image,label\n";
    for (int64_t i = 0; i < e.size(0); ++i)
      csv << xy[2 * i] << ',' << xy[2 * i + 1] << ',' << t.image_index[i] << ",\"" << label_name(t.label[i]) << "\"\n";
    const auto stem = "tsne_" + safe_name(name);
    write_text(out / (stem + ".csv"), csv.str());
#ifdef VITSCOPE_HAVE_FIGURES
    if (figures) {
      const bool by_class = std::all_of(t.label.begin(), t.label.end(), [](int l) { return l >= 0; });
      ui::ScatterFigure fig{"Token t-SNE, " + name + ", tap " + std::to_string(t.tap), "t-SNE 1", "t-SNE 2", {}};
      std::map<int64_t, size_t> series_of;  // class (or image) -> series
      for (int64_t i = 0; i < e.size(0); ++i) {
        const int64_t key = by_class ? t.label[i] : t.image_index[i];
        auto [it, inserted] = series_of.try_emplace(key, fig.series.size());
        if (inserted)
          fig.series.push_back({by_class ? label_name(t.label[i]) : "image " + std::to_string(key), {}, {}});
        fig.series[it->second].x.push_back(xy[2 * i]);
        fig.series[it->second].y.push_back(xy[2 * i + 1]);
      }
      ui::save_scatter_figure(fig, (out / (stem + ".png")).string());
    }
#endif
    nlohmann::json metadata(t.metadata);
    summary.push_back({{"model", name}, {"tap", t.tap}, {"file", stem + ".csv"}, {"points", e.size(0)},
                       {"kl_divergence", t.kl_divergence}, {"left_out_images", t.left_out}, {"metadata", metadata}});
  }
  return summary;
}

// Per-image pictures go to images/<model>/<name>_<kind>.png, <name> being the image's path below
// the --images folder (or its file name), so that equal names in different class folders differ.
struct PictureWriter {
  fs::path out;
  std::optional<fs::path> images_root;
  bool figures = true;
  const runtime::DatasetAnalysisOptions& options;  // block and query of the attention maps

  fs::path path_for(const std::string& model, const runtime::ImageItem& item, const std::string& kind,
                     const std::string& extension) const {
    auto name = images_root ? fs::relative(item.path, *images_root).replace_extension().string()
                            : fs::path(item.path).stem().string();
    const auto dir = out / "images" / safe_name(model);
    fs::create_directories(dir);
    return dir / (safe_name(name) + "_" + kind + extension);
  }

  void operator()(const std::string& model, const runtime::ImageItem& item, const std::string& kind,
                  const torch::Tensor& picture) const {
    if (kind.rfind("attention-", 0) == 0) return attention_maps(model, item, kind, picture);
    // Grids are tiny (8×8 for the bundled models): nearest-neighbour upscale to ≥ 128 px.
    auto t = picture.dim() == 2 ? (picture - picture.min()) / (picture.max() - picture.min()).clamp_min(1e-12)
                                : picture;
    t = t.dim() == 2 ? t.unsqueeze(0).expand({3, -1, -1}) : t.permute({2, 0, 1});
    const auto scale = std::max<int64_t>(1, 128 / t.size(1));
    t = t.repeat_interleave(scale, 1).repeat_interleave(scale, 2);
    io::save_image(t, path_for(model, item, kind, ".png").string());
  }

  // §3.1 maps (heads + 1, g, g) — every head, then their mean: the raw values as CSV (head, row,
  // col, weight) and, with figures, a PNG grid in plasma, each map scaled to its own range.
  void attention_maps(const std::string& model, const runtime::ImageItem& item, const std::string& kind,
                      const torch::Tensor& maps) const {
    const auto m = maps.to(torch::kCPU, torch::kFloat).contiguous();
    const auto heads = m.size(0) - 1, rows = m.size(1), cols = m.size(2);
    auto head_name = [&](int64_t h) { return h < heads ? std::to_string(h) : std::string("mean"); };
    std::ostringstream csv;
    csv << "head,row,col,weight\n";
    const auto* v = m.data_ptr<float>();
    for (int64_t h = 0; h <= heads; ++h)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) csv << head_name(h) << ',' << r << ',' << c << ',' << v[(h * rows + r) * cols + c] << "\n";
    write_text(path_for(model, item, kind, ".csv"), csv.str());
#ifdef VITSCOPE_HAVE_FIGURES
    if (figures) {
      ui::HeatmapGridFigure fig;
      const int block = options.attention_block;  // 0-based; titles count blocks from 1 like the curves
      fig.title = model + ", " + (block < 0 ? std::string("last block") : "block " + std::to_string(block + 1)) + ": ";
      if (kind == "attention-cls") {
        fig.title += "CLS attention";
      } else {
        std::tie(fig.marker_row, fig.marker_col) = runtime::attention_maps_query(options, static_cast<int>(rows));
        fig.title += "attention of patch (" + std::to_string(fig.marker_row) + ", " + std::to_string(fig.marker_col) + ")";
      }
      fig.rows = static_cast<int>(rows);
      fig.cols = static_cast<int>(cols);
      for (int64_t h = 0; h <= heads; ++h) {
        fig.maps.emplace_back(v + h * rows * cols, v + (h + 1) * rows * cols);
        fig.captions.push_back(h < heads ? "head " + std::to_string(h) : "mean");
      }
      ui::save_heatmap_grid(fig, path_for(model, item, kind, ".png").string());
    }
#endif
  }
};

// --input-filter (§3.7): lowpass:R, highpass:R or bandpass:LO,HI, cut-offs in radians per pixel
// of the model input (π = Nyquist), square masks in max(|ω_y|, |ω_x|) (core/analysis/
// frequency_filter.h). Applied to the normalised input, so a high-pass removes the image's mean
// and leaves the data set's mean colour (normalised 0).
runtime::InputTransform input_filter(const std::string& text) {
  const auto colon = text.find(':');
  const auto kind = text.substr(0, colon);
  std::vector<double> cutoffs;
  if (colon != std::string::npos)
    for (const auto& part : split_list(text.substr(colon + 1))) {
      try {
        size_t used = 0;
        cutoffs.push_back(std::stod(part, &used));
        if (used != part.size()) cutoffs.clear();
      } catch (const std::exception&) {
        cutoffs.clear();
      }
    }
  const bool valid_numbers = std::all_of(cutoffs.begin(), cutoffs.end(), [](double c) { return c >= 0; });
  if (kind == "lowpass" && cutoffs.size() == 1 && valid_numbers)
    return [c = cutoffs[0]](const torch::Tensor& x) { return analysis::low_pass(x, c); };
  if (kind == "highpass" && cutoffs.size() == 1 && valid_numbers)
    return [c = cutoffs[0]](const torch::Tensor& x) { return analysis::high_pass(x, c); };
  if (kind == "bandpass" && cutoffs.size() == 2 && valid_numbers && cutoffs[0] < cutoffs[1])
    return [lo = cutoffs[0], hi = cutoffs[1]](const torch::Tensor& x) { return analysis::band_pass(x, lo, hi); };
  throw UsageError("--input-filter expects lowpass:R, highpass:R or bandpass:LO,HI (radians, 0..π, LO < HI), got '" +
                   text + "'");
}

std::pair<int, int> grid_position(const std::string& key, const std::string& text) {
  const auto parts = split_list(text);
  try {
    if (parts.size() == 2) return {std::stoi(parts[0]), std::stoi(parts[1])};
  } catch (const std::exception&) {
  }
  throw UsageError("--" + key + " expects ROW,COL (0-based patch grid position), got '" + text + "'");
}

std::vector<double> band_centres(const std::string& text) {
  std::vector<double> out;
  for (const auto& part : split_list(text)) {
    try {
      out.push_back(std::stod(part));
    } catch (const std::exception&) {
      throw UsageError("--noise-bands expects radians separated by commas, got '" + text + "'");
    }
  }
  return out;
}

io::ImageDataset labelled_data(const std::string& path, int image_size) {
  io::DatasetOptions options;
  options.image_size = image_size;
  if (is_archive(path)) options.split = "test";  // CIFAR-style archive: its test/ half
  auto data = io::load_dataset(path, options);
  report_skipped(data.skipped);
  return data;
}

void write_linear_probe(const std::vector<model::Model*>& models, const std::string& train_path,
                        const std::string& test_path, int epochs, const runtime::InputTransform& input_transform,
                        const fs::path& out, bool figures) {
  nlohmann::json probe_json = nlohmann::json::array();
  for (auto* m : models) {
    io::DatasetOptions train_opt;
    train_opt.image_size = m->config().image_size;
    auto train = io::load_dataset(train_path, train_opt);
    report_skipped(train.skipped);
    auto test = labelled_data(test_path, m->config().image_size);
    std::cerr << "linear probe per depth: " << m->card.name << " (" << train.size() << " / " << test.size() << " images)\n";
    auto p = runtime::probe_per_depth(*m, train, test, epochs, input_transform);
    probe_json.push_back({{"model", m->card.name}, {"linear_top1", p.linear_top1}, {"knn_top1", p.knn_top1}, {"protocol", p.protocol}});
  }
  std::ostringstream csv;
  csv << "model,depth,linear_top1,knn_top1\n";
#ifdef VITSCOPE_HAVE_FIGURES
  ui::CurveFigure fig{"Linear probing across depth", "depth", "top-1 accuracy", {}, true, 0, 1};
  const auto colors = ui::model_colors(objectives_of(models));
#endif
  for (size_t model_index = 0; model_index < probe_json.size(); ++model_index) {
    const auto& p = probe_json[model_index];
    const auto lin = p["linear_top1"].get<std::vector<double>>(), knn = p["knn_top1"].get<std::vector<double>>();
    std::vector<double> x;
    for (size_t k = 0; k < lin.size(); ++k) {
      csv << '"' << p["model"].get<std::string>() << "\"," << k + 1 << ',' << lin[k] << ',' << knn[k] << "\n";
      x.push_back(static_cast<double>(k + 1));
    }
#ifdef VITSCOPE_HAVE_FIGURES
    fig.series.push_back({p["model"].get<std::string>(), x, lin, colors[model_index]});
#endif
  }
  write_text(out / "linear_probe.csv", csv.str());
  write_text(out / "linear_probe.json", probe_json.dump(2) + "\n");
#ifdef VITSCOPE_HAVE_FIGURES
  if (figures) ui::save_curve_figure(fig, (out / "linear_probe.png").string());
#endif
}

// §3.7: accuracy drop under band-limited noise for every model with a classifier head; a model
// that cannot be measured (no head, classes that do not match) is named and skipped, and the
// command fails when none can be.
void write_noise_robustness(const std::vector<model::Model*>& models, const std::string& data_path,
                            const runtime::NoiseRobustnessOptions& options, const fs::path& out, bool figures) {
  if (std::none_of(models.begin(), models.end(), [](auto* m) { return m->config().num_classes > 0; }))
    throw std::runtime_error("noise-robustness measures a classifier's accuracy, and none of the models has a "
                             "classifier head (use a fine-tuned checkpoint, or give the model a linear head first)");
  nlohmann::json results = nlohmann::json::array();
  std::ostringstream csv;
  csv << "model,band_centre,clean_top1,noisy_top1,accuracy_drop,images\n";
#ifdef VITSCOPE_HAVE_FIGURES
  ui::CurveFigure fig{"Accuracy drop under band-limited noise", "noise band centre f (rad / px)", "accuracy drop", {},
                      false, 0, 0};
  const auto colors = ui::model_colors(objectives_of(models));
#endif
  std::map<int, io::ImageDataset> data_at_size;  // decoded once per input size
  for (size_t model_index = 0; model_index < models.size(); ++model_index) {
    auto* m = models[model_index];
    const int size = m->config().image_size;
    if (!data_at_size.count(size)) data_at_size.emplace(size, labelled_data(data_path, size));
    const auto& data = data_at_size.at(size);
    runtime::NoiseRobustness r;
    try {
      r = runtime::noise_robustness(*m, data, options);
      std::cerr << "noise robustness: " << m->card.name << ": clean top-1 " << r.clean_top1 << " (" << r.images
                << " images)\n";
    } catch (const std::invalid_argument& e) {
      std::cerr << "noise-robustness: skipped " << m->card.name << ": " << e.what() << "\n";
      results.push_back({{"model", m->card.name}, {"skipped", e.what()}});
      continue;
    }
    for (size_t k = 0; k < r.band_centres.size(); ++k)
      csv << '"' << m->card.name << "\"," << r.band_centres[k] << ',' << r.clean_top1 << ',' << r.noisy_top1[k] << ','
          << r.accuracy_drop[k] << ',' << r.images << "\n";
    results.push_back({{"model", m->card.name}, {"band_centres", r.band_centres}, {"clean_top1", r.clean_top1},
                       {"noisy_top1", r.noisy_top1}, {"accuracy_drop", r.accuracy_drop}, {"images", r.images},
                       {"label_mapping", r.label_mapping}, {"protocol", r.protocol}});
#ifdef VITSCOPE_HAVE_FIGURES
    fig.series.push_back({m->card.name, r.band_centres, r.accuracy_drop, colors[model_index]});
#endif
  }
  write_text(out / "noise_robustness.json", results.dump(2) + "\n");
  write_text(out / "noise_robustness.csv", csv.str());
#ifdef VITSCOPE_HAVE_FIGURES
  if (figures) ui::save_curve_figure(fig, (out / "noise_robustness.png").string());
#endif
}

int run_analyze(const Args& args) {
  const auto model_paths = args.all("model");
  if (model_paths.empty()) throw UsageError("give at least one --model");
  auto image_args = args.all("image");
  const auto images_dir = args.find("images");
  if (!image_args.empty() && images_dir) throw UsageError("give either --image FILE... or --images DIR, not both");
  const auto metrics = split_list(args.require("metrics"));
  const auto out_dir = args.require("out");
  const auto device = device_from(args).device;
  runtime::DatasetAnalysisOptions opt;
  opt.batch_size = args.get_int("batch-size", 32);
  opt.cpu_workers = args.get_int("cpu-workers", 0);
  opt.max_pictures = args.get_int("max-pictures", 16);
  opt.attention_block = args.get_int("block", -1);
  if (auto q = args.find("query")) opt.attention_query = grid_position("query", *q);
  opt.tsne_images = args.get_int("tsne-images", 16);
  opt.tsne_tap = args.get_int("tap", 10);
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0));
  opt.tsne_seed = seed;
  const auto filter_text = args.find("input-filter");
  if (filter_text) opt.input_transform = input_filter(*filter_text);
  const int first = args.get_int("first", 0), count = args.get_int("count", 0);
  const bool figures = !args.flag("no-figures");
  const auto probe_train = args.find("probe-train"), probe_test = args.find("probe-test");
  const int probe_epochs = args.get_int("probe-epochs", 100);
  runtime::NoiseRobustnessOptions noise;
  noise.band_centres = band_centres(args.get("noise-bands", ""));
  noise.epsilon = args.get_double("noise-epsilon", noise.epsilon);
  noise.half_width = args.get_double("noise-width", noise.half_width);
  noise.seed = seed;
  noise.input_transform = opt.input_transform;
  const auto noise_data = args.find("noise-data");
  auto load_opts = load_options_from(args);
  args.reject_unknown();
  if (opt.batch_size < 1) throw UsageError("--batch-size must be positive");
  if (opt.cpu_workers < 0) throw UsageError("--cpu-workers must be 0 (one per core) or more");
  const auto out = make_output_dir(out_dir);

  std::vector<std::string> dataset_metrics;
  bool want_probe = false, want_noise = false;
  for (const auto& m : metrics) {
    if (m == "linear-probe") want_probe = true;
    else if (m == "noise-robustness") want_noise = true;
    else dataset_metrics.push_back(m);
  }
  if (want_probe && (!probe_train || !probe_test))
    throw UsageError("linear-probe needs --probe-train DIR and --probe-test DIR (labelled ImageFolder or .tar.gz)");
  if (!dataset_metrics.empty() && image_args.empty() && !images_dir)
    throw UsageError("give the images to analyse: --image FILE... or --images DIR");
  if (want_noise && !noise_data && !images_dir)
    throw UsageError("noise-robustness needs labelled images: --images DIR (ImageFolder) or --noise-data DIR|ARCHIVE");

  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto loading_since = Clock::now();
  std::vector<model::LoadedModel> loaded;
  for (const auto& p : model_paths) {
    loaded.push_back(model::load_model(p, load_opts));
    loaded.back().model.to(device);
    if (loaded.back().model.card.name.empty()) loaded.back().model.card.name = fs::path(p).stem().string();
  }
  std::vector<model::Model*> models;
  for (auto& l : loaded) {
    // Two runs of the same file (or files with the same name) still get their own columns.
    auto& name = l.model.card.name;
    for (int n = 2; std::any_of(models.begin(), models.end(), [&](auto* m) { return m->card.name == name; }); ++n)
      name = l.model.card.name + " (" + std::to_string(n) + ")";
    models.push_back(&l.model);
  }
  const double seconds_loading = seconds_since(loading_since);

  if (want_probe) write_linear_probe(models, *probe_train, *probe_test, probe_epochs, opt.input_transform, out, figures);
  if (want_noise) write_noise_robustness(models, noise_data ? *noise_data : *images_dir, noise, out, figures);

  if (!dataset_metrics.empty()) {
    std::vector<runtime::ImageItem> items;
    std::vector<std::string> class_names;
    if (images_dir) {
      auto list = runtime::list_images(*images_dir);
      items = list.items;
      class_names = list.class_names;
    } else {
      for (const auto& f : image_args) items.push_back({f, -1});
    }
    if (first > 0) items.erase(items.begin(), items.begin() + std::min<size_t>(first, items.size()));
    if (count > 0 && static_cast<size_t>(count) < items.size()) items.resize(count);
    if (items.empty()) throw std::runtime_error("no images left to analyse (check --first / --count)");
    opt.metrics = dataset_metrics;
    opt.first_index = first;
    opt.progress = [](int64_t done, int64_t total) {
      std::cerr << "\ranalysed " << done << " / " << total << " images" << std::flush;
    };
    const PictureWriter pictures{out, images_dir ? std::optional<fs::path>(*images_dir) : std::nullopt, figures, opt};
    opt.on_picture = [&](int mi, const runtime::ImageItem& item, const std::string& kind, const torch::Tensor& pic) {
      pictures(models[mi]->card.name, item, kind, pic);
    };
    const auto analysing_since = Clock::now();
    auto result = runtime::analyze_dataset(models, items, opt);
    const double seconds_analysing = seconds_since(analysing_since);
    std::cerr << "\n";
    report_skipped(result.skipped);
    report_invalid_images(result);
    nlohmann::json run_info = {{"input_filter", filter_text ? *filter_text + " (radians per input pixel, applied to "
                                                                             "the normalised model input, §3.7)"
                                                            : "none"}};
    if (!result.tsne.empty()) run_info["tsne"] = write_tsne(result, class_names, out, figures);
    // Where the time went, for benchmarks: loading the models, then the analysis, of which the
    // models' forward passes + metrics and the waits for decoded images (the rest is overhead).
    run_info["timing_seconds"] = {{"load_models", seconds_loading},
                                  {"analysis", seconds_analysing},
                                  {"models_and_metrics", result.seconds_in_models},
                                  {"waiting_for_images", result.seconds_waiting_for_images}};
    std::fprintf(stderr, "timing: load models %.2f s, analysis %.2f s (models + metrics %.2f s, waiting for images %.2f s)\n",
                 seconds_loading, seconds_analysing, result.seconds_in_models, result.seconds_waiting_for_images);
    write_outputs(result, out, figures, run_info);
    if (result.images == 0) throw std::runtime_error("none of the images could be read");
  }
  std::cout << "wrote " << out.string() << "\n";
  return 0;
}

int run_merge_stats(const Args& args) {
  const auto out = make_output_dir(args.require("out"));
  const bool no_figures = args.flag("no-figures");
  args.reject_unknown();
  if (args.positionals().size() < 2) throw UsageError("merge-stats needs at least two stats.json files");
  std::optional<runtime::DatasetAnalysis> merged;
  for (const auto& path : args.positionals()) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error(path + ": cannot open");
    nlohmann::json j;
    try {
      f >> j;
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": invalid JSON (" + e.what() + ")");
    }
    auto part = runtime::DatasetAnalysis::from_json(j);
    if (!merged) merged = std::move(part);
    else merged->merge(part);
  }
  write_outputs(*merged, out, !no_figures, nlohmann::json::object());
  std::cout << "merged " << args.positionals().size() << " runs (" << merged->images << " images) into " << out.string() << "\n";
  return 0;
}

std::string analyze_usage() {
  std::string metrics;
  for (const auto& m : runtime::dataset_metric_names()) metrics += m + ",";
  return "usage: vitscope-cli analyze --model M [--model M2 ...] (--image F [--image F2 ...] | --images DIR)\n"
         "                            --metrics LIST --out DIR [options]\n\n"
         "metrics (comma-separated): " + metrics + "linear-probe,noise-robustness\n"
         "  attention-distance, nmi, entropy   per block and head (paper-analyses.md §3.2, §3.3)\n"
         "  fourier                            ΔLog amplitude and spectra per depth (§3.6); for MAE models also the\n"
         "                                     decoder's, as depth E..E+decoder depth (§3.10: encoder unmasked,\n"
         "                                     decoder without mask tokens)\n"
         "  svd                                effective rank, token cosine similarity, singular values (§3.5)\n"
         "  rollout, pca                       per-image pictures (first --max-pictures images)\n"
         "  attention-maps                     per-image CLS and query-patch attention of every head and their\n"
         "                                     mean at --block (§3.1): PNG grids and CSV\n"
         "  tsne                               token t-SNE (§3.4) of the first --tsne-images images at --tap\n"
         "  cka                                linear CKA, model 1 vs each other model (unbiased minibatch)\n"
         "  linear-probe                       per depth, needs --probe-train/--probe-test (§3.9)\n"
         "  noise-robustness                   accuracy drop under band-limited noise per band centre (§3.7);\n"
         "                                     models with a classifier head, labelled ImageFolder data\n\n"
         "options:\n"
         "  --device cpu|cuda|auto     (default auto)\n"
         "  --batch-size N             images per batch (default 32)\n"
         "  --cpu-workers N            on the CPU, this many forward passes run at once on parts of a\n"
         "                             batch, each on one core (default 0: one per core, fewer when their\n"
         "                             captures would pass 2 GB); every N gives the same numbers\n"
         "  --first N --count M        analyse images N..N+M-1 of the sorted list (split a data set over\n"
         "                             machines, then `vitscope-cli merge-stats`)\n"
         "  --input-filter F           filter every model input first (§3.7): lowpass:R, highpass:R or\n"
         "                             bandpass:LO,HI; cut-offs in radians per pixel of the model input\n"
         "                             (π = Nyquist), square masks in max(|ωy|, |ωx|), applied to the\n"
         "                             normalised input (a high-pass leaves the data set's mean colour)\n"
         "  --max-pictures N           per-image pictures for the first N images (default 16)\n"
         "  --block B                  attention-maps: block, 0-based (default: the last)\n"
         "  --query ROW,COL            attention-maps: query patch (default: the notebook's row 8, column 3 of\n"
         "                             14, scaled to the model's grid)\n"
         "  --tsne-images N            tsne: images (default 16, as the notebook)\n"
         "  --tap T                    tsne: residual-stream tap (default 10 = block 5 after its MLP, the\n"
         "                             notebook's default; tap 2k = block k, §5 pitfall 4)\n"
         "  --seed S                   t-SNE initialisation and noise seed (default 0)\n"
         "  --probe-train D --probe-test D --probe-epochs N\n"
         "  --noise-data D             noise-robustness images (ImageFolder or .tar.gz; default --images)\n"
         "  --noise-bands F1,F2,...    band centres in radians (default 0, π/10, ..., π)\n"
         "  --noise-epsilon E          noise amplitude in normalised units (default 0.007)\n"
         "  --noise-width S            band half-width in radians (default 0.2)\n"
         "  --no-figures               skip PNG/SVG figures\n\n"
         "writes: metrics.json, <metric>.csv, <metric>.png/.svg (one line per model), stats.json (mergeable),\n"
         "        relative-log-amplitude.csv/.png/.svg (fourier: each depth's curve over frequency; figure: last depth),\n"
         "        cka_<a>_vs_<b>.csv, images/<model>/<image>_{rollout,pca,attention-cls,attention-query}.png,\n"
         "        tsne_<model>.{csv,png}, linear_probe.{csv,json,png}, noise_robustness.{csv,json,png}\n\n" +
         std::string(kLoadOptionsHelp);
}

const bool analyze_registered = register_command(
    {"analyze", "the paper's measurements for models over images or data sets (JSON, CSV, figures)", analyze_usage(),
     {"no-figures", "norm-pix"}, run_analyze});

const bool merge_stats_registered = register_command(
    {"merge-stats", "merge stats.json files of runs over parts of a data set",
     "usage: vitscope-cli merge-stats RUN1/stats.json RUN2/stats.json ... --out DIR [--no-figures]\n",
     {"no-figures"}, run_merge_stats});

}  // namespace
}  // namespace vitscope::cli
