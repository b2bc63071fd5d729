// vitscope-cli analyze: the paper's measurements for one or more models over images or a data
// set — JSON + CSV + curve figures (one line per model, layer on the x axis), mergeable stats.
// vitscope-cli merge-stats: combines stats.json files of runs over parts of a data set.
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli/common.h"
#include "core/io/dataset.h"
#include "core/io/image.h"
#include "core/runtime/dataset_analysis.h"
#ifdef VITSCOPE_HAVE_FIGURES
#include "ui/plots/curve_figure.h"
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
};
const CurveSpec kCurves[] = {
    {"attention-distance", "Mean attention distance", "distance (px of the input)", true, 0, 0},
    {"nmi", "Normalized mutual information", "NMI", true, 0, 0.6},
    {"entropy", "Attention entropy", "entropy (nats)", true, 0, 0},
    {"delta-log-amplitude", "Relative log amplitude of high frequencies", "ΔLog amplitude", false, 0, 0},
    {"effective-rank", "Effective rank of the patch tokens", "effective rank", false, 0, 0},
    {"token-cosine-similarity", "Mean cosine similarity of patch tokens", "cosine similarity", false, 0, 0},
};

std::string safe_name(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

// Per-layer curve of a statistic: per-head means averaged over heads last (paper-analyses.md §5).
std::vector<double> layer_curve(const analysis::RunningStats& stats, const CurveSpec& spec, std::vector<double>& x) {
  auto mean = stats.mean(spec.stat);
  if (spec.per_block) {
    auto per_layer = mean.dim() == 2 ? mean.mean(1) : mean;
    x.clear();
    for (int64_t k = 0; k < per_layer.size(0); ++k) x.push_back(static_cast<double>(k + 1));
    return std::vector<double>(per_layer.data_ptr<double>(), per_layer.data_ptr<double>() + per_layer.numel());
  }
  // Taps 0, 2, 4, … are depth 0…depth (§3.6 step 8: the plotted taps).
  auto even = mean.slice(0, 0, mean.size(0), 2).contiguous();
  x.clear();
  for (int64_t k = 0; k < even.size(0); ++k) x.push_back(static_cast<double>(k));
  return std::vector<double>(even.data_ptr<double>(), even.data_ptr<double>() + even.numel());
}

void write_outputs(const runtime::DatasetAnalysis& result, const fs::path& out, bool figures) {
  write_text(out / "stats.json", result.to_json().dump() + "\n");
  nlohmann::json summary = {{"images", result.images}, {"skipped", result.skipped}, {"models", nlohmann::json::array()}};
  for (const auto& spec : kCurves) {
    std::ostringstream csv;
    csv << "model,x,head,mean,std,count\n";
    bool any = false;
#ifdef VITSCOPE_HAVE_FIGURES
    ui::CurveFigure fig{spec.title, spec.per_block ? "block" : "depth", spec.y_label, {}, true, spec.y_min, spec.y_max};
#endif
    for (const auto& m : result.models) {
      const auto names = m.stats.metrics();
      if (std::find(names.begin(), names.end(), spec.stat) == names.end()) continue;
      any = true;
      std::vector<double> x;
      auto y = layer_curve(m.stats, spec, x);
      auto mean = m.stats.mean(spec.stat), sd = m.stats.standard_deviation(spec.stat);
      const auto count = m.stats.count(spec.stat);
      if (spec.per_block && mean.dim() == 2) {
        for (int64_t k = 0; k < mean.size(0); ++k)
          for (int64_t h = 0; h < mean.size(1); ++h)
            csv << '"' << m.name << "\"," << k + 1 << ',' << h << ',' << mean[k][h].item<double>() << ','
                << sd[k][h].item<double>() << ',' << count << "\n";
      }
      for (size_t i = 0; i < x.size(); ++i) csv << '"' << m.name << "\"," << x[i] << ",mean," << y[i] << ",," << count << "\n";
#ifdef VITSCOPE_HAVE_FIGURES
      fig.series.push_back({m.name, x, y});
#endif
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

void save_picture(const fs::path& out, const std::string& model, const runtime::ImageItem& item, const std::string& kind,
                  const torch::Tensor& picture) {
  // Grids are tiny (8×8 for the bundled models): nearest-neighbour upscale to ≥ 128 px.
  auto t = picture.dim() == 2 ? (picture - picture.min()) / (picture.max() - picture.min()).clamp_min(1e-12)
                              : picture;
  t = t.dim() == 2 ? t.unsqueeze(0).expand({3, -1, -1}) : t.permute({2, 0, 1});
  const auto scale = std::max<int64_t>(1, 128 / t.size(1));
  t = t.repeat_interleave(scale, 1).repeat_interleave(scale, 2);
  const auto dir = out / "images" / safe_name(model);
  fs::create_directories(dir);
  io::save_image(t, (dir / (fs::path(item.path).stem().string() + "_" + kind + ".png")).string());
}

int run_analyze(const Args& args) {
  const auto model_paths = args.all("model");
  if (model_paths.empty()) throw UsageError("give at least one --model");
  auto image_args = args.all("image");
  const auto images_dir = args.find("images");
  if (image_args.empty() == !images_dir) throw UsageError("give either --image FILE... or --images DIR");
  const auto metrics = split_list(args.require("metrics"));
  const auto out = make_output_dir(args.require("out"));
  const auto device = device_from(args).device;
  runtime::DatasetAnalysisOptions opt;
  opt.batch_size = args.get_int("batch-size", 32);
  opt.max_pictures = args.get_int("max-pictures", 16);
  const int first = args.get_int("first", 0), count = args.get_int("count", 0);
  const bool no_figures = args.flag("no-figures");
  const auto probe_train = args.find("probe-train"), probe_test = args.find("probe-test");
  const int probe_epochs = args.get_int("probe-epochs", 100);
  auto load_opts = load_options_from(args);
  args.reject_unknown();

  std::vector<std::string> dataset_metrics;
  bool want_probe = false;
  for (const auto& m : metrics) {
    if (m == "linear-probe") want_probe = true;
    else dataset_metrics.push_back(m);
  }
  if (want_probe && (!probe_train || !probe_test))
    throw UsageError("linear-probe needs --probe-train DIR and --probe-test DIR (labelled ImageFolder or .tar.gz)");

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

  nlohmann::json probe_json;
  if (want_probe) {
    auto is_archive = [](const std::string& p) { return p.size() > 7 && p.substr(p.size() - 7) == ".tar.gz"; };
    for (auto* m : models) {
      io::DatasetOptions train_opt, test_opt;
      train_opt.image_size = test_opt.image_size = m->config().image_size;
      if (is_archive(*probe_test)) test_opt.split = "test";  // CIFAR-style archive: its test/ half
      auto train = io::load_dataset(*probe_train, train_opt);
      auto test = io::load_dataset(*probe_test, test_opt);
      std::cerr << "linear probe per depth: " << m->card.name << " (" << train.size() << " / " << test.size() << " images)\n";
      auto p = runtime::probe_per_depth(*m, train, test, probe_epochs);
      probe_json.push_back({{"model", m->card.name}, {"linear_top1", p.linear_top1}, {"knn_top1", p.knn_top1}, {"protocol", p.protocol}});
    }
    std::ostringstream csv;
    csv << "model,depth,linear_top1,knn_top1\n";
#ifdef VITSCOPE_HAVE_FIGURES
    ui::CurveFigure fig{"Linear probing across depth", "depth", "top-1 accuracy", {}, true, 0, 1};
#endif
    for (const auto& p : probe_json) {
      const auto lin = p["linear_top1"].get<std::vector<double>>(), knn = p["knn_top1"].get<std::vector<double>>();
      std::vector<double> x;
      for (size_t k = 0; k < lin.size(); ++k) {
        csv << '"' << p["model"].get<std::string>() << "\"," << k + 1 << ',' << lin[k] << ',' << knn[k] << "\n";
        x.push_back(static_cast<double>(k + 1));
      }
#ifdef VITSCOPE_HAVE_FIGURES
      fig.series.push_back({p["model"].get<std::string>(), x, lin});
#endif
    }
    write_text(out / "linear_probe.csv", csv.str());
    write_text(out / "linear_probe.json", probe_json.dump(2) + "\n");
#ifdef VITSCOPE_HAVE_FIGURES
    if (!no_figures) ui::save_curve_figure(fig, (out / "linear_probe.png").string());
#endif
  }

  if (!dataset_metrics.empty()) {
    std::vector<runtime::ImageItem> items;
    if (images_dir) {
      auto list = runtime::list_images(*images_dir);
      items = list.items;
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
    opt.on_picture = [&](int mi, const runtime::ImageItem& item, const std::string& kind, const torch::Tensor& pic) {
      save_picture(out, models[mi]->card.name, item, kind, pic);
    };
    auto result = runtime::analyze_dataset(models, items, opt);
    std::cerr << "\n";
    for (const auto& s : result.skipped) std::cerr << "skipped: " << s << "\n";
    write_outputs(result, out, !no_figures);
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
  write_outputs(*merged, out, !no_figures);
  std::cout << "merged " << args.positionals().size() << " runs (" << merged->images << " images) into " << out.string() << "\n";
  return 0;
}

std::string analyze_usage() {
  std::string metrics;
  for (const auto& m : runtime::dataset_metric_names()) metrics += m + ",";
  return "usage: vitscope-cli analyze --model M [--model M2 ...] (--image F [--image F2 ...] | --images DIR)\n"
         "                            --metrics LIST --out DIR [options]\n\n"
         "metrics (comma-separated): " + metrics + "linear-probe\n"
         "  attention-distance, nmi, entropy   per block and head (paper-analyses.md §3.2, §3.3)\n"
         "  fourier                            ΔLog amplitude and spectra per depth (§3.6)\n"
         "  svd                                effective rank, token cosine similarity, singular values (§3.5)\n"
         "  rollout, pca                       per-image pictures (first --max-pictures images)\n"
         "  cka                                linear CKA, model 1 vs each other model (unbiased minibatch)\n"
         "  linear-probe                       per depth, needs --probe-train/--probe-test (§3.9)\n\n"
         "options:\n"
         "  --device cpu|cuda|auto     (default auto)\n"
         "  --batch-size N             images per batch (default 32)\n"
         "  --first N --count M        analyse images N..N+M-1 of the sorted list (split a data set over\n"
         "                             machines, then `vitscope-cli merge-stats`)\n"
         "  --max-pictures N           per-image pictures for the first N images (default 16)\n"
         "  --probe-train D --probe-test D --probe-epochs N\n"
         "  --no-figures               skip PNG/SVG curve figures\n\n"
         "writes: metrics.json, <metric>.csv, <metric>.png/.svg (one line per model), stats.json (mergeable),\n"
         "        cka_<a>_vs_<b>.csv, images/<model>/<image>_{rollout,pca}.png, linear_probe.{csv,json,png}\n\n" +
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
