#pragma once
// A restricted unpickler for the data.pkl of torch.save files (checkpoints.md §4.2, §5): a stack
// machine for pickle protocols 2-5 that, like Python's torch.load(weights_only=True), never
// imports or calls anything. GLOBALs stay names; the torch rebuild functions produce tensors;
// collections.OrderedDict produces a dict; every other class becomes an opaque Object value
// (argparse.Namespace, numpy scalars, yacs CfgNode, ...) kept only for metadata.
//
// Hostile input: every length is checked against the remaining bytes, and the stack, memo and
// object counts are bounded; malformed input throws FormatError with the byte offset and opcode.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/io/tensor_data.h"

namespace vitscope::io::pickle {

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Bytes, List, Tuple, Set, Dict, Global, Object, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t integer = 0;         // Bool (0 or 1), Int
  double real = 0;             // Float; also an Int too large for int64, approximately
  std::string text;            // String (UTF-8), Bytes; Global: "module.name"; Object: its class
  std::vector<Value*> items;   // List, Tuple, Set; Object: the arguments it was created with
  std::vector<std::pair<Value*, Value*>> entries;  // Dict, in insertion order; Object: items of
                                                   // dict subclasses (yacs CfgNode)
  Value* state = nullptr;      // Object: what BUILD gave it (an argparse.Namespace's fields)
  std::unique_ptr<TensorData> tensor;  // Tensor; Storage: the whole storage as a 1-D tensor

  bool is_string(const std::string& s) const { return kind == Kind::String && text == s; }
};

const char* kind_name(Value::Kind kind);

// Everything one run made. Values point at each other (memo references can share or even
// cycle), so they live and die together here rather than owning each other.
struct Unpickled {
  std::deque<Value> values;
  const Value* root = nullptr;
};

// Returns a storage record for a persistent id ('storage', <Dtype>Storage, key, location, numel)
// as a 1-D tensor of `numel` elements, after checking that the record holds them.
using StorageLoader = std::function<TensorData(const std::string& key, DType dtype, int64_t numel)>;

// Errors read "<path>: <record> byte <offset> (<opcode>): <problem>".
Unpickled unpickle(std::span<const unsigned char> bytes, const std::string& path, const std::string& record,
                   const StorageLoader& load_storage);

// Walks over an unpickled graph must stop somewhere: memo references allow cycles and
// exponentially shared sub-objects. A walk takes one step per value visited.
class WalkBudget {
 public:
  static constexpr int kMaxDepth = 100;
  explicit WalkBudget(std::size_t max_visits = std::size_t{1} << 20) : visits_left_(max_visits) {}
  // False once the walk is deeper than kMaxDepth or has used up its visits.
  bool step(int depth);

 private:
  std::size_t visits_left_;
};

// Renders a value as JSON for reports: dicts as objects (keys as text), lists, tuples and sets as
// arrays, bytes and tensors as short descriptions, numpy scalars as numbers, and other objects as
// {"__class__": "module.name", <their dict state and dict items>, "__args__": [...] when
// created with arguments, "__state__": ... when BUILD gave a non-dict state}. Parts beyond the
// budget render as "<truncated>".
nlohmann::json to_json(const Value& value, WalkBudget& budget, int depth = 0);

// A dict key as text: strings as they are, numbers in decimal, anything else as "<kind>".
std::string key_text(const Value& key);

}  // namespace vitscope::io::pickle
