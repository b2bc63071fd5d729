// An op census, loaded with LD_PRELOAD into any LibTorch process (vitscope-cli or python3): counts
// every ATen op and autograd node the process runs, by name, and writes "calls<TAB>name" lines to
// the file named by $VITSCOPE_OP_CENSUS when the process exits. benchmarks/op_census.py runs the
// C++ trainer and the PyTorch loop of benchmarks/train_throughput.py under it and prints where the
// two steps differ: extra passes that a wall-clock benchmark only shows as a ratio.
#include <ATen/record_function.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace {

std::mutex census_mutex;
// Leaked on purpose: RecordFunction callbacks may still fire while static objects are destroyed.
auto* census = new std::map<std::string, long>;

std::unique_ptr<at::ObserverContext> count_call(const at::RecordFunction& fn) {
  std::string name = fn.name();
  if (fn.scope() == at::RecordScope::BACKWARD_FUNCTION) name += " [backward]";
  std::lock_guard<std::mutex> lock(census_mutex);
  ++(*census)[name];
  return nullptr;
}

struct Census {
  Census() {
    at::addGlobalCallback(at::RecordFunctionCallback(count_call).scopes(
        {at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
  }
  ~Census() {
    const char* path = std::getenv("VITSCOPE_OP_CENSUS");
    std::lock_guard<std::mutex> lock(census_mutex);
    // Child processes inherit LD_PRELOAD; those that ran no op must not overwrite the file.
    if (path == nullptr || census->empty()) return;
    if (FILE* out = std::fopen(path, "w")) {
      for (const auto& [name, calls] : *census) std::fprintf(out, "%ld\t%s\n", calls, name.c_str());
      std::fclose(out);
    }
  }
} census_at_exit;

}  // namespace
