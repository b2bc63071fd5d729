// Shared main for every test binary; tests/support/test_env.h finds fixtures and shared data.
#include <execinfo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace {
// A crash names the running test and prints the stack (function names need -rdynamic or
// `addr2line -e BINARY`), because a crash on a machine that is only lent for minutes (the GPU
// machine) leaves no chance to attach a debugger. Only async-signal-safe calls; then the default
// action, so the exit status still says which signal it was.
void report_crash(int signal_number) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* header = "\n*** test binary crashed: ";
  write(STDERR_FILENO, header, std::strlen(header));
  char number[] = "signal 00";
  number[7] = static_cast<char>('0' + signal_number / 10 % 10);
  number[8] = static_cast<char>('0' + signal_number % 10);
  write(STDERR_FILENO, number, sizeof number - 1);
  const char* during = test != nullptr ? " during " : " outside any test (start-up or exit)";
  write(STDERR_FILENO, during, std::strlen(during));
  if (test != nullptr) {
    write(STDERR_FILENO, test->test_suite_name(), std::strlen(test->test_suite_name()));
    write(STDERR_FILENO, ".", 1);
    write(STDERR_FILENO, test->name(), std::strlen(test->name()));
  }
  write(STDERR_FILENO, "\n", 1);
  void* frames[64];
  backtrace_symbols_fd(frames, backtrace(frames, 64), STDERR_FILENO);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  void* warm[1];
  backtrace(warm, 1);  // loads the unwinder now: the first call may allocate, not allowed in a handler
  for (int s : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(s, report_crash);
  return RUN_ALL_TESTS();
}
