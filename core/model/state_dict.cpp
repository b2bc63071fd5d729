#include "core/model/state_dict.h"

#include <set>
#include <sstream>

#include "core/io/tensor_convert.h"

namespace vitscope::model {

std::string StateLoadResult::summary() const {
  std::ostringstream s;
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    s << v.size() << " " << what << " (";
    for (size_t i = 0; i < v.size() && i < 5; ++i) s << (i ? ", " : "") << v[i];
    if (v.size() > 5) s << ", …";
    s << "); ";
  };
  s << loaded.size() << " loaded; ";
  list("missing", missing);
  list("unexpected", unexpected);
  list("shape mismatches", mismatched);
  return s.str();
}

StateLoadResult load_state(Model& model, const io::TensorMap& tensors) {
  StateLoadResult r;
  torch::NoGradGuard no_grad;
  std::set<std::string> seen;
  for (auto& [name, target] : model.named_tensors()) {
    seen.insert(name);
    auto it = tensors.tensors.find(name);
    if (it == tensors.tensors.end()) {
      r.missing.push_back(name);
      continue;
    }
    const auto& src = it->second;
    if (src.shape != target.sizes().vec()) {
      r.mismatched.push_back(name + ": file " + c10::str(c10::IntArrayRef(src.shape)) + " vs model " +
                             c10::str(target.sizes()));
      continue;
    }
    target.copy_(io::view_as_torch(src));  // straight from the file's bytes: dtype and device convert on the way
    r.loaded.push_back(name);
  }
  for (const auto& name : tensors.names)
    if (!seen.count(name)) r.unexpected.push_back(name);
  return r;
}

}  // namespace vitscope::model
