#include "core/runtime/training_diagnostics.h"

#include "core/analysis/attention_distance.h"
#include "core/analysis/attention_maps.h"
#include "core/analysis/fourier.h"
#include "core/analysis/nmi.h"
#include "core/runtime/plain_data.h"

namespace vitscope::runtime {

TrainingDiagnostics training_diagnostics(model::Model& model, const torch::Tensor& probe_input,
                                         const torch::Tensor& probe_pixels, int64_t step) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.encoder->is_training();
  model.encoder->eval();
  model::Capture capture;
  model.encoder->forward_features(probe_input, model::CaptureRequest::everything(model.config().depth), &capture);
  model.encoder->train(was_training);
  for (auto& a : capture.attentions) a = a.to(torch::kCPU, torch::kFloat32);
  for (auto& t : capture.taps) t = t.to(torch::kCPU, torch::kFloat32);

  TrainingDiagnostics d;
  d.step = step;
  d.attention_distance = explorer_doubles(analysis::attention_distance_table(capture).per_layer);
  d.nmi = explorer_doubles(analysis::nmi_table(capture).per_layer);
  d.delta_log_amplitude = explorer_doubles(analysis::fourier_analysis(capture).delta_log_amplitude);
  d.cls_attention = explorer_grid(analysis::attention_map(capture, capture.depth() - 1, 0, analysis::kMeanOverHeads,
                                                          analysis::AttentionQuery::cls()));
  d.probe_image = explorer_rgb(probe_pixels);
  return d;
}

}  // namespace vitscope::runtime
