// The restricted unpickler on hand-written pickles: what it builds, and how it refuses hostile
// input (always a FormatError naming the file, the byte offset and the opcode).
#include <gtest/gtest.h>

#include "core/io/pickle.h"
#include "io/io_test_support.h"

namespace vitscope::test {
namespace {

using io::pickle::Value;
using namespace pickle_ops;

const std::string kPath = "hand.pkl";


// Storages of float zeros, as many elements as asked for.
io::TensorData zero_storage(const std::string&, io::DType dtype, int64_t numel) {
  io::TensorData t;
  t.dtype = dtype;
  t.shape = {numel};
  t.storage = std::make_shared<const Bytes>(static_cast<std::size_t>(numel) * io::element_size(dtype), 0);
  return t;
}

struct Result {
  io::pickle::Unpickled graph;
  const Value& root() const { return *graph.root; }
};

Result run(const std::string& pickle) {
  const auto* data = reinterpret_cast<const unsigned char*>(pickle.data());
  return {io::pickle::unpickle({data, pickle.size()}, kPath, "data.pkl", zero_storage)};
}

void expect_refused(const std::string& pickle, const std::string& fragment) {
  expect_format_error([&] { run(pickle); }, kPath, fragment);
}

nlohmann::json render(const Value& value) {
  io::pickle::WalkBudget budget;
  return io::pickle::to_json(value, budget);
}

TEST(Pickle, BuildsDictsListsTuplesAndScalars) {
  const std::string pickle = kProto2 + "}(" + unicode("a") + int1(7) + unicode("b") + "](\x88\x89Ne" +
                             unicode("c") + binfloat(1.0) + "\x85" + unicode("d") + binint(-5) + "u.";
  const Result result = run(pickle);
  EXPECT_EQ(render(result.root()), (nlohmann::json{{"a", 7}, {"b", {true, false, nullptr}}, {"c", {1.0}}, {"d", -5}}));
}

TEST(Pickle, Long1CoversSmallNegativeAndHugeIntegers) {
  const auto value_of = [](const std::string& long1) { return render(run(kProto2 + long1 + ".").root()); };
  EXPECT_EQ(value_of(std::string("\x8a\x00", 2)), 0);
  EXPECT_EQ(value_of("\x8a\x01\xff"), -1);
  EXPECT_EQ(value_of("\x8a\x08" + le(0x7fffffffffffffffULL, 8)), INT64_MAX);
  EXPECT_EQ(value_of("\x8a\x09" + le(~0ULL, 8) + "\xff"), -1);  // sign extension only
  EXPECT_DOUBLE_EQ(value_of("\x8a\x09" + le(0, 8) + "\x01").get<double>(), 18446744073709551616.0);  // 2^64
  EXPECT_DOUBLE_EQ(value_of("\x8a\x09" + le(0, 8) + "\xff").get<double>(), -18446744073709551616.0);  // -2^64
}

TEST(Pickle, UnknownClassesBecomeOpaqueObjectsWithArgsAndState) {
  // Equivalent of pickling mymodule.Config(3) whose __dict__ is {'depth': 12}.
  const std::string pickle =
      kProto2 + global("mymodule", "Config") + int1(3) + "\x85R}" + unicode("depth") + int1(12) + "sb.";
  const nlohmann::json json = render(run(pickle).root());
  EXPECT_EQ(json, (nlohmann::json{{"__class__", "mymodule.Config"}, {"__args__", {3}}, {"depth", 12}}));
}

TEST(Pickle, TorchDeviceAndGlobalsAreNames) {
  EXPECT_EQ(render(run(kProto2 + global("torch", "device") + unicode("cuda") + int1(0) + "\x86R.").root()), "cuda:0");
  EXPECT_EQ(render(run(kProto2 + global("torch", "float16") + ".").root()), "torch.float16");
}

TEST(Pickle, RefusesMalformedStreams) {
  expect_refused(kProto2 + "i", "unknown opcode 0x69");
  expect_refused(kProto2 + "R.", "stack underflow");
  expect_refused(kProto2 + "(R.", "stack underflow");  // a MARK hides what is below it
  expect_refused(kProto2 + "N", "without STOP");
  expect_refused(kProto2 + binget(5) + ".", "memo has no entry 5");
  expect_refused("\x80\x06N.", "pickle protocol 6");
  expect_refused(kProto2 + "]" + unicode("k") + "Ns.", "setting items on a list");
  expect_refused(kProto2 + "]}b.", "BUILD on a list");
  expect_refused(kProto2 + "}(Nu.", "odd number of items");
  expect_refused(kProto2 + "Nu.", "no MARK");
  expect_refused(kProto2 + "X" + le(2, 4) + "\xc3\x28.", "not valid UTF-8");
  expect_refused(kProto2 + "c" + std::string(5000, 'a'), "no end of line");
}

TEST(Pickle, RefusesLengthsBeyondTheData) {
  expect_refused(kProto2 + "X\xff\xff\xff\xff" + "abc", "needs 4294967295 bytes but only 3 remain");
  expect_refused(kProto2 + "\x8d" + le(1ULL << 63, 8), "needs 9223372036854775808 bytes");
  expect_refused(kProto2 + "B\xff\xff\xff\x7f", "needs 2147483647 bytes");
  expect_refused(kProto2 + "\x8a\xff\x01", "needs 255 bytes");
  expect_refused(kProto2 + "G" + le(0, 1), "needs 8 bytes but only 1 remain");
  expect_refused(kProto2 + "\x95" + le(1, 4), "needs 8 bytes");
}

TEST(Pickle, StackBombsHitTheLimit) {
  expect_refused(kProto2 + std::string(std::size_t{1} << 21, '('), "stack deeper");
  expect_refused(kProto2 + std::string(std::size_t{1} << 21, ']'), "stack deeper");
  std::string many_values = kProto2;
  for (int i = 0; i <= (1 << 21); ++i) many_values += ")0";  // EMPTY_TUPLE, POP
  expect_refused(many_values, "more than 2097152 values");
}

TEST(Pickle, CyclesAndSharedSubgraphsRenderWithinBudget) {
  // A list that contains itself.
  const Result cycle = run(kProto2 + "]" + binput(0) + binget(0) + "a.");
  const std::string text = render(cycle.root()).dump();
  EXPECT_NE(text.find("<truncated>"), std::string::npos);

  // l[i] = [l[i-1], l[i-1]] for 60 levels: 2^60 paths through 61 lists.
  std::string doubling = kProto2 + "]" + "r" + le(0, 4);
  for (int i = 1; i <= 60; ++i) {
    doubling += "]r" + le(i, 4) + "j" + le(i - 1, 4) + "aj" + le(i - 1, 4) + "a0";
  }
  doubling += "0j" + le(60, 4) + ".";
  const Result shared = run(doubling);
  EXPECT_NE(render(shared.root()).dump().find("<truncated>"), std::string::npos);
}

TEST(Pickle, TensorRebuildChecksTheView) {
  // _rebuild_tensor_v2(storage of 4 floats, offset, size, stride, False, OrderedDict())
  const auto tensor = [](int offset, const std::string& size, const std::string& stride) {
    return kProto2 + global("torch._utils", "_rebuild_tensor_v2") + "((" + unicode("storage") +
           global("torch", "FloatStorage") + unicode("0") + unicode("cpu") + "K\x04tQ" + binint(offset) + "(" + size +
           "t(" + stride + "t\x89" + global("collections", "OrderedDict") + ")RtR.";
  };
  const Result ok = run(tensor(1, "K\x03", "K\x01"));
  ASSERT_EQ(ok.root().kind, Value::Kind::Tensor);
  EXPECT_EQ(ok.root().tensor->shape, std::vector<int64_t>{3});
  EXPECT_EQ(ok.root().tensor->byte_offset, 4u);

  expect_refused(tensor(0, "K\x02K\x02", "K\x04K\x01"), "lies outside its storage");
  expect_refused(tensor(2, "K\x03", "K\x01"), "lies outside its storage");
  expect_refused(tensor(5, int1(0), "K\x01"), "lies outside its storage");
  expect_refused(tensor(0, "K\x02", binint(-1)), "negative stride");
  expect_refused(tensor(-1, "K\x01", "K\x01"), "negative storage offset");
  expect_refused(tensor(0, "K\x02K\x02", "K\x01"), "different lengths");
  expect_refused(tensor(0, "\x8a\x08" + le(1ULL << 62, 8) + "\x8a\x08" + le(1ULL << 62, 8), "K\x01K\x01"),
                 "too large");
}

TEST(Pickle, RefusesBadPersistentIdsAndRebuilds) {
  expect_refused(kProto2 + "(" + unicode("storage") + global("torch", "ComplexFloatStorage") + unicode("0") +
                     unicode("cpu") + "K\x01tQ.",
                 "unsupported storage type torch.ComplexFloatStorage");
  expect_refused(kProto2 + unicode("storage") + "Q.", "persistent id is not");
  expect_refused(kProto2 + global("torch._utils", "_rebuild_tensor_v2") + "K\x01\x85R.", "tensor rebuild needs");
  expect_refused(kProto2 + global("torch._utils", "_rebuild_parameter") + "K\x01\x85R.", "nn.Parameter without a tensor");
  // _rebuild_from_type_v2 wrapping itself.
  const std::string inner = global("torch._tensor", "_rebuild_from_type_v2") + "N)\x87";
  expect_refused(kProto2 + global("torch._tensor", "_rebuild_from_type_v2") + "(" +
                     global("torch._tensor", "_rebuild_from_type_v2") + "N" + inner + "tR.",
                 "nested _rebuild_from_type_v2");
  expect_refused(kProto2 + "K\x01)R.", "cannot call a int");
}

}  // namespace
}  // namespace vitscope::test
