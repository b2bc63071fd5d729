#include "core/model/capture.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace vitscope::model {

namespace {
bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }
std::vector<int> iota_vec(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}
}  // namespace

bool CaptureRequest::wants_attention(int block) const { return contains(attention_blocks, block); }
bool CaptureRequest::wants_tap(int tap) const { return contains(taps, tap); }

CaptureRequest CaptureRequest::everything(int depth) { return {iota_vec(depth), iota_vec(2 * depth + 1)}; }
CaptureRequest CaptureRequest::attentions_only(int depth) { return {iota_vec(depth), {}}; }
CaptureRequest CaptureRequest::taps_only(int depth) { return {{}, iota_vec(2 * depth + 1)}; }

CaptureRequest CaptureRequest::parse(const std::string& text, int depth) {
  CaptureRequest r;
  std::stringstream parts(text);
  std::string part;
  auto parse_list = [&](const std::string& list, int limit, const char* what) {
    std::vector<int> out;
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
      int v = 0;
      try {
        size_t used = 0;
        v = std::stoi(item, &used);
        if (used != item.size()) throw std::invalid_argument(item);
      } catch (const std::exception&) {
        throw std::invalid_argument(std::string("capture: '") + item + "' is not a " + what + " index");
      }
      if (v < 0 || v >= limit)
        throw std::invalid_argument(std::string("capture: ") + what + " index " + item + " is outside 0.." +
                                    std::to_string(limit - 1));
      out.push_back(v);
    }
    return out;
  };
  while (std::getline(parts, part, ';')) {
    if (part.empty()) continue;
    const auto colon = part.find(':');
    const std::string kind = part.substr(0, colon);
    const bool has_list = colon != std::string::npos;
    if (kind == "all" && !has_list) {
      r = everything(depth);
    } else if (kind == "attn") {
      r.attention_blocks = has_list ? parse_list(part.substr(colon + 1), depth, "block") : iota_vec(depth);
    } else if (kind == "taps") {
      r.taps = has_list ? parse_list(part.substr(colon + 1), 2 * depth + 1, "tap") : iota_vec(2 * depth + 1);
    } else {
      throw std::invalid_argument("capture: unknown part '" + part + "' (use all, attn[:i,j], taps[:i,j])");
    }
  }
  return r;
}

torch::Tensor Capture::patch_tokens(int tap) const {
  const auto& t = taps.at(tap);
  if (!t.defined()) throw std::invalid_argument("tap " + std::to_string(tap) + " was not captured");
  return t.narrow(1, num_prefix_tokens, t.size(1) - num_prefix_tokens);
}

torch::Tensor Capture::patch_attention(int block) const {
  const auto& a = attentions.at(block);
  if (!a.defined()) throw std::invalid_argument("attention of block " + std::to_string(block) + " was not captured");
  const auto L = a.size(-1) - num_prefix_tokens;
  return a.narrow(-2, num_prefix_tokens, L).narrow(-1, num_prefix_tokens, L);
}

}  // namespace vitscope::model
