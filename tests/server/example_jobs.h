// The job specs users copy from examples/jobs/, for the tests that check
// they parse.
//
// Thread safety: pure function.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "server/core/job_spec.h"

namespace unas::testing {

// examples/jobs/`file` parsed as `unas submit` parses it; a file that cannot
// be read is a kNotFound naming it.
inline Result<server::JobSpec> ParseExampleJob(const std::string& file) {
  const std::string path = std::string(UNAS_SOURCE_DIR) + "/examples/jobs/" + file;
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return server::ParseJobSpecText(text.str());
}

}  // namespace unas::testing
