// What bench_costmodel and bench_pex share: their command line and the
// JSON-lines file of candidates they read (one {"architecture", "input_shape",
// "num_classes"} object a line, as ../shared/testdata/unas_reference_costs.jsonl).
// Header-only, for the bench programs; errors go to stderr with the program's name.
#pragma once

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"

namespace unas::bench {

struct BenchArgs {
  std::string path = "../shared/testdata/unas_reference_costs.jsonl";  // the positional FILE.jsonl
  Accounting accounting = Accounting::kUnas;                           // --accounting NAME
  double seconds = 3.0;                                                // --seconds S (when accepted)
  bool verbose = false;                                                // --verbose (when accepted)
};

// Parses `[FILE.jsonl] [--accounting NAME]` plus `--seconds S` where
// `accepts_seconds` and `--verbose` where `accepts_verbose`, into *args (which
// holds the defaults). Any other argument is the file. False, with the
// message printed, for an unknown accounting name.
inline bool ParseBenchArgs(int argc, char** argv, bool accepts_seconds, bool accepts_verbose, BenchArgs* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (accepts_seconds && a == "--seconds" && i + 1 < argc) {
      args->seconds = std::atof(argv[++i]);
    } else if (a == "--accounting" && i + 1 < argc) {
      auto parsed = ParseAccounting(argv[++i]);
      if (!parsed.ok()) {
        std::cerr << parsed.status().message() << "\n";
        return false;
      }
      args->accounting = *parsed;
    } else if (accepts_verbose && a == "--verbose") {
      args->verbose = true;
    } else {
      args->path = a;
    }
  }
  return true;
}

struct CandidateLine {
  std::string line;  // the JSON line as read
  Candidate candidate;
  InputSpec spec;
};

// Every non-empty line of `path`. False, with "`program`: ..." printed, when
// the file cannot be opened or a line's candidate or input spec is invalid.
inline bool ReadCandidateLines(const std::string& path, const char* program, std::vector<CandidateLine>* out) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << program << ": cannot open " << path << "\n";
    return false;
  }
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    auto spec = InputSpecFromJson(j["input_shape"], j["num_classes"]);
    auto c = CandidateFromJson(j["architecture"]);
    if (!spec.ok() || !c.ok()) {
      std::cerr << program << ": bad line: " << (spec.ok() ? c.status() : spec.status()).message() << "\n";
      return false;
    }
    out->push_back({line, *c, *spec});
  }
  return true;
}

}  // namespace unas::bench
