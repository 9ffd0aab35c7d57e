#include "cli/args.h"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace unas::cli {

void Args::Flag(const std::string& name, const std::string& value_name, const std::string& help,
                std::optional<std::string> default_value) {
  order_.push_back(name);
  specs_[name] = {value_name, help, std::move(default_value), false, ""};
}

void Args::Env(const std::string& name, const std::string& var) { specs_.at(name).env = var; }

std::string Args::EnvValue(const std::string& name) const {
  auto spec = specs_.find(name);
  if (spec == specs_.end() || spec->second.env.empty()) return "";
  const char* value = std::getenv(spec->second.env.c_str());
  return value ? value : "";
}

void Args::Switch(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = {"", help, std::nullopt, true, ""};
}

Status Args::Parse(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") return Status(StatusCode::kFailedPrecondition, "help");
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (auto alias = aliases_.find(name); alias != aliases_.end()) name = alias->second;
    auto spec = specs_.find(name);
    if (spec == specs_.end()) {
      return Status::Invalid("unknown option --" + name + " (see 'unas " + command_ + " --help')");
    }
    if (spec->second.is_switch) {
      if (has_value) return Status::Invalid("--" + name + " takes no value");
      switches_[name] = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argv.size()) return Status::Invalid("--" + name + " needs a value (" + spec->second.value_name + ")");
      value = argv[++i];
    }
    values_[name] = value;
  }
  return Status::Ok();
}

std::optional<int> Args::ParseOrExit(const std::vector<std::string>& argv, std::optional<size_t> positionals) {
  if (Status s = Parse(argv); !s.ok()) {
    if (s.code() != StatusCode::kFailedPrecondition) return Error(s);
    std::cout << Help();
    return 0;
  }
  if (positionals && positional_.size() != *positionals) {
    return Error(Status::Invalid("expected " + std::to_string(*positionals) + " argument(s) (see 'unas " + command_ +
                                 " --help')"));
  }
  return std::nullopt;
}

int Args::Error(const Status& status) const {
  std::cerr << "unas " << command_ << ": " << status.message() << "\n";
  return 2;
}

std::string Args::Get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (std::string env = EnvValue(name); !env.empty()) return env;
  auto spec = specs_.find(name);
  if (spec != specs_.end() && spec->second.default_value) return *spec->second.default_value;
  return "";
}

std::string Args::Source(const std::string& name) const {
  if (!Has(name) && !EnvValue(name).empty()) return specs_.at(name).env;
  return "--" + name;
}

Result<long long> Args::GetInt(const std::string& name, long long lo, long long hi) const {
  const std::string text = Get(name);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) {
    return Status::Invalid(Source(name) + ": '" + text + "' is not an integer");
  }
  if (v < lo || v > hi) {
    return Status::OutOfRange(Source(name) + ": " + text + " is outside " + std::to_string(lo) + ".." +
                              std::to_string(hi));
  }
  return v;
}

Result<double> Args::GetDouble(const std::string& name, double lo, double hi) const {
  const std::string text = Get(name);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || v != v) return Status::Invalid(Source(name) + ": '" + text + "' is not a number");
  if (v < lo || v > hi) {
    std::ostringstream os;
    os << Source(name) << ": " << text << " is outside " << lo << ".." << hi;
    return Status::OutOfRange(os.str());
  }
  return v;
}

std::string Args::Help() const {
  std::ostringstream os;
  os << "usage: unas " << command_ << " " << usage_ << "\n\n" << description_ << "\n";
  if (!order_.empty()) os << "\noptions:\n";
  for (const std::string& name : order_) {
    const Spec& s = specs_.at(name);
    std::string left = "  --" + name + (s.is_switch ? "" : " " + s.value_name);
    if (left.size() < 28) left += std::string(28 - left.size(), ' ');
    else left += "\n" + std::string(28, ' ');
    os << left << s.help;
    if (!s.env.empty() && s.default_value) {
      os << " (env " << s.env << ", default: " << *s.default_value << ")";
    } else if (!s.env.empty()) {
      os << " (env " << s.env << ")";
    } else if (s.default_value) {
      os << " (default: " << *s.default_value << ")";
    }
    os << "\n";
  }
  os << "  --help                    show this help\n";
  return os.str();
}

Result<std::vector<long long>> ParseIntList(const std::string& text, const std::string& what) {
  std::vector<long long> values;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno == ERANGE) {
      return Status::Invalid(what + ": '" + text + "' is not a comma-separated list of integers");
    }
    values.push_back(v);
  }
  return values;
}

void AddInputSpecFlags(Args& args) {
  args.Flag("input-shape", "H,W,C", "input shape of the data set", "28,28,1");
  args.Flag("classes", "K", "number of classes", "10");
}

Result<InputSpec> GetInputSpec(const Args& args) {
  UNAS_ASSIGN_OR_RETURN(std::vector<long long> shape, ParseIntList(args.Get("input-shape"), "--input-shape"));
  UNAS_ASSIGN_OR_RETURN(long long classes, args.GetInt("classes", 2, 100000));
  return MakeInputSpec(shape, classes);
}

}  // namespace unas::cli
