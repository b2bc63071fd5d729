#include "core/io/pickle.h"

#include <bit>
#include <cstdio>
#include <optional>
#include <unordered_map>

#include "core/io/bytes.h"
#include "core/io/checkpoint_file.h"

namespace vitscope::io::pickle {
namespace {

// The opcodes we execute (Python's Lib/pickle.py names; checkpoints.md §4.2 lists those seen in
// torch files). Protocol 0/1 text opcodes and NEWOBJ_EX / LONG4 / PERSID never occur there.
enum Op : unsigned char {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', BININT = 'J', BININT1 = 'K', BININT2 = 'M',
  NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X',
  APPEND = 'a', BUILD = 'b', GLOBAL = 'c', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j',
  EMPTY_LIST = ']', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')',
  SETITEMS = 'u', BINFLOAT = 'G', EMPTY_DICT = '}', BINBYTES = 'B', SHORT_BINBYTES = 'C',
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
  NEWFALSE = 0x89, LONG1 = 0x8a, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

const char* op_name(unsigned char op) {
  switch (op) {
    case MARK: return "MARK";
    case STOP: return "STOP";
    case POP: return "POP";
    case POP_MARK: return "POP_MARK";
    case BININT: return "BININT";
    case BININT1: return "BININT1";
    case BININT2: return "BININT2";
    case NONE: return "NONE";
    case BINPERSID: return "BINPERSID";
    case REDUCE: return "REDUCE";
    case BINSTRING: return "BINSTRING";
    case SHORT_BINSTRING: return "SHORT_BINSTRING";
    case BINUNICODE: return "BINUNICODE";
    case APPEND: return "APPEND";
    case BUILD: return "BUILD";
    case GLOBAL: return "GLOBAL";
    case APPENDS: return "APPENDS";
    case BINGET: return "BINGET";
    case LONG_BINGET: return "LONG_BINGET";
    case EMPTY_LIST: return "EMPTY_LIST";
    case BINPUT: return "BINPUT";
    case LONG_BINPUT: return "LONG_BINPUT";
    case SETITEM: return "SETITEM";
    case TUPLE: return "TUPLE";
    case EMPTY_TUPLE: return "EMPTY_TUPLE";
    case SETITEMS: return "SETITEMS";
    case BINFLOAT: return "BINFLOAT";
    case EMPTY_DICT: return "EMPTY_DICT";
    case BINBYTES: return "BINBYTES";
    case SHORT_BINBYTES: return "SHORT_BINBYTES";
    case PROTO: return "PROTO";
    case NEWOBJ: return "NEWOBJ";
    case TUPLE1: return "TUPLE1";
    case TUPLE2: return "TUPLE2";
    case TUPLE3: return "TUPLE3";
    case NEWTRUE: return "NEWTRUE";
    case NEWFALSE: return "NEWFALSE";
    case LONG1: return "LONG1";
    case SHORT_BINUNICODE: return "SHORT_BINUNICODE";
    case BINUNICODE8: return "BINUNICODE8";
    case BINBYTES8: return "BINBYTES8";
    case EMPTY_SET: return "EMPTY_SET";
    case ADDITEMS: return "ADDITEMS";
    case FROZENSET: return "FROZENSET";
    case STACK_GLOBAL: return "STACK_GLOBAL";
    case MEMOIZE: return "MEMOIZE";
    case FRAME: return "FRAME";
  }
  return nullptr;
}

// Bounds on what one pickle may build. Real checkpoints stay far below them: a ViT-L training
// checkpoint with optimizer state makes about 10^5 values and nests less than 10 deep.
constexpr std::size_t kMaxValues = std::size_t{1} << 21;
constexpr std::size_t kMaxReferences = std::size_t{1} << 24;  // container slots, all containers
constexpr std::size_t kMaxStack = std::size_t{1} << 20;       // stack entries plus open MARKs
constexpr std::size_t kMaxGlobalNameSize = 1024;
constexpr std::size_t kMaxRank = 64;

// Decodes one UTF-8 code point at s[i], advancing i; nullopt for malformed or overlong input.
std::optional<char32_t> next_code_point(const std::string& s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > s.size()) return std::nullopt;
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[length] || cp > 0x10FFFF) return std::nullopt;
  i += length;
  return cp;
}

bool is_valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    if (!next_code_point(s, i)) return false;
  }
  return true;
}

// Python 3 pickles bytes for protocol 2 as _codecs.encode(<str>, 'latin1'): undo that.
std::optional<std::string> latin1_bytes(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = next_code_point(utf8, i);
    if (!cp || *cp > 0xFF) return std::nullopt;
    out.push_back(static_cast<char>(*cp));
  }
  return out;
}

// torch.<Name>Storage class -> element type (checkpoints.md §4.2 table, plus the two 8/16-bit
// integer storages that DType can hold).
std::optional<DType> storage_dtype(const std::string& global) {
  static const std::unordered_map<std::string, DType> kTypes = {
      {"torch.FloatStorage", DType::Float32}, {"torch.HalfStorage", DType::Float16},
      {"torch.BFloat16Storage", DType::BFloat16}, {"torch.DoubleStorage", DType::Float64},
      {"torch.LongStorage", DType::Int64}, {"torch.IntStorage", DType::Int32},
      {"torch.ShortStorage", DType::Int16}, {"torch.CharStorage", DType::Int8},
      {"torch.ByteStorage", DType::UInt8}, {"torch.BoolStorage", DType::Bool}};
  const auto it = kTypes.find(global);
  return it == kTypes.end() ? std::nullopt : std::optional<DType>(it->second);
}

class Machine {
 public:
  Machine(std::span<const unsigned char> bytes, const std::string& path, const std::string& record,
          const StorageLoader& load_storage)
      : bytes_(bytes), path_(path), record_(record), load_storage_(load_storage) {}

  Unpickled run();

 private:
  [[noreturn]] void fail(const std::string& problem) const;

  // Operands.
  const unsigned char* take(uint64_t size);
  uint64_t take_uint(std::size_t size) { return load_le(take(size), size); }
  std::string take_text(uint64_t size);
  std::string take_line();
  Value* take_long(std::size_t size);

  // Values and the stack.
  Value* make(Value::Kind kind);
  Value* make_string(Value::Kind kind, std::string text);
  void push(Value* value);
  Value* pop();
  Value* top();
  std::vector<Value*> pop_to_mark();
  void count_references(std::size_t added);
  void memo_put(uint64_t index);
  Value* memo_get(uint64_t index);

  // What the restricted VM does instead of calling Python.
  Value* call(const Value& callable, const Value& args, int nesting = 0);
  Value* rebuild_tensor(const std::vector<Value*>& args);
  Value* persistent_load(const Value& pid);
  void build(Value& target, Value* state);
  Value& dict_like_top(std::size_t below);
  int64_t as_int(const Value& value, const char* what) const;
  std::vector<int64_t> as_int_tuple(const Value& value, const char* what) const;

  std::span<const unsigned char> bytes_;
  const std::string& path_;
  const std::string& record_;
  const StorageLoader& load_storage_;
  std::size_t pos_ = 0;
  std::size_t op_offset_ = 0;
  unsigned char op_ = 0;
  Unpickled result_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<uint64_t, Value*> memo_;
  std::size_t references_ = 0;
};

void Machine::fail(const std::string& problem) const {
  std::string opcode;
  if (const char* name = op_name(op_)) {
    opcode = name;
  } else {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op_);
    opcode = "unknown opcode " + std::string(hex);
  }
  throw FormatError(path_, record_ + " byte " + std::to_string(op_offset_) + " (" + opcode + "): " + problem);
}

const unsigned char* Machine::take(uint64_t size) {
  if (size > bytes_.size() - pos_) {
    fail("needs " + std::to_string(size) + " bytes but only " + std::to_string(bytes_.size() - pos_) + " remain");
  }
  const unsigned char* p = bytes_.data() + pos_;
  pos_ += size;
  return p;
}

std::string Machine::take_text(uint64_t size) {
  const unsigned char* p = take(size);
  return std::string(reinterpret_cast<const char*>(p), size);
}

std::string Machine::take_line() {
  const std::size_t limit = std::min(bytes_.size(), pos_ + kMaxGlobalNameSize);
  for (std::size_t end = pos_; end < limit; ++end) {
    if (bytes_[end] == '\n') {
      std::string line = take_text(end - pos_);
      ++pos_;  // the newline
      return line;
    }
  }
  fail("no end of line within " + std::to_string(kMaxGlobalNameSize) + " bytes");
}

// LONG1: a little-endian two's-complement integer of `size` bytes.
Value* Machine::take_long(std::size_t size) {
  const unsigned char* p = take(size);
  const bool negative = size > 0 && (p[size - 1] & 0x80);
  const unsigned char sign_byte = negative ? 0xFF : 0x00;
  bool fits_int64 = true;
  for (std::size_t i = 8; i < size; ++i) fits_int64 = fits_int64 && p[i] == sign_byte;
  if (size > 8) fits_int64 = fits_int64 && ((p[7] & 0x80) != 0) == negative;
  if (fits_int64) {
    Value* v = make(Value::Kind::Int);
    const std::size_t used = std::min<std::size_t>(size, 8);
    uint64_t bits = load_le(p, used);
    if (negative && used < 8) bits |= ~uint64_t{0} << (8 * used);
    v->integer = static_cast<int64_t>(bits);
    return v;
  }
  // Too large for int64 (a seed or hash in training metadata): keep an approximate value.
  Value* v = make(Value::Kind::Float);
  for (std::size_t i = size; i-- > 0;) v->real = v->real * 256 + static_cast<unsigned char>(p[i] ^ sign_byte);
  v->real = negative ? -(v->real + 1) : v->real;
  return v;
}

Value* Machine::make(Value::Kind kind) {
  if (result_.values.size() >= kMaxValues) fail("more than " + std::to_string(kMaxValues) + " values");
  Value& v = result_.values.emplace_back();
  v.kind = kind;
  return &v;
}

Value* Machine::make_string(Value::Kind kind, std::string text) {
  if (kind != Value::Kind::Bytes && !is_valid_utf8(text)) fail("text is not valid UTF-8");
  Value* v = make(kind);
  v->text = std::move(text);
  return v;
}

void Machine::push(Value* value) {
  if (stack_.size() + marks_.size() >= kMaxStack) fail("stack deeper than " + std::to_string(kMaxStack));
  stack_.push_back(value);
}

Value* Machine::pop() {
  const std::size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail("stack underflow");
  Value* v = stack_.back();
  stack_.pop_back();
  return v;
}

Value* Machine::top() {
  const std::size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) fail("stack underflow");
  return stack_.back();
}

std::vector<Value*> Machine::pop_to_mark() {
  if (marks_.empty()) fail("no MARK to pop to");
  const std::size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
  stack_.resize(mark);
  return items;
}

void Machine::count_references(std::size_t added) {
  references_ += added;
  if (references_ > kMaxReferences) fail("containers hold more than " + std::to_string(kMaxReferences) + " items");
}

void Machine::memo_put(uint64_t index) {
  if (memo_.size() >= kMaxValues && !memo_.count(index)) fail("memo larger than " + std::to_string(kMaxValues));
  memo_[index] = top();
}

Value* Machine::memo_get(uint64_t index) {
  const auto it = memo_.find(index);
  if (it == memo_.end()) fail("memo has no entry " + std::to_string(index));
  return it->second;
}

int64_t Machine::as_int(const Value& value, const char* what) const {
  if (value.kind != Value::Kind::Int) fail(std::string(what) + " is a " + kind_name(value.kind) + ", not an int");
  return value.integer;
}

std::vector<int64_t> Machine::as_int_tuple(const Value& value, const char* what) const {
  if (value.kind != Value::Kind::Tuple) fail(std::string(what) + " is a " + kind_name(value.kind) + ", not a tuple");
  if (value.items.size() > kMaxRank) fail(std::string(what) + " has more than " + std::to_string(kMaxRank) + " entries");
  std::vector<int64_t> out;
  for (const Value* item : value.items) out.push_back(as_int(*item, what));
  return out;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[,
// metadata]) and the older _rebuild_tensor(storage, storage_offset, size, stride): a strided
// view of the storage, which must contain every element the view can reach.
Value* Machine::rebuild_tensor(const std::vector<Value*>& args) {
  if (args.size() < 4) fail("tensor rebuild needs (storage, offset, size, stride)");
  if (args[0]->kind != Value::Kind::Storage) fail("tensor rebuild from a " + std::string(kind_name(args[0]->kind)));
  const TensorData& storage = *args[0]->tensor;
  const int64_t offset = as_int(*args[1], "storage offset");
  auto shape = as_int_tuple(*args[2], "tensor size");
  auto strides = as_int_tuple(*args[3], "tensor stride");
  if (shape.size() != strides.size()) fail("tensor size and stride have different lengths");
  const auto numel = checked_numel(shape);
  if (!numel) fail("tensor size is negative or too large");
  if (offset < 0) fail("negative storage offset");
  // The farthest element the view reaches, offset + sum((size_i - 1) * stride_i), must exist.
  uint64_t reach = static_cast<uint64_t>(offset);
  for (std::size_t i = 0; i < shape.size() && *numel > 0; ++i) {
    if (strides[i] < 0) fail("negative stride");
    const auto step = checked_mul(static_cast<uint64_t>(shape[i] - 1), static_cast<uint64_t>(strides[i]));
    const auto next = step ? checked_add(reach, *step) : std::nullopt;
    if (!next) fail("tensor strides overflow");
    reach = *next;
  }
  const uint64_t storage_numel = static_cast<uint64_t>(storage.shape[0]);
  if (*numel > 0 ? reach >= storage_numel : reach > storage_numel) {
    fail("tensor view (offset " + std::to_string(offset) + ", reaching element " + std::to_string(reach) +
         ") lies outside its storage of " + std::to_string(storage_numel) + " elements");
  }
  Value* v = make(Value::Kind::Tensor);
  v->tensor = std::make_unique<TensorData>(storage);
  v->tensor->shape = std::move(shape);
  v->tensor->strides = std::move(strides);
  v->tensor->byte_offset += static_cast<std::size_t>(offset) * element_size(storage.dtype);
  return v;
}

// BINPERSID ('storage', torch.<Dtype>Storage, key, location, numel), checkpoints.md §4.2. The
// location ('cpu', 'cuda:0') is ignored: everything loads to the CPU.
Value* Machine::persistent_load(const Value& pid) {
  const auto& f = pid.items;
  if (pid.kind != Value::Kind::Tuple || f.size() != 5 || !f[0]->is_string("storage")) {
    fail("persistent id is not ('storage', type, key, location, numel)");
  }
  if (f[1]->kind != Value::Kind::Global) fail("storage type is a " + std::string(kind_name(f[1]->kind)));
  const auto dtype = storage_dtype(f[1]->text);
  if (!dtype) fail("unsupported storage type " + f[1]->text);
  if (f[2]->kind != Value::Kind::String) fail("storage key is a " + std::string(kind_name(f[2]->kind)));
  const int64_t numel = as_int(*f[4], "storage size");
  if (numel < 0) fail("negative storage size");
  Value* v = make(Value::Kind::Storage);
  v->tensor = std::make_unique<TensorData>(load_storage_(f[2]->text, *dtype, numel));
  return v;
}

// REDUCE and NEWOBJ: what Python would call, recognised by name and never executed.
Value* Machine::call(const Value& callable, const Value& args_value, int nesting) {
  if (callable.kind != Value::Kind::Global) fail("cannot call a " + std::string(kind_name(callable.kind)));
  if (args_value.kind != Value::Kind::Tuple) fail("call arguments are a " + std::string(kind_name(args_value.kind)));
  const std::string& name = callable.text;
  const std::vector<Value*>& args = args_value.items;

  if (name == "collections.OrderedDict") {
    if (!args.empty()) fail("OrderedDict with arguments");
    return make(Value::Kind::Dict);
  }
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") return rebuild_tensor(args);
  if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
    if (args.empty() || args[0]->kind != Value::Kind::Tensor) fail("nn.Parameter without a tensor");
    return args[0];
  }
  if (name == "torch._tensor._rebuild_from_type_v2") {  // (function, type, args, state)
    if (args.size() < 3) fail("_rebuild_from_type_v2 needs (function, type, args)");
    if (nesting > 0) fail("nested _rebuild_from_type_v2");  // real files wrap a rebuild function once
    Value* tensor = call(*args[0], *args[2], nesting + 1);
    if (tensor->kind != Value::Kind::Tensor) fail("_rebuild_from_type_v2 did not rebuild a tensor");
    return tensor;
  }
  if (name == "torch.device") {  // torch.device('cuda', 0) -> "cuda:0"
    Value* device = make(Value::Kind::String);
    for (const Value* part : args) {
      if (part->kind != Value::Kind::String && part->kind != Value::Kind::Int) fail("torch.device argument");
      device->text += (device->text.empty() ? "" : ":") + key_text(*part);
    }
    return device;
  }
  const bool is_set = name == "builtins.set" || name == "__builtin__.set";
  if (is_set || name == "builtins.frozenset" || name == "__builtin__.frozenset") {
    Value* set = make(Value::Kind::Set);
    if (!args.empty()) {
      if (args[0]->kind != Value::Kind::List) fail("set from a " + std::string(kind_name(args[0]->kind)));
      set->items = args[0]->items;
      count_references(set->items.size());
    }
    return set;
  }
  if (name == "_codecs.encode" && args.size() == 2 && args[0]->kind == Value::Kind::String &&
      (args[1]->is_string("latin1") || args[1]->is_string("latin-1"))) {
    const auto bytes = latin1_bytes(args[0]->text);
    if (!bytes) fail("_codecs.encode of text outside latin-1");
    return make_string(Value::Kind::Bytes, *bytes);
  }
  Value* object = make(Value::Kind::Object);
  object->text = name;
  object->items = args;
  count_references(args.size());
  return object;
}

// BUILD sets an object's state. Ignored on dicts (an OrderedDict's _metadata, §4.2) and tensors;
// kept on opaque objects, merging successive dict states like Python's __dict__.update.
void Machine::build(Value& target, Value* state) {
  switch (target.kind) {
    case Value::Kind::Dict:
    case Value::Kind::Tensor: return;
    case Value::Kind::Object:
      if (target.state && target.state->kind == Value::Kind::Dict && state->kind == Value::Kind::Dict) {
        target.state->entries.insert(target.state->entries.end(), state->entries.begin(), state->entries.end());
        count_references(state->entries.size());
      } else {
        target.state = state;
      }
      return;
    default: fail("BUILD on a " + std::string(kind_name(target.kind)));
  }
}

// The dict (or dict-subclass object, e.g. a yacs CfgNode) that SETITEM(S) fill: the stack entry
// `below` entries under the top.
Value& Machine::dict_like_top(std::size_t below) {
  const std::size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() < floor + below + 1) fail("stack underflow");
  Value& target = *stack_[stack_.size() - 1 - below];
  if (target.kind != Value::Kind::Dict && target.kind != Value::Kind::Object) {
    fail("setting items on a " + std::string(kind_name(target.kind)));
  }
  return target;
}

Unpickled Machine::run() {
  while (pos_ < bytes_.size()) {
    op_offset_ = pos_;
    op_ = bytes_[pos_++];
    switch (op_) {
      case PROTO: {
        const uint64_t version = take_uint(1);
        if (version < 2 || version > 5) fail("pickle protocol " + std::to_string(version) + " (supported: 2 to 5)");
        break;
      }
      case FRAME: take_uint(8); break;  // framing is only a read-ahead hint
      case STOP:
        result_.root = pop();
        return std::move(result_);
      case MARK:
        if (stack_.size() + marks_.size() >= kMaxStack) fail("stack deeper than " + std::to_string(kMaxStack));
        marks_.push_back(stack_.size());
        break;
      case POP: pop(); break;
      case POP_MARK: pop_to_mark(); break;

      case NONE: push(make(Value::Kind::None)); break;
      case NEWTRUE:
      case NEWFALSE: {
        Value* v = make(Value::Kind::Bool);
        v->integer = op_ == NEWTRUE;
        push(v);
        break;
      }
      case BININT:
      case BININT1:
      case BININT2: {
        const std::size_t size = op_ == BININT ? 4 : op_ == BININT2 ? 2 : 1;
        Value* v = make(Value::Kind::Int);
        const uint64_t bits = take_uint(size);
        v->integer = op_ == BININT ? static_cast<int32_t>(bits) : static_cast<int64_t>(bits);
        push(v);
        break;
      }
      case LONG1: push(take_long(take_uint(1))); break;
      case BINFLOAT: {
        const unsigned char* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
        Value* v = make(Value::Kind::Float);
        v->real = std::bit_cast<double>(bits);
        push(v);
        break;
      }

      case SHORT_BINUNICODE: push(make_string(Value::Kind::String, take_text(take_uint(1)))); break;
      case BINUNICODE: push(make_string(Value::Kind::String, take_text(take_uint(4)))); break;
      case BINUNICODE8: push(make_string(Value::Kind::String, take_text(take_uint(8)))); break;
      case SHORT_BINSTRING:
      case BINSTRING: {  // Python 2 str: text when it is valid UTF-8, else bytes
        std::string text = take_text(op_ == BINSTRING ? static_cast<uint64_t>(static_cast<int32_t>(take_uint(4)))
                                                      : take_uint(1));
        const auto kind = is_valid_utf8(text) ? Value::Kind::String : Value::Kind::Bytes;
        push(make_string(kind, std::move(text)));
        break;
      }
      case SHORT_BINBYTES: push(make_string(Value::Kind::Bytes, take_text(take_uint(1)))); break;
      case BINBYTES: push(make_string(Value::Kind::Bytes, take_text(take_uint(4)))); break;
      case BINBYTES8: push(make_string(Value::Kind::Bytes, take_text(take_uint(8)))); break;

      case EMPTY_DICT: push(make(Value::Kind::Dict)); break;
      case EMPTY_LIST: push(make(Value::Kind::List)); break;
      case EMPTY_TUPLE: push(make(Value::Kind::Tuple)); break;
      case EMPTY_SET: push(make(Value::Kind::Set)); break;
      case TUPLE:
      case FROZENSET: {
        Value* v = make(op_ == TUPLE ? Value::Kind::Tuple : Value::Kind::Set);
        v->items = pop_to_mark();
        count_references(v->items.size());
        push(v);
        break;
      }
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const std::size_t size = op_ - TUPLE1 + 1;
        Value* v = make(Value::Kind::Tuple);
        v->items.resize(size);
        for (std::size_t i = size; i-- > 0;) v->items[i] = pop();
        count_references(size);
        push(v);
        break;
      }
      case APPEND: {
        Value* item = pop();
        Value* list = top();
        if (list->kind != Value::Kind::List) fail("APPEND to a " + std::string(kind_name(list->kind)));
        list->items.push_back(item);
        count_references(1);
        break;
      }
      case APPENDS:
      case ADDITEMS: {
        std::vector<Value*> items = pop_to_mark();
        Value* target = top();
        const auto expected = op_ == APPENDS ? Value::Kind::List : Value::Kind::Set;
        if (target->kind != expected) fail("adding items to a " + std::string(kind_name(target->kind)));
        target->items.insert(target->items.end(), items.begin(), items.end());
        count_references(items.size());
        break;
      }
      case SETITEM: {
        Value& target = dict_like_top(2);
        Value* value = pop();
        Value* key = pop();
        target.entries.emplace_back(key, value);
        count_references(1);
        break;
      }
      case SETITEMS: {
        std::vector<Value*> items = pop_to_mark();
        if (items.size() % 2 != 0) fail("odd number of items");
        Value& target = dict_like_top(0);
        for (std::size_t i = 0; i < items.size(); i += 2) target.entries.emplace_back(items[i], items[i + 1]);
        count_references(items.size() / 2);
        break;
      }

      case BINPUT: memo_put(take_uint(1)); break;
      case LONG_BINPUT: memo_put(take_uint(4)); break;
      case MEMOIZE: memo_put(memo_.size()); break;
      case BINGET: push(memo_get(take_uint(1))); break;
      case LONG_BINGET: push(memo_get(take_uint(4))); break;

      case GLOBAL: {
        std::string module = take_line();
        std::string name = take_line();
        push(make_string(Value::Kind::Global, module + "." + name));
        break;
      }
      case STACK_GLOBAL: {
        Value* name = pop();
        Value* module = pop();
        if (module->kind != Value::Kind::String || name->kind != Value::Kind::String) {
          fail("STACK_GLOBAL needs two strings");
        }
        push(make_string(Value::Kind::Global, module->text + "." + name->text));
        break;
      }
      case REDUCE:
      case NEWOBJ: {
        Value* args = pop();
        Value* callable = pop();
        push(call(*callable, *args));
        break;
      }
      case BUILD: {
        Value* state = pop();
        build(*top(), state);
        break;
      }
      case BINPERSID: push(persistent_load(*pop())); break;

      default: fail("not an opcode of the protocol 2-5 pickles that torch.save writes");
    }
  }
  throw FormatError(path_, record_ + " byte " + std::to_string(pos_) + ": pickle ends without STOP");
}

}  // namespace

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Bytes: return "bytes";
    case Value::Kind::List: return "list";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::Set: return "set";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "class or function";
    case Value::Kind::Object: return "object";
    case Value::Kind::Storage: return "storage";
    case Value::Kind::Tensor: return "tensor";
  }
  return "?";
}

Unpickled unpickle(std::span<const unsigned char> bytes, const std::string& path, const std::string& record,
                   const StorageLoader& load_storage) {
  return Machine(bytes, path, record, load_storage).run();
}

bool WalkBudget::step(int depth) {
  if (depth > kMaxDepth || visits_left_ == 0) return false;
  --visits_left_;
  return true;
}

std::string key_text(const Value& key) {
  switch (key.kind) {
    case Value::Kind::String: return key.text;
    case Value::Kind::Int: return std::to_string(key.integer);
    case Value::Kind::Bool: return key.integer ? "True" : "False";
    case Value::Kind::None: return "None";
    default: return std::string("<") + kind_name(key.kind) + ">";
  }
}

namespace {

std::string tensor_description(const TensorData& t) {
  std::string shape;
  for (int64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  return std::string("<tensor ") + dtype_name(t.dtype) + " [" + shape + "]>";
}

// numpy.core.multiarray.scalar(dtype, bytes), with dtype = numpy.dtype('<code>', ...) whose BUILD
// state is (version, byte order, ...): a single number when the code is one we know.
std::optional<nlohmann::json> numpy_scalar(const Value& object) {
  if (object.text != "numpy.core.multiarray.scalar" && object.text != "numpy._core.multiarray.scalar") return {};
  if (object.items.size() != 2 || object.items[1]->kind != Value::Kind::Bytes) return {};
  const Value& dtype = *object.items[0];
  if (dtype.kind != Value::Kind::Object || dtype.text != "numpy.dtype" || dtype.items.empty()) return {};
  const Value* state = dtype.state;
  const bool little_endian = state && state->kind == Value::Kind::Tuple && state->items.size() > 1 &&
                             (state->items[1]->is_string("<") || state->items[1]->is_string("|"));
  const std::string& code = dtype.items[0]->text;
  const std::string& raw = object.items[1]->text;
  const bool known_size = raw.size() == 1 || raw.size() == 2 || raw.size() == 4 || raw.size() == 8;
  if (!little_endian || !known_size || code.size() != 2 || raw.size() != static_cast<std::size_t>(code[1] - '0')) return {};
  const uint64_t bits = load_le(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  const int shift = 64 - 8 * static_cast<int>(raw.size());
  switch (code[0]) {
    case 'f':
      if (raw.size() == 8) return std::bit_cast<double>(bits);
      if (raw.size() == 4) return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits)));
      return {};
    case 'i': return static_cast<int64_t>(bits << shift) >> shift;  // sign-extend
    case 'u': return bits;
    case 'b': return bits != 0;
    default: return {};
  }
}

}  // namespace

nlohmann::json to_json(const Value& value, WalkBudget& budget, int depth) {
  if (!budget.step(depth)) return "<truncated>";
  switch (value.kind) {
    case Value::Kind::None: return nullptr;
    case Value::Kind::Bool: return value.integer != 0;
    case Value::Kind::Int: return value.integer;
    case Value::Kind::Float: return value.real;
    case Value::Kind::String:
    case Value::Kind::Global: return value.text;
    case Value::Kind::Bytes: return "<" + std::to_string(value.text.size()) + " bytes>";
    case Value::Kind::Storage: return "<storage>";
    case Value::Kind::Tensor: return tensor_description(*value.tensor);
    case Value::Kind::List:
    case Value::Kind::Tuple:
    case Value::Kind::Set: {
      auto array = nlohmann::json::array();
      for (const Value* item : value.items) array.push_back(to_json(*item, budget, depth + 1));
      return array;
    }
    case Value::Kind::Dict: {
      auto object = nlohmann::json::object();
      for (const auto& [key, item] : value.entries) object[key_text(*key)] = to_json(*item, budget, depth + 1);
      return object;
    }
    case Value::Kind::Object: {
      if (auto number = numpy_scalar(value)) return *number;
      auto object = nlohmann::json::object();
      object["__class__"] = value.text;
      if (value.state && value.state->kind == Value::Kind::Dict) {
        for (const auto& [key, item] : value.state->entries) object[key_text(*key)] = to_json(*item, budget, depth + 1);
      } else if (value.state) {
        object["__state__"] = to_json(*value.state, budget, depth + 1);
      }
      for (const auto& [key, item] : value.entries) object[key_text(*key)] = to_json(*item, budget, depth + 1);
      if (!value.items.empty()) {
        auto args = nlohmann::json::array();
        for (const Value* item : value.items) args.push_back(to_json(*item, budget, depth + 1));
        object["__args__"] = args;
      }
      return object;
    }
  }
  return nullptr;
}

}  // namespace vitscope::io::pickle
