// vitscope-cli info MODEL: family, configuration, parameters and the load report.
#include <iostream>

#include "app/cli/common.h"

namespace vitscope::cli {
namespace {

int run_info(const Args& args) {
  if (args.positionals().size() != 1) throw UsageError("info takes exactly one MODEL");
  const bool as_json = args.flag("json");
  auto loaded = model::load_model(args.positionals()[0], load_options_from(args));
  args.reject_unknown();
  const auto& m = loaded.model;
  const auto& c = m.config();
  if (as_json) {
    nlohmann::json j = {{"card", model::to_json(m.card)},
                        {"parameters", m.num_parameters()},
                        {"encoder_parameters", m.num_parameters(true)},
                        {"load_report", loaded.report.to_json()}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model:       " << (m.card.name.empty() ? args.positionals()[0] : m.card.name) << "\n"
            << "objective:   " << m.card.objective_label() << "\n"
            << "architecture: ViT " << c.embed_dim << "-d, " << c.depth << " blocks, " << c.num_heads << " heads, patch "
            << c.patch_size << ", " << c.image_size << "x" << c.image_size << " input, " << c.num_tokens() << " tokens\n"
            << "heads:       " << (m.mae_decoder ? "MAE decoder " : "") << (m.simmim_head ? "SimMIM head " : "")
            << (m.moco_projector ? "MoCo projector+predictor " : "") << (m.encoder->head ? "classifier " : "")
            << (m.mae_decoder || m.simmim_head || m.moco_projector || m.encoder->head ? "" : "none") << "\n"
            << "parameters:  " << m.num_parameters() << " (encoder " << m.num_parameters(true) << ")\n\n"
            << loaded.report.text();
  if (!m.card.metrics.empty()) std::cout << "metrics:     " << m.card.metrics.dump() << "\n";
  return 0;
}

const bool info_registered = register_command(
    {"info", "describe a checkpoint: family, architecture, parameters, load report",
     std::string("usage: vitscope-cli info MODEL [--json] [model options]\n\n"
                 "MODEL: .safetensors, .pth/.pth.tar/.bin (PyTorch zip), or a Hugging Face folder.\n"
                 "  --json             machine-readable output\n\n") + kLoadOptionsHelp,
     {"json", "norm-pix"},
     run_info});

}  // namespace
}  // namespace vitscope::cli
