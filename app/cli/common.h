#pragma once
// Options every model-reading command shares, and small output helpers.
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli/cli.h"
#include "core/model/loader.h"
#include "core/runtime/device.h"

namespace vitscope::cli {

// Usage text for the shared load options.
extern const char* const kLoadOptionsHelp;

// Reads --heads, --family, --eps, --image-size, --branch, --norm-pix.
model::LoadOptions load_options_from(const Args& args);
// Loads a model and moves it to the device; prints the device warning (if any) to stderr.
model::LoadedModel load_for_cli(const std::string& path, const Args& args, const torch::Device& device);
// --device, with the CPU fallback warning. On CUDA it also starts the GPU on another thread while
// the command reads its checkpoints; main() ends that with finish_device_warm_up().
runtime::DeviceChoice device_from(const Args& args);
// Waits for the warm-up thread, if any. Must run before main() returns: a command that fails
// within a second would otherwise exit while CUDA is still starting on that thread, and the
// process crashed in its static destructors (seen on the GPU machine: exit 134 / 139 instead of
// the error message's exit code).
void finish_device_warm_up();

// Creates DIR (and parents); fails with a clear message when it exists as a file.
std::filesystem::path make_output_dir(const std::string& dir);
void write_text(const std::filesystem::path& path, const std::string& text);
std::string clock_text(double seconds);  // "h:mm:ss"
// One "skipped: <file>: <why>" line on stderr per image a data set left out.
void report_skipped(const std::vector<std::string>& skipped);

}  // namespace vitscope::cli
