#include "core/model/model.h"

#include <filesystem>
#include <fstream>

#include "core/io/checkpoint_file.h"
#include "core/io/tensor_convert.h"

namespace vitscope::model {

Model Model::create(const ModelCard& card) {
  Model m;
  m.card = card;
  const auto& v = card.vit;
  m.encoder = VisionTransformer(v);
  if (card.mae_decoder) m.mae_decoder = MaeDecoder(*card.mae_decoder, v.embed_dim, v.grid(), v.patch_size, v.in_channels);
  if (card.simmim_head) m.simmim_head = SimMimHead(v.embed_dim, v.patch_size, v.in_channels);
  if (card.moco_heads) {
    const auto& h = *card.moco_heads;
    m.moco_projector = MlpHead(v.embed_dim, h.hidden_dim, h.out_dim, 3);
    m.moco_predictor = MlpHead(h.out_dim, h.hidden_dim, h.out_dim, 2);
  }
  return m;
}

namespace {
template <typename F>
void for_each_component(const Model& m, F&& f) {
  f("encoder", m.encoder.ptr());
  if (m.mae_decoder) f("mae_decoder", m.mae_decoder.ptr());
  if (m.simmim_head) f("simmim_head", m.simmim_head.ptr());
  if (m.moco_projector) f("moco_projector", m.moco_projector.ptr());
  if (m.moco_predictor) f("moco_predictor", m.moco_predictor.ptr());
}
}  // namespace

torch::Device Model::device() const { return encoder->patch_embed->proj->weight.device(); }

void Model::to(const torch::Device& device) {
  for_each_component(*this, [&](const char*, const std::shared_ptr<torch::nn::Module>& m) { m->to(device); });
}

void Model::eval() { train(false); }

void Model::train(bool on) {
  for_each_component(*this, [&](const char*, const std::shared_ptr<torch::nn::Module>& m) { m->train(on); });
}

int64_t Model::num_parameters(bool encoder_only) const {
  int64_t n = 0;
  for_each_component(*this, [&](const char* name, const std::shared_ptr<torch::nn::Module>& m) {
    if (encoder_only && std::string(name) != "encoder") return;
    for (const auto& p : m->parameters()) n += p.numel();
  });
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> Model::named_tensors() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for_each_component(*this, [&](const char* prefix, const std::shared_ptr<torch::nn::Module>& m) {
    for (const auto& p : m->named_parameters()) out.emplace_back(std::string(prefix) + "." + p.key(), p.value());
    for (const auto& b : m->named_buffers()) out.emplace_back(std::string(prefix) + "." + b.key(), b.value());
  });
  return out;
}

std::vector<std::shared_ptr<torch::nn::Module>> Model::modules() const {
  std::vector<std::shared_ptr<torch::nn::Module>> out;
  for_each_component(*this, [&](const char*, const std::shared_ptr<torch::nn::Module>& m) { out.push_back(m); });
  return out;
}

void save_model(const Model& model, const std::string& path, bool half_precision) {
  io::TensorMap map;
  for (const auto& [name, t] : model.named_tensors()) {
    // Index buffers and BN counters keep their integer dtype; floats may go to fp16.
    map.insert(name, io::from_torch(t, half_precision && t.is_floating_point()));
  }
  io::write_safetensors(path, map, {{"format", "pt"}, {"vitscope", "1"}});
  auto card_path = std::filesystem::path(path).replace_extension(".json");
  auto tmp = card_path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp);
    f << to_json(model.card).dump(2) << "\n";
    if (!f) throw std::runtime_error(card_path.string() + ": cannot write model card");
  }
  std::filesystem::rename(tmp, card_path);
}

}  // namespace vitscope::model
