#pragma once
// vitscope-cli: one file per sub-command (cmd_<name>.cpp), each registering itself here.
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vitscope::cli {

// A usage error: printed with the command's usage, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `--key value`, `--key=value`, repeated keys, `--flag` switches and positionals.
class Args {
 public:
  Args(std::vector<std::string> argv, std::vector<std::string> switches);
  std::string get(const std::string& key, const std::string& fallback) const;
  std::string require(const std::string& key) const;
  std::optional<std::string> find(const std::string& key) const;
  std::vector<std::string> all(const std::string& key) const;  // every value of a repeated key
  int get_int(const std::string& key, int fallback) const;
  double get_double(const std::string& key, double fallback) const;
  bool flag(const std::string& key) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  // Fails on any option the command did not ask about (typos must not pass silently).
  void reject_unknown() const;

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> switches_set_;
  std::vector<std::string> positionals_;
  mutable std::vector<std::string> asked_;
};

struct Command {
  std::string name;
  std::string summary;
  std::string usage;                   // full help text
  std::vector<std::string> switches;   // options that take no value
  std::function<int(const Args&)> run;
};

// Called from static initialisers in the cmd_*.cpp files.
bool register_command(Command command);
// Each cmd_<name>.cpp registers itself with `const bool <name>_registered = register_command(...)`
// (distinct names: the CLI is compiled as a unity build).
const std::map<std::string, Command>& commands();

// Splits "a,b,c" (empty parts dropped).
std::vector<std::string> split_list(const std::string& text, char sep = ',');

}  // namespace vitscope::cli
