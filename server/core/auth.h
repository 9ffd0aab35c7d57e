// Bearer-token authentication shared by gRPC and REST.
//
// The token is generated at the coordinator's first start (32 random bytes,
// hex), stored in DATA_DIR/token readable by the owner only, and printed once.
// An operator may set it instead (--token or UNAS_TOKEN); it is then not
// written to disk.
#pragma once

#include <string>

#include "base/status.h"

namespace unas::server {

struct TokenSource {
  std::string token;
  bool generated = false;  // true when this start created it (print it once)
  std::string path;        // where it is stored; empty if given by the operator
};

// `given` (from --token or UNAS_TOKEN) wins; otherwise reads DATA_DIR/token,
// creating it with mode 0600 if missing. Refuses a token file readable by
// group or others, tokens shorter than 16 characters, and tokens with spaces
// or control characters (20 spaces is not a token).
Result<TokenSource> LoadOrCreateToken(const std::string& data_dir, const std::string& given);

// Whether an "authorization" header value is "Bearer <token>", compared in
// constant time.
bool BearerMatches(const std::string& header_value, const std::string& token);

// 2*bytes hex characters from the operating system's random source.
Result<std::string> RandomHex(int bytes);

}  // namespace unas::server
