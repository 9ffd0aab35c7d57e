// Flags shared by the commands that talk to a coordinator, and how they find
// the token: --token, then --token-file (a mounted secret), then UNAS_TOKEN,
// then DATA_DIR/token (a local serve).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "cli/args.h"
#include "client/grpc_client.h"

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
//
// Mode: a file anyone may write is refused (anyone could set the token), and
// so is a file of ours that others may read (chmod 600 fixes it). A file
// owned by someone else is a secret mounted for us (Docker Compose keeps the
// host file's mode, Kubernetes sets defaultMode) and its owner chose the mode
// we need to read it.
inline Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) return Status::Invalid("--token-file " + path + ": cannot read a line");
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & S_IWOTH) != 0) {
      return Status::Invalid("--token-file " + path + " is writable by others; run: chmod o-w " + path);
    }
    if ((st.st_mode & S_IROTH) != 0 && st.st_uid == geteuid()) {
      return Status::Invalid("--token-file " + path + " is readable by others; run: chmod 600 " + path);
    }
  }
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
