#include "core/analysis/label_free_probe.h"

#include <stdexcept>

namespace vitscope::analysis {

torch::Tensor centred_cosine(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& reference) {
  if (a.dim() != 2 || a.sizes() != b.sizes()) throw std::invalid_argument("centred_cosine needs two (B, D) tensors of one shape");
  const auto r = reference.to(a.device(), torch::kFloat64);
  const auto x = a.to(torch::kFloat64) - r, y = b.to(torch::kFloat64) - r;
  const auto norms = x.norm(2, 1) * y.norm(2, 1);
  return torch::where(norms > 0, (x * y).sum(1) / norms.clamp_min(1e-300), torch::zeros_like(norms));
}

torch::Tensor view_similarity(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& views,
                              const std::vector<torch::Tensor>& reference, int64_t num_views) {
  if (originals.size() != views.size() || originals.size() != reference.size() || originals.empty())
    throw std::invalid_argument("view_similarity: originals, views and reference need one entry per layer");
  std::vector<torch::Tensor> per_layer;
  for (size_t l = 0; l < originals.size(); ++l) {
    const int64_t b = originals[l].size(0), d = originals[l].size(1);
    if (views[l].size(0) != b * num_views) throw std::invalid_argument("view_similarity: expected B·V view rows");
    const auto repeated = originals[l].unsqueeze(1).expand({b, num_views, d}).reshape({b * num_views, d});
    per_layer.push_back(centred_cosine(views[l], repeated, reference[l].reshape({1, d})).reshape({b, num_views}));
  }
  return torch::stack(per_layer, 2);
}

LabelFreeResult summarize_label_free(const torch::Tensor& similarity, const std::vector<std::string>& views,
                                     const std::vector<Cue>& keeps) {
  if (similarity.dim() != 3 || similarity.size(1) != static_cast<int64_t>(keeps.size()) || views.size() != keeps.size())
    throw std::invalid_argument("summarize_label_free: similarity must be (images, views, layers), one cue per view");
  std::vector<int64_t> shape_views, texture_views;
  for (size_t v = 0; v < keeps.size(); ++v) (keeps[v] == Cue::Shape ? shape_views : texture_views).push_back(static_cast<int64_t>(v));
  if (shape_views.empty() || texture_views.empty())
    throw std::invalid_argument("the shape-reliance index needs at least one shape-keeping and one texture-keeping view");
  const auto s = similarity.to(torch::kFloat64);
  const auto pick = [&](const std::vector<int64_t>& v) { return s.index_select(1, torch::tensor(v, torch::kInt64).to(s.device())).mean(1); };
  LabelFreeResult r;
  r.views = views;
  r.keeps = keeps;
  r.similarity = s;
  r.mean_similarity = s.mean(0);
  r.index_per_layer = (pick(shape_views) - pick(texture_views)).mean(0);  // (L)
  r.shape_reliance_index = r.index_per_layer.mean().item<double>();
  r.metadata = {
      {"representation", "z_l(x): per layer l, a D-vector (ViTs: mean of the patch tokens of block l's output, "
                         "before the final norm)"},
      {"similarity", "s_l(x, v) = cos(z_l(v) - z_l(g), z_l(x) - z_l(g)), g = uniform mid-grey image (0.5) of the "
                     "same size"},
      {"shape_reliance_index", "SRI = mean over layers l of [mean over shape-keeping views v of s_l(x, v) - mean over "
                               "texture-keeping views v of s_l(x, v)], averaged over images; range [-2, 2], > 0 = "
                               "shape-reliant"},
      {"images", std::to_string(s.size(0))},
      {"spec", "docs/PROBES.md (not an analysis of the paper; tests its claim CL = shape, MIM = texture)"},
  };
  return r;
}

torch::Tensor grey_reference(int64_t height, int64_t width, const torch::TensorOptions& options) {
  return torch::full({1, 3, height, width}, 0.5, options);
}

std::vector<torch::Tensor> reference_features(const LayerFeatures& features, int64_t height, int64_t width,
                                              const torch::TensorOptions& options) {
  std::vector<torch::Tensor> rows;
  for (const auto& layer : features(grey_reference(height, width, options))) rows.push_back(layer[0]);
  return rows;
}

torch::Tensor image_view_similarity(const LayerFeatures& features, const std::vector<torch::Tensor>& reference,
                                    const torch::Tensor& image, const ProbeViews& views) {
  const auto num_views = views.images.size(0);
  std::vector<torch::Tensor> originals, view_features;
  for (const auto& layer : features(torch::cat({image.unsqueeze(0), views.images.to(image.device(), image.scalar_type())}))) {
    originals.push_back(layer.narrow(0, 0, 1));
    view_features.push_back(layer.narrow(0, 1, num_views));
  }
  return view_similarity(originals, view_features, reference, num_views);
}

std::vector<LabelFreeResult> label_free_probe(const std::vector<LayerFeatures>& models, const torch::Tensor& images,
                                              const std::vector<ProbeTransform>& transforms,
                                              const std::function<void(int64_t)>& after_image) {
  if (images.dim() != 4 || images.size(0) == 0) throw std::invalid_argument("label_free_probe needs (B, 3, H, W) images");
  std::vector<std::vector<torch::Tensor>> references;     // per model, per layer: (D)
  std::vector<std::vector<torch::Tensor>> similarities;  // per model, per image: (1, V, L)
  for (const auto& features : models) {
    references.push_back(reference_features(features, images.size(2), images.size(3), images.options()));
    similarities.emplace_back();
  }
  for (int64_t i = 0; i < images.size(0); ++i) {
    const auto views = probe_views(images[i], transforms);
    for (size_t m = 0; m < models.size(); ++m)
      similarities[m].push_back(image_view_similarity(models[m], references[m], images[i], views));
    if (after_image) after_image(i + 1);
  }
  std::vector<std::string> names;
  std::vector<Cue> keeps;
  for (const auto& t : transforms) names.push_back(t.name), keeps.push_back(t.keeps);
  std::vector<LabelFreeResult> out;
  for (const auto& s : similarities) out.push_back(summarize_label_free(torch::cat(s), names, keeps));
  return out;
}

LayerFeatures in_chunks(LayerFeatures features, int64_t chunk) {
  return [features = std::move(features), chunk](const torch::Tensor& images) {
    std::vector<std::vector<torch::Tensor>> parts;  // per chunk, per layer
    for (int64_t start = 0; start < images.size(0); start += chunk)
      parts.push_back(features(images.narrow(0, start, std::min(chunk, images.size(0) - start))));
    std::vector<torch::Tensor> out;
    for (size_t l = 0; l < parts.front().size(); ++l) {
      std::vector<torch::Tensor> layer;
      for (const auto& p : parts) layer.push_back(p[l]);
      out.push_back(torch::cat(layer));
    }
    return out;
  };
}

}  // namespace vitscope::analysis
