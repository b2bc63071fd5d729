// vitscope-cli run MODEL IMAGE...: forward with a capture request; writes the captured
// attentions and residual-stream taps per image as safetensors, plus a summary JSON.
#include <chrono>
#include <iostream>

#include "app/cli/common.h"
#include "core/io/checkpoint_file.h"
#include "core/io/image.h"
#include "core/io/tensor_convert.h"

namespace vitscope::cli {
namespace {

int run_run(const Args& args) {
  if (args.positionals().size() < 2) throw UsageError("run needs a MODEL and at least one IMAGE");
  const auto out_dir = make_output_dir(args.require("out"));
  const auto device = device_from(args).device;
  const std::string capture_text = args.get("capture", "all");
  const bool half = args.flag("half");
  auto loaded = load_for_cli(args.positionals()[0], args, device);
  args.reject_unknown();
  auto& m = loaded.model;
  const auto request = model::CaptureRequest::parse(capture_text, m.config().depth);

  nlohmann::json summary = {{"model", model::to_json(m.card)},
                            {"load_report", loaded.report.to_json()},
                            {"device", runtime::describe(device)},
                            {"capture", capture_text},
                            {"tap_layout", "tap 0 = embedding; tap 2k-1 / 2k = block k after attention / MLP "
                                           "residual (pre final norm); attn.k = block k+1, post-softmax (H,N,N)"},
                            {"images", nlohmann::json::array()}};
  int failures = 0;
  torch::NoGradGuard no_grad;
  for (size_t i = 1; i < args.positionals().size(); ++i) {
    const std::string path = args.positionals()[i];
    nlohmann::json entry = {{"image", path}};
    try {
      auto x = io::load_model_input(path, m.config().image_size, m.card.preprocess).to(device);
      model::Capture cap;
      const auto t0 = std::chrono::steady_clock::now();
      auto tokens = m.encoder->forward_features(x, request, &cap);
      if (device.is_cuda()) torch::cuda::synchronize();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      io::TensorMap out;
      for (int k = 0; k < cap.depth(); ++k)
        if (cap.attentions[k].defined()) out.insert("attn." + std::to_string(k), io::from_torch(cap.attentions[k][0], half));
      for (size_t t = 0; t < cap.taps.size(); ++t)
        if (cap.taps[t].defined()) out.insert("tap." + std::to_string(t), io::from_torch(cap.taps[t][0], half));
      out.insert("tokens", io::from_torch(tokens[0], half));
      out.insert("input", io::from_torch(x[0]));
      const auto stem = std::filesystem::path(path).stem().string();
      const auto file = out_dir / (stem + ".safetensors");
      io::write_safetensors(file.string(), out, {{"model", m.card.name}, {"image", path}, {"capture", capture_text}});
      const bool finite = torch::isfinite(tokens).all().item<bool>();
      entry.update({{"output", file.string()}, {"forward_ms", ms}, {"tensors", out.size()}, {"finite", finite}});
      if (!finite) std::cerr << "warning: " << path << ": NaN or Inf in the activations\n";
      std::cout << path << " -> " << file.string() << " (" << out.size() << " tensors, " << ms << " ms)\n";
    } catch (const std::exception& e) {
      // A bad image is reported and skipped; the others are still processed.
      std::cerr << "error: " << e.what() << "\n";
      entry["error"] = e.what();
      ++failures;
    }
    summary["images"].push_back(entry);
  }
  write_text(out_dir / "summary.json", summary.dump(2) + "\n");
  return failures == 0 ? 0 : 1;
}

const bool run_registered = register_command(
    {"run", "forward images, write captured attentions and tokens (safetensors) + summary.json",
     std::string("usage: vitscope-cli run MODEL IMAGE... --out DIR [--device cpu|cuda|auto]\n"
                 "                        [--capture SPEC] [--half] [model options]\n\n"
                 "  --capture SPEC     all (default) | attn[:i,j] | taps[:i,j], joined by ';'\n"
                 "                     e.g. 'attn:11;taps:0,24'. Taps: 0 = embedding, 2k-1 / 2k = block k\n"
                 "                     after attention / MLP (before the final norm)\n"
                 "  --half             store the captured tensors as fp16\n\n") + kLoadOptionsHelp,
     {"half", "norm-pix"},
     run_run});

}  // namespace
}  // namespace vitscope::cli
