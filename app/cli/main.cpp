// vitscope-cli: every ViTScope analysis, headless. `vitscope-cli help` lists the commands.
#include <cstdio>
#include <exception>
#include <iostream>

#include "app/cli/cli.h"
#include "app/cli/common.h"
#include "core/runtime/device.h"

using vitscope::cli::commands;

static void print_overview() {
  std::cout << "vitscope-cli — see what self-supervised Vision Transformers learn\n\n"
               "usage: vitscope-cli <command> [options]\n\ncommands:\n";
  for (const auto& [name, cmd] : commands()) std::printf("  %-10s %s\n", name.c_str(), cmd.summary.c_str());
  std::cout << "\n`vitscope-cli help <command>` shows a command's options.\n";
}

int main(int argc, char** argv) {
  vitscope::runtime::tune_process();
  // Whichever way main() returns, the GPU warm-up thread ends first (app/cli/common.h).
  struct WarmUpJoin {
    ~WarmUpJoin() { vitscope::cli::finish_device_warm_up(); }
  } warm_up_join;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_overview();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  if (name == "help") {
    if (argc < 3) {
      print_overview();
      return 0;
    }
    auto it = commands().find(argv[2]);
    if (it == commands().end()) {
      std::cerr << "vitscope-cli: unknown command '" << argv[2] << "'\n";
      return 2;
    }
    std::cout << it->second.usage;
    return 0;
  }
  auto it = commands().find(name);
  if (it == commands().end()) {
    std::cerr << "vitscope-cli: unknown command '" << name << "' (try `vitscope-cli help`)\n";
    return 2;
  }
  const auto& cmd = it->second;
  try {
    auto switches = cmd.switches;
    switches.push_back("help");
    vitscope::cli::Args args(std::vector<std::string>(argv + 2, argv + argc), switches);
    if (args.flag("help")) {
      std::cout << cmd.usage;
      return 0;
    }
    return cmd.run(args);
  } catch (const vitscope::cli::UsageError& e) {
    std::cerr << "vitscope-cli " << name << ": " << e.what() << "\n\n" << cmd.usage;
    return 2;
  } catch (const std::exception& e) {
    // Bad files and bad data end here: one clear line naming the file and the problem.
    std::cerr << "vitscope-cli " << name << ": error: " << e.what() << "\n";
    return 1;
  }
}
