#pragma once
// Copying named tensors into a Model (ViTScope's own naming: "<component>.<timm name>").
#include <string>
#include <vector>

#include "core/io/tensor_data.h"
#include "core/model/model.h"

namespace vitscope::model {

struct StateLoadResult {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;      // the model has it, the map does not
  std::vector<std::string> unexpected;   // the map has it, the model does not
  std::vector<std::string> mismatched;   // "name: file [a,b] vs model [c,d]"
  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;           // one paragraph for error messages
};

// Copies every tensor of `tensors` whose name the model has (converted to the parameter's dtype
// and device). Never partially succeeds silently: callers check complete() or the lists.
StateLoadResult load_state(Model& model, const io::TensorMap& tensors);

}  // namespace vitscope::model
