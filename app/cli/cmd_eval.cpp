// vitscope-cli eval MODEL --data PATH: kNN and linear-probe top-1 on frozen features and the
// reconstruction loss of MIM models; writes the metrics as JSON, optionally into the model card.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/common.h"
#include "core/io/dataset.h"
#include "core/train/evaluation.h"

namespace vitscope::cli {
namespace {

namespace fs = std::filesystem;

// Merges `metrics` into the "metrics" object of MODEL's card (<stem>.json), atomically.
void update_card(const std::string& model_path, const nlohmann::json& metrics) {
  const auto card_path = fs::path(model_path).replace_extension(".json");
  std::ifstream in(card_path);
  if (!in) throw std::runtime_error(card_path.string() + ": no model card to update (only ViTScope models have one)");
  auto card = nlohmann::json::parse(in);
  if (!card.contains("metrics") || !card["metrics"].is_object()) card["metrics"] = nlohmann::json::object();
  card["metrics"].update(metrics);
  auto tmp = card_path;
  tmp += ".tmp";
  write_text(tmp, card.dump(2) + "\n");
  fs::rename(tmp, card_path);
}

int run_eval(const Args& args) {
  if (args.positionals().size() != 1) throw UsageError("eval takes exactly one MODEL");
  runtime::tune_process();
  const std::string model_path = args.positionals()[0];
  const std::string data_path = args.require("data");
  const auto device = device_from(args).device;
  train::EvaluationOptions o;
  o.readout = train::feature_readout_from_name(args.get("feature", "cls"));
  o.knn.k = args.get_int("knn-k", o.knn.k);
  o.knn.temperature = args.get_double("knn-temperature", o.knn.temperature);
  o.probe.epochs = args.get_int("linear-probe-epochs", o.probe.epochs);
  o.probe.lr = args.get_double("linear-probe-lr", o.probe.lr);
  o.probe.weight_decay = args.get_double("linear-probe-weight-decay", o.probe.weight_decay);
  o.run_knn = !args.flag("no-knn");
  o.run_linear_probe = !args.flag("no-linear-probe");
  o.run_reconstruction = !args.flag("no-reconstruction");
  o.batch_size = args.get_int("batch-size", o.batch_size);
  o.seed = static_cast<uint64_t>(args.get_int("seed", 0));
  io::DatasetOptions train_data, test_data;
  train_data.split = args.get("train-split", "train");
  test_data.split = args.get("test-split", "test");
  train_data.max_per_class = test_data.max_per_class = args.get_int("max-per-class", 0);
  train_data.num_threads = test_data.num_threads = args.get_int("threads", 0);
  const auto data_size = args.find("data-image-size");
  const std::string out = args.get("out", (fs::path(model_path).parent_path() / (fs::path(model_path).stem().string() + "-eval.json")).string());
  const bool update = args.flag("update-card");
  auto loaded = load_for_cli(model_path, args, device);
  args.reject_unknown();
  auto& model = loaded.model;
  // Decode at the model's input size unless told otherwise (then batches are resized on the fly).
  train_data.image_size = test_data.image_size = data_size ? std::stoi(*data_size) : model.config().image_size;

  auto bank = io::load_dataset(data_path, train_data).to(device);
  auto queries = io::load_dataset(data_path, test_data).to(device);
  report_skipped(bank.skipped);
  report_skipped(queries.skipped);
  std::printf("data: %s (%lld images) -> %s (%lld images), %d classes\n", bank.source.c_str(),
              static_cast<long long>(bank.size()), queries.source.c_str(), static_cast<long long>(queries.size()),
              bank.num_classes());
  const auto t0 = std::chrono::steady_clock::now();
  auto metrics = train::evaluate(model, bank, queries, o, [](const std::string& s) {
    std::printf("evaluating: %s\n", s.c_str());
    std::fflush(stdout);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& [name, m] : metrics.items()) std::printf("%-20s %.4f\n", name.c_str(), m["value"].get<double>());
  const nlohmann::json report = {{"model", model_path},
                                 {"card_name", model.card.name},
                                 {"objective", model.card.objective_label()},
                                 {"device", runtime::describe(device)},
                                 {"seconds", seconds},
                                 {"metrics", metrics}};
  write_text(out, report.dump(2) + "\n");
  std::printf("metrics: %s\n", out.c_str());
  if (update) {
    update_card(model_path, metrics);
    std::printf("model card updated: %s\n", fs::path(model_path).replace_extension(".json").string().c_str());
  }
  return 0;
}

const bool eval_registered = register_command(
    {"eval", "kNN / linear-probe top-1 and reconstruction loss of a model on a labelled data set",
     std::string("usage: vitscope-cli eval MODEL --data PATH [options] [model options]\n\n"
                 "  --data PATH              image folder or .tar.gz with train/ and test/ class folders\n"
                 "  --train-split train --test-split test   sub-folders: kNN bank / probe training set, queries\n"
                 "  --max-per-class N        first N images per class of each split (quick runs)\n"
                 "  --data-image-size N      decode images at N px (default: the model's input size);\n"
                 "                           batches are resized to the model's size when they differ\n"
                 "  --feature cls|mean_patch CLS token after the final norm (default) or mean patch token\n"
                 "  --knn-k 20 --knn-temperature 0.07   cosine kNN, exp(sim/T)-weighted votes (DINO)\n"
                 "  --linear-probe-epochs 100 --linear-probe-lr 1e-3 --linear-probe-weight-decay 1e-4\n"
                 "                           linear layer on standardised frozen features, AdamW + cosine\n"
                 "  --no-knn --no-linear-probe --no-reconstruction   skip a metric\n"
                 "  --batch-size 256 --seed 0 --device auto|cpu|cuda --threads N\n"
                 "  --out FILE.json          default: <model stem>-eval.json\n"
                 "  --update-card            also store the metrics in the model card (<stem>.json)\n\n") +
         kLoadOptionsHelp,
     {"no-knn", "no-linear-probe", "no-reconstruction", "update-card", "norm-pix"},
     run_eval});

}  // namespace
}  // namespace vitscope::cli
