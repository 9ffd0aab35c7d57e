// A small command-line parser shared by the subcommands: declared flags only,
// "--name value" or "--name=value", boolean switches, positionals, an
// environment variable per flag where one is declared (the command line
// wins), and a generated --help. Unknown flags and missing values are errors
// that name the flag.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "costmodel/candidate.h"

namespace unas::cli {

class Args {
 public:
  Args(std::string command, std::string usage, std::string description)
      : command_(std::move(command)), usage_(std::move(usage)), description_(std::move(description)) {}

  // Declares a flag taking a value, with its default shown in --help.
  void Flag(const std::string& name, const std::string& value_name, const std::string& help,
            std::optional<std::string> default_value = std::nullopt);
  // Declares a boolean switch.
  void Switch(const std::string& name, const std::string& help);
  // Lets environment variable `var` give the declared flag --name's value when
  // the command line does not (an empty variable counts as unset); --help
  // names it. Read by Get() and Given() at call time.
  void Env(const std::string& name, const std::string& var);
  // Accepts --alias as another spelling of the declared flag --name (not
  // listed in --help).
  void Alias(const std::string& alias, const std::string& name) { aliases_[alias] = name; }

  // Parses argv after the subcommand. Returns kFailedPrecondition for --help
  // (the caller prints Help() and exits 0).
  Status Parse(const std::vector<std::string>& argv);
  // Parse() for a subcommand's Run function: after --help prints Help() and
  // returns 0, after an error prints it (Error()) and returns 2; nullopt:
  // go on. With `positionals`, exactly that many arguments are required.
  //   if (auto rc = args.ParseOrExit(argv, 1)) return *rc;
  std::optional<int> ParseOrExit(const std::vector<std::string>& argv,
                                 std::optional<size_t> positionals = std::nullopt);
  // Prints "unas <command>: <message>" to stderr; returns 2 (bad usage).
  int Error(const Status& status) const;

  // --name was on the command line.
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // --name was on the command line or its environment variable is set.
  bool Given(const std::string& name) const { return Has(name) || !EnvValue(name).empty(); }
  bool On(const std::string& name) const { return switches_.count(name) > 0; }
  // The command line's value, else the environment variable's, else the
  // declared default ("" if none).
  std::string Get(const std::string& name) const;
  // What gave Get(name)'s value, for messages: the environment variable's
  // name when it did, else "--name" (the command line or the default).
  std::string Source(const std::string& name) const;
  Result<long long> GetInt(const std::string& name, long long lo, long long hi) const;
  Result<double> GetDouble(const std::string& name, double lo, double hi) const;
  // GetInt / GetDouble stored into `out` (a field of the options being filled),
  // so that a command reads all its numbers, then checks one list of statuses.
  // `out` is unchanged on error.
  template <typename T>
  Status ReadInt(const std::string& name, long long lo, long long hi, T* out) const {
    auto v = GetInt(name, lo, hi);
    if (!v.ok()) return v.status();
    *out = static_cast<T>(*v);
    return Status::Ok();
  }
  Status ReadDouble(const std::string& name, double lo, double hi, double* out) const {
    auto v = GetDouble(name, lo, hi);
    if (!v.ok()) return v.status();
    *out = *v;
    return Status::Ok();
  }
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& command() const { return command_; }
  std::string Help() const;

 private:
  struct Spec {
    std::string value_name, help;
    std::optional<std::string> default_value;
    bool is_switch = false;
    std::string env;  // the environment variable giving the value, if any
  };
  // The flag's environment variable's value; "" when it has none or it is unset.
  std::string EnvValue(const std::string& name) const;
  std::string command_, usage_, description_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> switches_;
  std::map<std::string, std::string> aliases_;  // alias -> declared name
  std::vector<std::string> positional_;
};

// Splits "28,28,1" into integers; the error names `what`.
Result<std::vector<long long>> ParseIntList(const std::string& text, const std::string& what);

// Declares --input-shape H,W,C (default 28,28,1) and --classes K (default 10):
// the data set's input, for the commands that cost candidates without one.
void AddInputSpecFlags(Args& args);
// Those two flags as an InputSpec (MakeInputSpec's checks); errors name the flag.
Result<InputSpec> GetInputSpec(const Args& args);

}  // namespace unas::cli
