// Flags shared by the commands that talk to a coordinator, and how they find
// the token: --token, then UNAS_TOKEN, then DATA_DIR/token (a local serve).
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
  args.Flag("token", "TOKEN", "bearer token (default: UNAS_TOKEN, else DATA_DIR/token)");
  args.Flag("data-dir", "DIR", "a local coordinator's data directory, to read its token", "unas-data");
  args.Flag("tls-ca", "PEM", "connect with TLS, trusting this certificate");
}

inline Result<std::unique_ptr<server::Client>> ConnectFromFlags(const Args& args) {
  server::ClientOptions options;
  options.address = args.Get("coordinator");
  options.tls_ca_path = args.Get("tls-ca");
  if (args.Has("token")) {
    options.token = args.Get("token");
  } else if (const char* env = std::getenv("UNAS_TOKEN"); env && *env) {
    options.token = env;
  } else {
    std::ifstream in(args.Get("data-dir") + "/token");
    std::getline(in, options.token);
  }
  return server::Client::Connect(options);
}

}  // namespace unas::cli
