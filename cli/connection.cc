#include "cli/connection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace unas::cli {
namespace {

// The client library's messages for these two cases (client/grpc_client.cc,
// FromGrpc).
constexpr char kUnavailable[] = "coordinator unavailable: ";
constexpr char kUnauthenticated[] = "authentication failed: ";

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

void AddConnectionFlags(Args& args) {
  args.Flag("coordinator", "HOST:PORT", "the coordinator's gRPC address", "127.0.0.1:7070");
  args.Env("coordinator", "UNAS_COORDINATOR");
  args.Flag("token", "TOKEN", "bearer token (else --token-file, UNAS_TOKEN, DATA_DIR/token)");
  args.Flag("token-file", "PATH", "read the bearer token from this file's first line (e.g. a mounted secret)");
  AddDataDirFlag(args, "a local coordinator's data directory, to read its token");
  args.Flag("tls-ca", "PEM", "connect with TLS, trusting this certificate");
}

void AddDataDirFlag(Args& args, const std::string& help) {
  args.Flag("data-dir", "DIR", help, "unas-data");
  args.Env("data-dir", "UNAS_DATA_DIR");
}

Result<std::string> ReadTokenFile(const std::string& path) {
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

Result<TokenLookup> FindToken(const Args& args) {
  TokenLookup found;
  found.data_dir_token = args.Get("data-dir") + "/token";
  if (args.Has("token")) {
    found.token = args.Get("token");
    found.source = "--token";
  } else if (args.Has("token-file")) {
    UNAS_ASSIGN_OR_RETURN(found.token, ReadTokenFile(args.Get("token-file")));
    found.source = "--token-file " + args.Get("token-file");
  } else if (const char* env = std::getenv("UNAS_TOKEN"); env && *env) {
    found.token = env;
    found.source = "UNAS_TOKEN";
  } else {
    std::ifstream in(found.data_dir_token);
    if (std::getline(in, found.token) && !found.token.empty()) found.source = found.data_dir_token;
  }
  return found;
}

Result<Connection> Connection::Open(const Args& args, int deadline_ms) {
  Connection c;
  UNAS_ASSIGN_OR_RETURN(c.token_, FindToken(args));
  c.address_ = args.Get("coordinator");
  c.address_source_ = args.Source("coordinator");
  server::ClientOptions options;
  options.deadline_ms = deadline_ms;
  options.address = c.address_;
  options.tls_ca_path = args.Get("tls-ca");
  options.token = c.token_.token;
  UNAS_ASSIGN_OR_RETURN(c.client_, server::Client::Connect(options));
  return c;
}

Status Connection::Explain(const Status& status) const {
  const std::string& m = status.message();
  if (StartsWith(m, kUnavailable)) {
    return Status(status.code(), "no coordinator answers at " + address_ + " (" + address_source_ +
                                     "): start one with 'unas serve', or point --coordinator or UNAS_COORDINATOR "
                                     "at a running one [" + m.substr(sizeof kUnavailable - 1) + "]");
  }
  if (StartsWith(m, kUnauthenticated)) {
    const std::string why = m.substr(sizeof kUnauthenticated - 1);
    if (token_.token.empty()) {
      return Status(status.code(),
                    "the coordinator at " + address_ + " wants a token and none was found: no --token or "
                    "--token-file, UNAS_TOKEN is not set, and " + token_.data_dir_token +
                    " does not exist (DATA_DIR is --data-dir, else UNAS_DATA_DIR, else ./unas-data). Give the "
                    "token 'unas serve' printed at its first start (--token, --token-file or UNAS_TOKEN), or its "
                    "data directory (--data-dir or UNAS_DATA_DIR) [" + why + "]");
    }
    return Status(status.code(), "the coordinator at " + address_ + " refused the token from " + token_.source +
                                     ": give the one in its DATA_DIR/token or the one it was started with [" + why +
                                     "]");
  }
  return status;
}

Result<std::unique_ptr<server::Client>> ConnectFromFlags(const Args& args, int deadline_ms) {
  UNAS_ASSIGN_OR_RETURN(Connection c, Connection::Open(args, deadline_ms));
  return std::move(c).TakeClient();
}

}  // namespace unas::cli
