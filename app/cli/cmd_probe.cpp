// vitscope-cli probe: shape-vs-texture probes (docs/PROBES.md) for one or more models — the
// cue-conflict shape bias of Geirhos et al. (paper-analyses.md §3.8) where a classifier exists
// (or after training a linear head), and the label-free and frequency probes on any images.
// Writes probes.json (every number with its definition), CSV tables, figures and the probe views.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

#include "app/cli/common.h"
#include "core/analysis/cue_conflict_maker.h"
#include "core/io/image.h"
#include "core/runtime/probes.h"
#ifdef VITSCOPE_HAVE_FIGURES
#include "ui/plots/curve_figure.h"
#include "ui/plots/model_colors.h"
#endif

namespace vitscope::cli {
namespace {

namespace fs = std::filesystem;

std::string file_safe(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

std::vector<double> parse_numbers(const std::string& key, const std::string& text) {
  std::vector<double> out;
  for (const auto& part : split_list(text)) {
    try {
      size_t used = 0;
      out.push_back(std::stod(part, &used));
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      throw UsageError("--" + key + " expects comma-separated numbers, got '" + text + "'");
    }
  }
  return out;
}

std::vector<double> tensor_values(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Prints "stage done/total" on one refreshed stderr line.
runtime::ProbeProgress progress_printer(const std::string& model) {
  return [model](const std::string& stage, int64_t done, int64_t total) {
    std::cerr << "\r\033[K" << model << ": " << stage;
    if (total > 0) std::cerr << " " << done << " / " << total;
    std::cerr << std::flush;
  };
}

const char* kProbeDefinitions[][2] = {
    {"shape_bias", "Geirhos et al. 2019 (paper-analyses.md §3.8): shape hits / (shape hits + texture hits) over the "
                   "cue-conflict images whose shape and texture classes differ and are both categories of the "
                   "classifier's mapping; decision = category with the highest mean class probability, ties to the "
                   "first category in alphabetical order; decisions that are neither do not count"},
    {"shape_reliance_index", "SRI = mean over blocks l of [mean over shape-keeping views v of s_l(x, v) - mean over "
                             "texture-keeping views v of s_l(x, v)], averaged over images; s_l(x, v) = cos(z_l(v) - "
                             "z_l(g), z_l(x) - z_l(g)), z_l = mean patch token of block l's output (before the final "
                             "norm), g = uniform mid-grey image; range [-2, 2], > 0: shape-reliant, < 0: texture-reliant"},
    {"frequency", "low-pass keeps max(|omega_y|, |omega_x|) <= K, high-pass keeps > K plus the mean colour, K = "
                  "cut-off x pi at the model's input size, clamped to [0, 1] (paper-analyses.md §3.7 item 4); "
                  "similarity s_l as above between the filtered and the original image"},
};

int run_probe(const Args& args) {
  const auto model_paths = args.all("model");
  if (model_paths.empty()) throw UsageError("give at least one --model");
  const auto cue_dir = args.find("cue-conflict");
  const auto images_dir = args.find("images");
  const auto image_files = args.all("image");
  if (!cue_dir && !images_dir && image_files.empty())
    throw UsageError("give --cue-conflict DIR (shape bias) and/or --images DIR / --image FILE (label-free probes)");
  if (images_dir && !image_files.empty()) throw UsageError("give either --images DIR or --image FILE..., not both");
  const auto out = make_output_dir(args.require("out"));
  const auto device = device_from(args).device;
  const std::string mapping_file = args.get("mapping", "");
  const auto head_data = args.find("train-head");
  runtime::HeadTrainingOptions head_options;
  head_options.probe.epochs = args.get_int("head-epochs", head_options.probe.epochs);
  head_options.max_per_class = args.get_int("head-per-class", 0);
  const auto grids = parse_numbers("grids", args.get("grids", "2,4,8"));
  std::vector<double> cutoffs = analysis::default_cutoff_fractions();
  if (auto c = args.find("cutoffs")) cutoffs = parse_numbers("cutoffs", *c);
  const bool frequency = !args.flag("no-frequency");
  const int max_images = args.get_int("max-images", 0);
  const int pictures = args.get_int("pictures", 4);
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0));
  const int batch_size = args.get_int("batch-size", 64);
  [[maybe_unused]] const bool figures = !args.flag("no-figures");  // without Qt there are no figures
  const auto load_options = load_options_from(args);
  args.reject_unknown();

  std::optional<runtime::CueConflictStimuli> stimuli;
  if (cue_dir) stimuli = runtime::read_cue_conflict_stimuli(*cue_dir);

  std::vector<model::LoadedModel> loaded;
  for (const auto& p : model_paths) {
    loaded.push_back(model::load_model(p, load_options));
    auto& m = loaded.back().model;
    m.to(device);
    if (m.card.name.empty()) m.card.name = fs::path(p).stem().string();
    for (int n = 2; std::any_of(loaded.begin(), loaded.end() - 1, [&](const auto& l) { return l.model.card.name == m.card.name; }); ++n)
      m.card.name = fs::path(p).stem().string() + " (" + std::to_string(n) + ")";
    if (stimuli && m.config().num_classes == 0 && !head_data)
      throw UsageError(m.card.name + " has no classifier head: give --train-head DATA (labelled images) so a linear "
                       "head is trained on its frozen features first");
  }

#ifdef VITSCOPE_HAVE_FIGURES
  std::vector<std::string> objectives;
  for (const auto& l : loaded) objectives.push_back(model::objective_name(l.model.card.objective));
  const auto colors = ui::model_colors(objectives);  // a model's colour in every figure, as in the app
#endif
  nlohmann::json report = {{"definitions", nlohmann::json::object()}, {"models", nlohmann::json::array()}};
  for (const auto& [k, v] : kProbeDefinitions) report["definitions"][k] = v;
  for (size_t i = 0; i < loaded.size(); ++i)
    report["models"].push_back({{"name", loaded[i].model.card.name},
                                {"path", model_paths[i]},
                                {"objective", loaded[i].model.card.objective_label()}});

  // --- Cue-conflict shape bias -----------------------------------------------------------------
  if (stimuli) {
    report["cue_conflict"] = {{"folder", stimuli->folder},
                              {"images", stimuli->images.size()},
                              {"silhouettes", stimuli->silhouettes.size()},
                              {"edges", stimuli->edges.size()},
                              {"credit", "Geirhos et al., ImageNet-trained CNNs are biased towards texture, ICLR 2019 "
                                         "(CC BY 4.0)"}};
    std::ostringstream table, decisions, filtered;
    table << "model,category,trials,shape_hits,texture_hits,shape_bias,shape_hit_rate,texture_hit_rate\n";
    decisions << "model,image,shape,texture,decision\n";
    filtered << "model,band,cutoff,trials,shape_hits,texture_hits,shape_bias,shape_hit_rate,texture_hit_rate\n";
#ifdef VITSCOPE_HAVE_FIGURES
    ui::ShapeBiasFigure figure;
#endif
    auto row = [](std::ostringstream& csv, const analysis::ShapeBiasCounts& c) {
      const auto bias = c.shape_bias();
      csv << c.trials << ',' << c.shape_hits << ',' << c.texture_hits << ',' << (bias ? std::to_string(*bias) : "") << ','
          << c.shape_hit_rate() << ',' << c.texture_hit_rate() << "\n";
    };
    for (size_t i = 0; i < loaded.size(); ++i) {
      auto& m = loaded[i].model;
      auto& jm = report["models"][i];
      if (m.config().num_classes == 0) {
        const auto head = runtime::train_linear_head(m, *head_data, head_options, progress_printer(m.card.name));
        std::cerr << "\n" << m.card.name << ": linear head " << head.train_images << " training images, test top-1 "
                  << head.test_top1 << " (" << head.test_source << ")\n";
        report_skipped(head.skipped);
        const auto head_file = out / "heads" / (file_safe(fs::path(model_paths[i]).stem().string()) + "-head.safetensors");
        fs::create_directories(head_file.parent_path());
        model::save_model(m, head_file.string());
        jm["classifier_head"] = m.card.metrics["classifier_head"];
        jm["classifier_head"]["file"] = head_file.string();
      }
      const auto mapping = runtime::class_mapping_for(m, mapping_file, &*stimuli);
      runtime::ShapeBiasOptions o;
      o.batch_size = batch_size;
      if (frequency) o.frequency_cutoffs = cutoffs;
      const auto r = runtime::measure_shape_bias(m, *stimuli, mapping, o, progress_printer(m.card.name));
      std::cerr << "\n";
      jm["shape_bias"] = r.to_json();
      const auto& name = m.card.name;
      table << '"' << name << "\",all,";
      row(table, r.result.overall);
      for (const auto& [category, counts] : r.result.per_category) {
        table << '"' << name << "\"," << category << ',';
        row(table, counts);
      }
      for (size_t k = 0; k < r.trials.size(); ++k)
        decisions << '"' << name << "\",\"" << fs::path(r.paths[k]).filename().string() << "\"," << r.trials[k].shape
                  << ',' << r.trials[k].texture << ',' << r.trials[k].decision << "\n";
      for (size_t k = 0; k < r.cutoffs.size(); ++k) {
        filtered << '"' << name << "\",low-pass," << r.cutoffs[k] << ',';
        row(filtered, r.low_pass[k]);
        filtered << '"' << name << "\",high-pass," << r.cutoffs[k] << ',';
        row(filtered, r.high_pass[k]);
      }
      const auto bias = r.result.overall.shape_bias();
      std::cout << name << ": shape bias " << (bias ? std::to_string(*bias) : std::string("undefined")) << " (shape "
                << r.result.overall.shape_hits << ", texture " << r.result.overall.texture_hits << " of "
                << r.result.overall.trials << " conflict images)\n";
#ifdef VITSCOPE_HAVE_FIGURES
      if (figure.categories.empty())
        for (const auto& [category, counts] : r.result.per_category) figure.categories.push_back(category);
      ui::ShapeBiasFigure::Model fm{name, {}, bias.value_or(std::numeric_limits<double>::quiet_NaN()), colors[i]};
      for (const auto& category : figure.categories) {
        double v = std::numeric_limits<double>::quiet_NaN();
        for (const auto& [c, counts] : r.result.per_category)
          if (c == category && counts.shape_bias()) v = *counts.shape_bias();
        fm.per_category.push_back(v);
      }
      figure.models.push_back(fm);
#endif
    }
    write_text(out / "shape_bias.csv", table.str());
    write_text(out / "decisions.csv", decisions.str());
    if (frequency) write_text(out / "frequency_decisions.csv", filtered.str());
#ifdef VITSCOPE_HAVE_FIGURES
    if (figures && !figure.categories.empty()) {
      ui::save_shape_bias_figure(figure, (out / "shape_bias.png").string());
      ui::save_shape_bias_figure(figure, (out / "shape_bias.svg").string());
    }
#endif
  }

  // --- Label-free and frequency probes on any images -------------------------------------------
  if (images_dir || !image_files.empty()) {
    std::vector<std::string> paths = image_files;
    if (images_dir)
      for (const auto& e : fs::recursive_directory_iterator(*images_dir))
        if (e.is_regular_file() && io::has_image_extension(e.path().string())) paths.push_back(e.path().string());
    if (images_dir) std::sort(paths.begin(), paths.end());
    if (max_images > 0 && paths.size() > static_cast<size_t>(max_images)) paths.resize(max_images);
    if (paths.empty()) throw std::runtime_error("no images to probe");
    std::vector<torch::Tensor> images;
    for (const auto& p : paths) images.push_back(runtime::probe_image(io::load_image(p)));
    const auto batch = torch::stack(images);
    std::vector<int> grid_values;
    for (double g : grids) grid_values.push_back(static_cast<int>(g));
    const auto transforms = analysis::standard_probe_transforms(grid_values, seed);
    report["label_free"] = {{"images", paths.size()}, {"image_size", runtime::kProbeImageSize}, {"seed", seed}, {"views", nlohmann::json::array()}};
    for (const auto& t : transforms)
      report["label_free"]["views"].push_back({{"name", t.name}, {"keeps", analysis::cue_name(t.keeps)}, {"description", t.description}});
    // The views the models saw, for the first few images.
    for (int i = 0; i < pictures && i < static_cast<int>(paths.size()); ++i) {
      const auto dir = out / "views" / file_safe(fs::path(paths[i]).stem().string());
      fs::create_directories(dir);
      io::save_image(batch[i], (dir / "original.png").string());
      const auto views = analysis::probe_views(batch[i], transforms);
      for (size_t v = 0; v < views.names.size(); ++v) io::save_image(views.images[v], (dir / (views.names[v] + ".png")).string());
    }
    std::vector<analysis::LayerFeatures> features;
    for (auto& l : loaded) features.push_back(runtime::block_features(l.model));
    const auto results = analysis::label_free_probe(features, batch, transforms, [&](int64_t done) {
      std::cerr << "\r\033[Klabel-free probe: " << done << " / " << paths.size() << " images" << std::flush;
    });
    std::cerr << "\n";
    std::ostringstream similarity, index, freq;
    similarity << "model,view,keeps,block,similarity\n";
    index << "model,block,shape_reliance_index\n";
    freq << "model,band,cutoff,block,similarity\n";
#ifdef VITSCOPE_HAVE_FIGURES
    ui::CurveFigure index_figure{"Shape-reliance index per block", "block", "SRI (> 0: shape, < 0: texture)", {}, true, 0, 0};
    ui::CurveFigure low_figure{"Similarity to the original under low-pass filtering (last block)", "cut-off (fraction of Nyquist)",
                               "similarity", {}, false, 0, 1};
    ui::CurveFigure high_figure{"Similarity to the original under high-pass filtering (last block)", "cut-off (fraction of Nyquist)",
                                "similarity", {}, false, 0, 1};
#endif
    for (size_t i = 0; i < loaded.size(); ++i) {
      const auto& r = results[i];
      const auto& name = loaded[i].model.card.name;
      auto& jm = report["models"][i];
      const auto per_block = tensor_values(r.index_per_layer);
      jm["label_free"] = {{"shape_reliance_index", r.shape_reliance_index}, {"index_per_block", per_block},
                          {"similarity_per_view", nlohmann::json::object()}, {"definition", r.metadata}};
      std::vector<double> blocks;
      for (size_t b = 0; b < per_block.size(); ++b) {
        blocks.push_back(static_cast<double>(b + 1));
        index << '"' << name << "\"," << b + 1 << ',' << per_block[b] << "\n";
      }
      index << '"' << name << "\",mean," << r.shape_reliance_index << "\n";
      for (size_t v = 0; v < r.views.size(); ++v) {
        const auto values = tensor_values(r.mean_similarity[static_cast<int64_t>(v)]);
        jm["label_free"]["similarity_per_view"][r.views[v]] = values;
        for (size_t b = 0; b < values.size(); ++b)
          similarity << '"' << name << "\"," << r.views[v] << ',' << analysis::cue_name(r.keeps[v]) << ',' << b + 1 << ','
                     << values[b] << "\n";
      }
      std::cout << name << ": shape-reliance index " << r.shape_reliance_index << " (" << paths.size() << " images)\n";
#ifdef VITSCOPE_HAVE_FIGURES
      index_figure.series.push_back({name, blocks, per_block, colors[i]});
#endif
      if (!frequency) continue;
      auto& m = loaded[i].model;
      std::cerr << name << ": frequency probe\n";
      const auto f = analysis::frequency_probe(runtime::block_features(m), runtime::model_sized(batch, m), cutoffs);
      jm["frequency"] = {{"cutoffs_fraction_of_nyquist", cutoffs}, {"definition", f.metadata},
                         {"low_pass_per_block", nlohmann::json::array()}, {"high_pass_per_block", nlohmann::json::array()}};
      for (size_t c = 0; c < cutoffs.size(); ++c) {
        const auto low = tensor_values(f.low_pass[static_cast<int64_t>(c)]), high = tensor_values(f.high_pass[static_cast<int64_t>(c)]);
        jm["frequency"]["low_pass_per_block"].push_back(low);
        jm["frequency"]["high_pass_per_block"].push_back(high);
        for (size_t b = 0; b < low.size(); ++b) {
          freq << '"' << name << "\",low-pass," << cutoffs[c] << ',' << b + 1 << ',' << low[b] << "\n";
          freq << '"' << name << "\",high-pass," << cutoffs[c] << ',' << b + 1 << ',' << high[b] << "\n";
        }
      }
#ifdef VITSCOPE_HAVE_FIGURES
      low_figure.series.push_back({name, cutoffs, tensor_values(f.low_pass.select(1, -1)), colors[i]});
      high_figure.series.push_back({name, cutoffs, tensor_values(f.high_pass.select(1, -1)), colors[i]});
#endif
    }
    write_text(out / "label_free.csv", similarity.str());
    write_text(out / "label_free_index.csv", index.str());
    if (frequency) write_text(out / "frequency.csv", freq.str());
#ifdef VITSCOPE_HAVE_FIGURES
    if (figures) {
      for (const auto& [figure, stem] : {std::pair{&index_figure, "label_free_index"}, std::pair{&low_figure, "frequency_low_pass"},
                                         std::pair{&high_figure, "frequency_high_pass"}}) {
        if (figure->series.empty()) continue;
        ui::save_curve_figure(*figure, (out / (std::string(stem) + ".png")).string());
        ui::save_curve_figure(*figure, (out / (std::string(stem) + ".svg")).string());
      }
    }
#endif
  }
  write_text(out / "probes.json", report.dump(2) + "\n");
  std::cout << "wrote " << out.string() << "\n";
  return 0;
}

// vitscope-cli make-cue-conflict: one image's shape with another's texture, as a probe image.
int run_make_cue_conflict(const Args& args) {
  if (args.positionals().size() != 2) throw UsageError("give the shape image and the texture image");
  analysis::CueConflictOptions o;
  o.shape = args.flag("outline") ? analysis::ShapeCue::Outline : analysis::ShapeCue::Silhouette;
  o.texture = args.flag("transfer") ? analysis::TextureFill::Transfer : analysis::TextureFill::Tiling;
  o.tile_fraction = args.get_double("tile-fraction", o.tile_fraction);
  const std::string out = args.require("out");
  args.reject_unknown();
  const auto shape = runtime::probe_image(io::load_image(args.positionals()[0]));
  const auto texture = runtime::probe_image(io::load_image(args.positionals()[1]));
  io::save_image(analysis::make_cue_conflict(shape, texture, o), out);
  std::cout << "wrote " << out << "\n";
  return 0;
}

const bool make_cue_conflict_registered = register_command(
    {"make-cue-conflict", "one image's shape with another's texture: a cue-conflict probe image",
     "usage: vitscope-cli make-cue-conflict SHAPE_IMAGE TEXTURE_IMAGE --out FILE.png [options]\n\n"
     "Both images are resized (shorter side) and centre-cropped to 224 x 224. The shape image's object is found\n"
     "with GrabCut (it should be roughly centred); the texture is a centre crop of the texture image, tiled.\n\n"
     "  --outline            the shape as its edge map drawn over the texture (default: the texture inside the\n"
     "                       silhouette, white outside)\n"
     "  --transfer           blend the shape image's strong gradients into the texture (OpenCV seamless cloning,\n"
     "                       MIXED_CLONE) instead of plain tiling\n"
     "  --tile-fraction F    side of the tiled texture crop, fraction of the image side (default 0.5)\n",
     {"outline", "transfer"}, run_make_cue_conflict});

const bool probe_registered = register_command(
    {"probe", "shape-vs-texture probes: cue-conflict shape bias, label-free and frequency probes",
     std::string(
         "usage: vitscope-cli probe --model M [--model M2 ...] (--cue-conflict DIR | --images DIR | --image F ...)\n"
         "                          --out DIR [options]\n\n"
         "  --cue-conflict DIR   Geirhos et al.'s cue-conflict stimuli (the data root with stimuli/cue-conflict/, or that\n"
         "                       folder): shape bias, per-category breakdown, silhouette and edge accuracy, decisions on\n"
         "                       low-pass / high-pass filtered stimuli (paper-analyses.md §3.8, §3.7)\n"
         "  --images DIR, --image F   any images: label-free shape-reliance index per block, similarity under\n"
         "                       low-pass / high-pass filtering\n"
         "  --mapping FILE       classifier outputs -> cue-conflict categories (default: imagenet16_categories.json beside\n"
         "                       the stimuli for 1000-way heads; resources/probes/*.json whose head_classes match, e.g.\n"
         "                       CIFAR-10)\n"
         "  --train-head DATA    models without a classifier first get a linear head trained on their frozen features\n"
         "                       (ImageFolder or .tar.gz with train/ and test/, e.g. cifar10-jpg.tar.gz); saved as\n"
         "                       OUT/heads/<model>-head.safetensors, a ViTScope model with a classifier\n"
         "  --head-epochs N      linear-head epochs (default 100)\n"
         "  --head-per-class N   training images per class for the head (default 0 = all)\n"
         "  --grids LIST         patch-shuffle grids (default 2,4,8)\n"
         "  --cutoffs LIST       frequency cut-offs, fractions of Nyquist (default 0.05,0.1,0.2,0.3,0.5,0.7,0.9)\n"
         "  --no-frequency       skip the frequency probes\n"
         "  --max-images N       probe only the first N images (sorted)\n"
         "  --pictures N         save the probe views of the first N images (default 4)\n"
         "  --seed N             patch shuffle and phase scrambling seed (default 0)\n"
         "  --batch-size N       images per forward (default 64)\n"
         "  --device cpu|cuda|auto\n"
         "  --no-figures         skip PNG/SVG figures\n\n"
         "writes: probes.json (all numbers, with the definitions of shape bias and the shape-reliance index),\n"
         "        shape_bias.csv, decisions.csv, frequency_decisions.csv, shape_bias.png/.svg (Geirhos-style),\n"
         "        label_free.csv, label_free_index.csv, frequency.csv, label_free_index.png, frequency_{low,high}_pass.png,\n"
         "        views/<image>/<view>.png, heads/\n\n") +
         kLoadOptionsHelp,
     {"no-figures", "no-frequency", "norm-pix"}, run_probe});

}  // namespace
}  // namespace vitscope::cli
