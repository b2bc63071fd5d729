#include "app/cli/cli.h"

#include <algorithm>
#include <sstream>

namespace vitscope::cli {

Args::Args(std::vector<std::string> argv, std::vector<std::string> switches) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positionals_.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    const auto eq = key.find('=');
    const bool is_switch = std::find(switches.begin(), switches.end(), key) != switches.end();
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (is_switch) {
      switches_set_.push_back(key);
      continue;
    } else {
      if (i + 1 >= argv.size()) throw UsageError("option --" + key + " needs a value");
      value = argv[++i];
    }
    values_.emplace(key, value);
  }
}

std::optional<std::string> Args::find(const std::string& key) const {
  asked_.push_back(key);
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get(const std::string& key, const std::string& fallback) const {
  return find(key).value_or(fallback);
}

std::string Args::require(const std::string& key) const {
  auto v = find(key);
  if (!v) throw UsageError("missing required option --" + key);
  return *v;
}

std::vector<std::string> Args::all(const std::string& key) const {
  asked_.push_back(key);
  std::vector<std::string> out;
  auto [b, e] = values_.equal_range(key);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

namespace {
// Parses the whole of `text` with `parse` (std::stoi / std::stod), or fails with a usage error.
template <typename T, typename Parse>
T parse_whole(const std::string& key, const std::string& text, Parse parse, const char* expected) {
  try {
    size_t used = 0;
    T x = parse(text, &used);
    if (used == text.size()) return x;
  } catch (const std::exception&) {
  }
  throw UsageError("--" + key + " expects " + expected + ", got '" + text + "'");
}
}  // namespace

int Args::get_int(const std::string& key, int fallback) const {
  auto v = find(key);
  if (!v) return fallback;
  return parse_whole<int>(key, *v, [](const std::string& t, size_t* used) { return std::stoi(t, used); }, "an integer");
}

double Args::get_double(const std::string& key, double fallback) const {
  auto v = find(key);
  if (!v) return fallback;
  return parse_whole<double>(key, *v, [](const std::string& t, size_t* used) { return std::stod(t, used); }, "a number");
}

bool Args::flag(const std::string& key) const {
  asked_.push_back(key);
  return std::find(switches_set_.begin(), switches_set_.end(), key) != switches_set_.end();
}

void Args::reject_unknown() const {
  for (const auto& [k, v] : values_)
    if (std::find(asked_.begin(), asked_.end(), k) == asked_.end()) throw UsageError("unknown option --" + k);
  for (const auto& k : switches_set_)
    if (std::find(asked_.begin(), asked_.end(), k) == asked_.end()) throw UsageError("unknown option --" + k);
}

static std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> r;
  return r;
}

bool register_command(Command command) {
  registry().emplace(command.name, std::move(command));
  return true;
}

const std::map<std::string, Command>& commands() { return registry(); }

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace vitscope::cli
