#include "core/model/model_card.h"

#include <cstdio>
#include <stdexcept>

namespace vitscope::model {

namespace {
struct FamilyName { Family f; const char* name; };
constexpr FamilyName kFamilies[] = {
    {Family::ViTScope, "vitscope"}, {Family::Timm, "timm"},        {Family::MocoV3, "mocov3"},
    {Family::Dino, "dino"},         {Family::Ibot, "ibot"},        {Family::Mae, "mae"},
    {Family::SimMim, "simmim"},     {Family::HfVit, "hf-vit"},     {Family::HfVitMae, "hf-vitmae"},
    {Family::HfDinov2, "hf-dinov2"}, {Family::Dinov2, "dinov2"},   {Family::Beit, "beit"},
    {Family::Torchvision, "torchvision"},
};
}  // namespace

const char* objective_name(Objective o) {
  switch (o) {
    case Objective::Contrastive: return "CL";
    case Objective::MaskedImageModeling: return "MIM";
    case Objective::Hybrid: return "hybrid";
    case Objective::Supervised: return "supervised";
    case Objective::Unknown: break;
  }
  return "unknown";
}

Objective objective_from_name(const std::string& s) {
  for (auto o : {Objective::Contrastive, Objective::MaskedImageModeling, Objective::Hybrid, Objective::Supervised})
    if (s == objective_name(o)) return o;
  return Objective::Unknown;
}

const char* family_name(Family f) {
  for (const auto& e : kFamilies)
    if (e.f == f) return e.name;
  return "unknown";
}

Family family_from_name(const std::string& s) {
  for (const auto& e : kFamilies)
    if (s == e.name) return e.f;
  throw std::invalid_argument("unknown model family '" + s + "'");
}

std::string ModelCard::objective_label() const {
  if (objective == Objective::Hybrid && lambda) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "hybrid λ=%.2g", *lambda);
    return buf;
  }
  return objective_name(objective);
}

nlohmann::json to_json(const ModelCard& c) {
  nlohmann::json j;
  j["format"] = "vitscope-model-card";
  j["version"] = 1;
  j["name"] = c.name;
  j["family"] = family_name(c.family);
  j["objective"] = objective_name(c.objective);
  if (c.lambda) j["lambda"] = *c.lambda;
  j["architecture"] = {{"vit", to_json(c.vit)}};
  if (c.mae_decoder) j["architecture"]["mae_decoder"] = to_json(*c.mae_decoder);
  if (c.simmim_head) j["architecture"]["simmim_head"] = true;
  if (c.moco_heads)
    j["architecture"]["moco_heads"] = {{"hidden_dim", c.moco_heads->hidden_dim}, {"out_dim", c.moco_heads->out_dim}};
  j["preprocess"] = {
      {"mode", c.preprocess.mode == Preprocess::Mode::Resize ? "resize" : "resize_shorter_center_crop"},
      {"crop_fraction", c.preprocess.crop_fraction},
      {"mean", c.preprocess.mean},
      {"std", c.preprocess.std}};
  if (!c.class_names.empty()) j["class_names"] = c.class_names;
  j["training"] = c.training;
  j["metrics"] = c.metrics;
  if (!c.lineage.empty()) j["lineage"] = c.lineage;
  if (!c.description.empty()) j["description"] = c.description;
  return j;
}

ModelCard model_card_from_json(const nlohmann::json& j) {
  ModelCard c;
  c.name = j.value("name", std::string());
  c.family = family_from_name(j.value("family", std::string("vitscope")));
  c.objective = objective_from_name(j.value("objective", std::string("unknown")));
  if (j.contains("lambda") && !j["lambda"].is_null()) c.lambda = j["lambda"].get<double>();
  const auto& arch = j.at("architecture");
  c.vit = vit_config_from_json(arch.at("vit"));
  if (arch.contains("mae_decoder")) c.mae_decoder = mae_decoder_config_from_json(arch["mae_decoder"]);
  c.simmim_head = arch.value("simmim_head", false);
  if (arch.contains("moco_heads"))
    c.moco_heads = ModelCard::MocoHeads{arch["moco_heads"].value("hidden_dim", 4096), arch["moco_heads"].value("out_dim", 256)};
  if (j.contains("preprocess")) {
    const auto& p = j["preprocess"];
    c.preprocess.mode = p.value("mode", std::string()) == "resize" ? Preprocess::Mode::Resize
                                                                    : Preprocess::Mode::ResizeShorterCenterCrop;
    c.preprocess.crop_fraction = p.value("crop_fraction", c.preprocess.crop_fraction);
    if (p.contains("mean")) c.preprocess.mean = p["mean"].get<std::array<float, 3>>();
    if (p.contains("std")) c.preprocess.std = p["std"].get<std::array<float, 3>>();
  }
  if (j.contains("class_names")) c.class_names = j["class_names"].get<std::vector<std::string>>();
  c.training = j.value("training", nlohmann::json::object());
  c.metrics = j.value("metrics", nlohmann::json::object());
  c.lineage = j.value("lineage", nlohmann::json::object());
  c.description = j.value("description", std::string());
  return c;
}

}  // namespace vitscope::model
