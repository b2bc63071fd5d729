// vitscope-cli create and the analyses of `analyze` beyond the curves: t-SNE, attention maps, the
// MAE decoder's Fourier taps, input filters, linear probing per depth, frequency-noise robustness,
// and bad input (unreadable files, NaN activations) — end to end on bundled or generated models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "cli/cli_test_support.h"
#include "core/model/loader.h"

namespace fs = std::filesystem;
using namespace vitscope;
using test::bundled;
using test::cli;
using test::kCliDrawsFigures;
using test::quoted;
using test::read_json;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> lines;
  std::ifstream f(p);
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  return lines;
}

// The comma-separated fields of each line after the header (the CLI's CSVs quote only model
// names, which hold no commas).
std::vector<std::vector<std::string>> csv_rows(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  const auto lines = lines_of(p);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::stringstream line(lines[i]);
    auto& fields = rows.emplace_back();
    for (std::string v; std::getline(line, v, ',');) fields.push_back(v);
  }
  return rows;
}

// Mean values of one metric of model m in metrics.json (null stays NaN).
std::vector<double> mean_values(const nlohmann::json& metrics, size_t m, const std::string& metric) {
  std::vector<double> out;
  for (const auto& v : metrics["models"][m]["metrics"][metric]["mean"]["values"])
    out.push_back(v.is_null() ? std::nan("") : v.get<double>());
  return out;
}

bool have_bundled() { return fs::exists(bundled("moco")) && fs::exists(bundled("mae")); }

TEST(CliCreate, SameSeedSameWeightsAndACard) {
  const auto dir = test::temp_dir("cli-create");
  ASSERT_EQ(cli("create --preset bundled --objective mae --seed 7 --out " + quoted(dir / "a.safetensors")).code, 0);
  ASSERT_EQ(cli("create --preset bundled --objective mae --seed 7 --out " + quoted(dir / "b.safetensors")).code, 0);
  ASSERT_EQ(cli("create --preset bundled --objective mae --seed 8 --out " + quoted(dir / "c.safetensors")).code, 0);
  EXPECT_EQ(read_text(dir / "a.safetensors"), read_text(dir / "b.safetensors"));
  EXPECT_NE(read_text(dir / "a.safetensors"), read_text(dir / "c.safetensors"));
  const auto card = read_json(dir / "a.json");
  EXPECT_EQ(card["training"]["steps"], 0);
  EXPECT_EQ(card["training"]["seed"], 7);

  auto loaded = model::load_model((dir / "a.safetensors").string());
  EXPECT_TRUE(static_cast<bool>(loaded.model.mae_decoder));
  EXPECT_EQ(loaded.model.config().image_size, 32);

  auto r = cli("create --preset vit-b16 --objective moco --classes cat,dog --out " + quoted(dir / "vitb.safetensors"));
  ASSERT_EQ(r.code, 0) << r.output;
  auto vitb = model::load_model((dir / "vitb.safetensors").string());
  EXPECT_EQ(vitb.model.config().embed_dim, 768);
  EXPECT_EQ(vitb.model.config().patch_size, 16);
  EXPECT_EQ(vitb.model.config().num_classes, 2);
  EXPECT_EQ(vitb.model.card.class_names, (std::vector<std::string>{"cat", "dog"}));

  EXPECT_EQ(cli("create --preset vit-x --objective moco --out " + quoted(dir / "x.safetensors")).code, 2);
  EXPECT_EQ(cli("create --preset bundled --objective moco --out " + quoted(dir / "x.bin")).code, 2);
}

TEST(CliAnalyze, TsneIsDeterministicWithOneRowPerToken) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = test::labelled_folder(test::temp_dir("cli-tsne-images"), 3);
  const auto a = test::temp_dir("cli-tsne-a"), b = test::temp_dir("cli-tsne-b");
  const std::string args = "analyze --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
                           " --metrics tsne --tsne-images 4 --tap 6 --seed 3 --device cpu --no-figures --out ";
  auto r = cli(args + quoted(a));
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_EQ(cli(args + quoted(b)).code, 0);
  const auto csv = a / "tsne_moco-vit-128d12-p4.csv";
  ASSERT_TRUE(fs::exists(csv));
  EXPECT_EQ(read_text(csv), read_text(b / "tsne_moco-vit-128d12-p4.csv"));
  const auto rows = lines_of(csv);
  ASSERT_EQ(rows.size(), 1u + 4 * 64);  // header + 4 images x 8x8 patch tokens
  EXPECT_EQ(rows[0], "x,y,image,label");
  EXPECT_EQ(rows[1].substr(rows[1].find(',', rows[1].find(',') + 1)), ",0,\"smooth\"");
  EXPECT_EQ(rows.back().substr(rows.back().find(',', rows.back().find(',') + 1)), ",3,\"stripes\"");
  const auto metrics = read_json(a / "metrics.json");
  EXPECT_EQ(metrics["tsne"][0]["tap"], 6);
  EXPECT_EQ(metrics["tsne"][0]["points"], 256);
}

TEST(CliAnalyze, AttentionMapsPerHeadAndMeanAsCsv) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = test::image_folder("cli-maps-images", 3);
  const auto out = test::temp_dir("cli-maps");
  auto r = cli("analyze --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
               " --metrics attention-maps --max-pictures 2 --block 10 --query 2,5 --device cpu --out " + quoted(out));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto dir = out / "images" / "moco-vit-128d12-p4";
  for (const char* kind : {"attention-cls", "attention-query"}) {
    EXPECT_EQ(fs::exists(dir / ("img0_" + std::string(kind) + ".png")), kCliDrawsFigures) << kind;
    const auto rows = lines_of(dir / ("img1_" + std::string(kind) + ".csv"));
    ASSERT_EQ(rows.size(), 1u + 5 * 64);  // header + (4 heads + mean) x 8x8
    std::map<std::string, double> sums;    // every map is a distribution over the patches
    for (size_t i = 1; i < rows.size(); ++i) {
      std::stringstream line(rows[i]);
      std::string head, row, col, weight;
      std::getline(line, head, ',');
      std::getline(line, row, ',');
      std::getline(line, col, ',');
      std::getline(line, weight, ',');
      sums[head] += std::stod(weight);
    }
    ASSERT_EQ(sums.size(), 5u);
    for (const auto& [head, sum] : sums) EXPECT_NEAR(sum, 1.0, 1e-4) << kind << " head " << head;
  }
  EXPECT_FALSE(fs::exists(dir / "img2_attention-cls.csv"));  // beyond --max-pictures

  r = cli("analyze --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
          " --metrics attention-maps --query 9,0 --device cpu --no-figures --out " + quoted(out / "bad"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("outside"), std::string::npos) << r.output;
}

TEST(CliAnalyze, MaeDecoderTapsFollowTheEncoderInFourier) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = test::image_folder("cli-decoder-images", 4);
  const auto out = test::temp_dir("cli-decoder");
  auto r = cli("analyze --model " + quoted(bundled("mae")) + " --model " + quoted(bundled("moco")) + " --images " +
               quoted(images) + " --metrics fourier --device cpu --out " + quoted(out));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto metrics = read_json(out / "metrics.json");
  const auto& mae = metrics["models"][0]["metrics"];
  ASSERT_TRUE(mae.contains("decoder-delta-log-amplitude"));
  const auto decoder_depth = read_json(bundled("mae").replace_extension(".json"))["architecture"]["mae_decoder"]["depth"];
  EXPECT_EQ(mae["decoder-delta-log-amplitude"]["mean"]["shape"], nlohmann::json({2 * decoder_depth.get<int>() + 1}));
  EXPECT_EQ(mae["decoder-delta-log-amplitude"]["count"], 4);
  EXPECT_NE(mae["decoder-delta-log-amplitude"]["definition"].get<std::string>().find("unmasked"), std::string::npos);
  EXPECT_FALSE(metrics["models"][1]["metrics"].contains("decoder-delta-log-amplitude"));  // MoCo has no decoder

  // The CSV and the figure continue the encoder's depth axis: decoder tap 2j at depth 12 + j.
  std::vector<int> decoder_depths;
  for (const auto& line : lines_of(out / "delta-log-amplitude.csv"))
    if (line.find("(decoder)") != std::string::npos) decoder_depths.push_back(std::stoi(line.substr(line.find("\",") + 2)));
  ASSERT_EQ(decoder_depths.size(), decoder_depth.get<size_t>() + 1);
  EXPECT_EQ(decoder_depths.front(), 12);
  EXPECT_EQ(decoder_depths.back(), 12 + decoder_depth.get<int>());
  // Each depth's curve over frequency starts at 0 (DC minus DC) and ends at that depth's ΔLog
  // amplitude; the bundled 8×8 grid has frequencies 0, 0.25, 0.5, 0.75 π.
  std::map<std::pair<std::string, int>, double> delta_log;
  for (const auto& f : csv_rows(out / "delta-log-amplitude.csv"))
    if (f[2] == "mean" && f[0].find("decoder") == std::string::npos) delta_log[{f[0], std::stoi(f[1])}] = std::stod(f[3]);
  EXPECT_EQ(lines_of(out / "relative-log-amplitude.csv").front(), "model,depth,frequency_pi,mean,std,count");
  std::map<std::pair<std::string, int>, std::vector<std::pair<double, double>>> profiles;
  for (const auto& f : csv_rows(out / "relative-log-amplitude.csv")) {
    ASSERT_EQ(f.size(), 6u);
    EXPECT_EQ(f[5], "4");
    profiles[{f[0], std::stoi(f[1])}].emplace_back(std::stod(f[2]), std::stod(f[3]));
  }
  ASSERT_EQ(profiles.size(), 2u * 13u);  // two models, depths 0..12
  for (const auto& [key, curve] : profiles) {
    ASSERT_EQ(curve.size(), 4u);
    EXPECT_EQ(curve.front(), std::make_pair(0.0, 0.0));
    EXPECT_DOUBLE_EQ(curve.back().first, 0.75);
    ASSERT_TRUE(delta_log.count(key)) << key.first << " depth " << key.second;
    EXPECT_NEAR(curve.back().second, delta_log[key], 1e-5 * std::abs(delta_log[key]) + 1e-9) << key.first;
  }

  EXPECT_EQ(fs::exists(out / "delta-log-amplitude.png"), kCliDrawsFigures);
  EXPECT_EQ(fs::exists(out / "relative-log-amplitude.png"), kCliDrawsFigures);
  if (!kCliDrawsFigures) return;

  // Each model is drawn in its colour in the app (ui/plots/model_colors.h): MAE in the first MIM
  // colour (orange), MoCo in the first CL colour (blue); the decoder's line is MAE's orange, dashed,
  // and neither family's second colour appears.
  std::ifstream svg_file(out / "delta-log-amplitude.svg");
  const std::string svg((std::istreambuf_iterator<char>(svg_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(svg.find("stroke=\"#ff7f0e\" stroke-opacity=\"1\" stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#1f77b4\""), std::string::npos);
  for (const char* unused : {"#d62728", "#17becf"}) EXPECT_EQ(svg.find(unused), std::string::npos) << unused;
}

TEST(CliAnalyze, InputFilterChangesWhatTheModelSees) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = test::image_folder("cli-filter-images", 4);
  const auto plain = test::temp_dir("cli-filter-plain"), low = test::temp_dir("cli-filter-low");
  const std::string args = "analyze --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
                           " --metrics fourier,nmi --device cpu --no-figures";
  ASSERT_EQ(cli(args + " --out " + quoted(plain)).code, 0);
  auto r = cli(args + " --input-filter lowpass:0.8 --out " + quoted(low));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto a = read_json(plain / "metrics.json"), b = read_json(low / "metrics.json");
  // Depth 0 is the patch embedding of the input: a low-passed input has less high frequency.
  EXPECT_LT(mean_values(b, 0, "delta-log-amplitude")[0], mean_values(a, 0, "delta-log-amplitude")[0] - 0.05);
  EXPECT_NE(mean_values(a, 0, "nmi"), mean_values(b, 0, "nmi"));
  EXPECT_NE(b["input_filter"].get<std::string>().find("lowpass:0.8"), std::string::npos);

  for (const char* bad : {"lowpass", "bandpass:1,0.5", "notch:1", "highpass:x"}) {
    r = cli(args + " --input-filter " + bad + " --out " + quoted(low / "bad"));
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.output.find("--input-filter"), std::string::npos) << r.output;
  }
}

TEST(CliAnalyze, LinearProbePerDepthSeparatesSeparableClasses) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto root = test::temp_dir("cli-probe-data");
  const auto train = test::labelled_folder(root / "train", 12), test_set = test::labelled_folder(root / "test", 6);
  const auto out = test::temp_dir("cli-probe");
  auto r = cli("analyze --model " + quoted(bundled("moco")) + " --metrics linear-probe --probe-train " +
               quoted(train) + " --probe-test " + quoted(test_set) + " --probe-epochs 40 --device cpu --out " + quoted(out));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto probe = read_json(out / "linear_probe.json");
  ASSERT_EQ(probe.size(), 1u);
  const auto linear = probe[0]["linear_top1"].get<std::vector<double>>();
  const auto knn = probe[0]["knn_top1"].get<std::vector<double>>();
  ASSERT_EQ(linear.size(), 12u);  // depth 1..12
  ASSERT_EQ(knn.size(), 12u);
  for (size_t k = 0; k < 12; ++k) {
    EXPECT_TRUE(linear[k] >= 0 && linear[k] <= 1) << k;
    EXPECT_TRUE(knn[k] >= 0 && knn[k] <= 1) << k;
  }
  // Gradients against stripes: linearly separable at some depth, for the probe and for kNN.
  EXPECT_GE(*std::max_element(linear.begin(), linear.end()), 0.9);
  EXPECT_GE(*std::max_element(knn.begin(), knn.end()), 0.9);
  EXPECT_EQ(lines_of(out / "linear_probe.csv").size(), 13u);
}

TEST(CliAnalyze, NoiseRobustnessNeedsAClassifierHead) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto dir = test::temp_dir("cli-noise");
  const auto images = test::labelled_folder(dir / "data", 4);
  ASSERT_EQ(cli("create --preset bundled --objective moco --classes stripes,smooth --out " +
                quoted(dir / "classifier.safetensors")).code, 0);
  auto r = cli("analyze --model " + quoted(bundled("moco")) + " --model " + quoted(dir / "classifier.safetensors") +
               " --images " + quoted(images) + " --metrics noise-robustness --noise-bands 0,1.5,3 --device cpu --out " +
               quoted(dir / "out"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("skipped moco-vit-128d12-p4: moco-vit-128d12-p4 has no classifier head"), std::string::npos)
      << r.output;
  const auto results = read_json(dir / "out" / "noise_robustness.json");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].contains("skipped"));
  const auto& measured = results[1];
  EXPECT_EQ(measured["band_centres"], nlohmann::json({0, 1.5, 3}));
  EXPECT_EQ(measured["images"], 8);
  EXPECT_NE(measured["label_mapping"].get<std::string>().find("by class name"), std::string::npos);
  for (const auto& a : measured["noisy_top1"]) EXPECT_TRUE(a.get<double>() >= 0 && a.get<double>() <= 1);
  EXPECT_EQ(lines_of(dir / "out" / "noise_robustness.csv").size(), 4u);

  r = cli("analyze --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
          " --metrics noise-robustness --device cpu --out " + quoted(dir / "none"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("none of the models has a classifier head"), std::string::npos) << r.output;
}

TEST(CliAnalyze, UnreadableFilesAreSkippedAndReported) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = test::image_folder("cli-unreadable-images", 3);
  std::ofstream(images / "broken.png") << "not a png";
  std::ofstream(images / "empty.jpg");
  const auto out = test::temp_dir("cli-unreadable");
  auto r = cli("analyze --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
               " --metrics attention-distance,fourier --batch-size 2 --device cpu --no-figures --out " + quoted(out));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("skipped: "), std::string::npos);
  EXPECT_NE(r.output.find("broken.png"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("empty.jpg"), std::string::npos) << r.output;
  const auto metrics = read_json(out / "metrics.json");
  EXPECT_EQ(metrics["images"], 3);
  ASSERT_EQ(metrics["skipped"].size(), 2u);
  EXPECT_EQ(metrics["models"][0]["metrics"]["attention-distance"]["count"], 3);
}

TEST(CliAnalyze, NanActivationsAreReportedNotPlottedAsZeros) {
  if (!have_bundled()) GTEST_SKIP() << "no bundled models in resources/models";
  const auto dir = test::temp_dir("cli-nan");
  {
    // A model file whose weights hold NaN: every activation from block 4 on is NaN.
    auto loaded = model::load_model(bundled("moco").string());
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : loaded.model.named_tensors())
      if (name == "encoder.blocks.3.mlp.fc1.bias") t.fill_(std::nan(""));
    loaded.model.card.name = "nan-moco";
    model::save_model(loaded.model, (dir / "nan.safetensors").string());
  }
  const auto images = test::image_folder("cli-nan-images", 3);
  auto r = cli("analyze --model " + quoted(bundled("moco")) + " --model " + quoted(dir / "nan.safetensors") +
               " --images " + quoted(images) +
               " --metrics attention-distance,nmi,fourier,svd,pca,tsne --tsne-images 3 --device cpu --out " +
               quoted(dir / "out"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("nan-moco: 3 of 3 images have NaN/Inf values in nmi"), std::string::npos) << r.output;
  const auto metrics = read_json(dir / "out" / "metrics.json");
  for (const char* metric : {"attention-distance", "nmi", "delta-log-amplitude", "effective-rank"}) {
    const auto& m = metrics["models"][1]["metrics"][metric];
    EXPECT_EQ(m["count"], 0) << metric;
    EXPECT_EQ(m["invalid_images"], nlohmann::json({0, 1, 2})) << metric;
    for (const auto& v : m["mean"]["values"]) EXPECT_TRUE(v.is_null()) << metric << ": " << v;  // never 0
    EXPECT_EQ(metrics["models"][0]["metrics"][metric]["count"], 3) << metric;  // the healthy model is unaffected
  }
  // In the CSV the invalid curve reads "nan", never a number.
  for (const auto& line : lines_of(dir / "out" / "nmi.csv")) {
    if (line.rfind("\"nan-moco\"", 0) == 0) {
      EXPECT_NE(line.find(",nan,"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(fs::exists(dir / "out" / "nmi.png"), kCliDrawsFigures);
  EXPECT_FALSE(fs::exists(dir / "out" / "images" / "nan-moco"));  // no pictures of NaN
  EXPECT_TRUE(fs::exists(dir / "out" / "tsne_moco-vit-128d12-p4.csv"));
  EXPECT_FALSE(fs::exists(dir / "out" / "tsne_nan-moco.csv"));
  EXPECT_EQ(metrics["tsne"][1]["left_out_images"], nlohmann::json({0, 1, 2}));
}

}  // namespace
