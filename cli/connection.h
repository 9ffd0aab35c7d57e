// Flags shared by the commands that talk to a coordinator, and how they find
// the token: --token, then --token-file (a mounted secret), then UNAS_TOKEN,
// then DATA_DIR/token (a local serve).
#pragma once

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "cli/args.h"
#include "server/grpc_client.h"

namespace unas::cli {

inline void AddConnectionFlags(Args& args) {
  args.Flag("coordinator", "HOST:PORT", "the coordinator's gRPC address", "127.0.0.1:7070");
  args.Flag("token", "TOKEN", "bearer token (default: --token-file, UNAS_TOKEN, else DATA_DIR/token)");
  args.Flag("token-file", "PATH", "read the bearer token from this file's first line (e.g. a mounted secret)");
  args.Flag("data-dir", "DIR", "a local coordinator's data directory, to read its token", "unas-data");
  args.Flag("tls-ca", "PEM", "connect with TLS, trusting this certificate");
}

// The first line of `path` without trailing whitespace, e.g. a Docker or
// Kubernetes secret mounted as a file (which often ends with a newline).
inline Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) return Status::Invalid("--token-file " + path + ": cannot read a line");
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.empty()) return Status::Invalid("--token-file " + path + ": the first line is empty");
  return token;
}

inline Result<std::unique_ptr<server::Client>> ConnectFromFlags(const Args& args, int deadline_ms = 10'000) {
  server::ClientOptions options;
  options.deadline_ms = deadline_ms;
  options.address = args.Get("coordinator");
  options.tls_ca_path = args.Get("tls-ca");
  if (args.Has("token")) {
    options.token = args.Get("token");
  } else if (args.Has("token-file")) {
    auto token = ReadTokenFile(args.Get("token-file"));
    if (!token.ok()) return token.status();
    options.token = *token;
  } else if (const char* env = std::getenv("UNAS_TOKEN"); env && *env) {
    options.token = env;
  } else {
    std::ifstream in(args.Get("data-dir") + "/token");
    std::getline(in, options.token);
  }
  return server::Client::Connect(options);
}

}  // namespace unas::cli
