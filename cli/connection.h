// Flags shared by the commands that talk to a coordinator, how they find the
// token, and what they tell a user when a call fails for a reason the user
// can fix (no coordinator at the address, no token, a refused token).
//
// The token, first found wins: --token, --token-file (a mounted secret),
// UNAS_TOKEN, DATA_DIR/token (a local `unas serve`'s), where DATA_DIR is
// --data-dir, else UNAS_DATA_DIR, else ./unas-data. The address: --coordinator,
// else UNAS_COORDINATOR, else 127.0.0.1:7070. Flags always win over the
// environment.
//
// Thread safety: plain functions; a Connection is used by one thread (its
// Client may be shared, see client/grpc_client.h).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cli/args.h"
#include "client/grpc_client.h"

namespace unas::cli {

// --coordinator (env UNAS_COORDINATOR), --token, --token-file, --data-dir
// (env UNAS_DATA_DIR) and --tls-ca.
void AddConnectionFlags(Args& args);

// --data-dir DIR, else UNAS_DATA_DIR, else ./unas-data: where a coordinator
// keeps its database and token (serve, backup and the client commands),
// `help` saying what the command does with it.
void AddDataDirFlag(Args& args, const std::string& help);

// The first line of `path` without trailing whitespace, e.g. a Docker or
// Kubernetes secret mounted as a file (which often ends with a newline).
//
// Mode: a file anyone may write is refused (anyone could set the token), and
// so is a file of ours that others may read (chmod 600 fixes it). A file
// owned by someone else is a secret mounted for us (Docker Compose keeps the
// host file's mode, Kubernetes sets defaultMode) and its owner chose the mode
// we need to read it. Errors (kInvalidArgument) name the file and the fix.
Result<std::string> ReadTokenFile(const std::string& path);

// The token a client sends and where it came from.
struct TokenLookup {
  std::string token;   // empty: none was found (a --no-auth coordinator needs none)
  std::string source;  // "--token", "--token-file PATH", "UNAS_TOKEN" or "DATA_DIR/token"'s path; "" if none
  std::string data_dir_token;  // the DATA_DIR/token path looked at last
};

// Looks in the order above. Fails only for a --token-file that cannot be
// used (ReadTokenFile's errors); a missing DATA_DIR/token is no error here.
Result<TokenLookup> FindToken(const Args& args);

// A connected client with what it was given, so that errors can say it.
class Connection {
 public:
  // Connects lazily (gRPC): an unreachable coordinator shows at the first
  // call. Fails for an unusable --token-file or --tls-ca.
  static Result<Connection> Open(const Args& args, int deadline_ms = 10'000);

  server::Client& client() const { return *client_; }
  server::Client* operator->() const { return client_.get(); }
  // The client alone, for a caller that explains nothing.
  std::unique_ptr<server::Client> TakeClient() && { return std::move(client_); }

  // A failed call's status, explained for a user: "no coordinator answers at
  // ADDRESS" with `unas serve` and UNAS_COORDINATOR as the ways out; a token
  // the coordinator wanted and none found, with every place looked; a token
  // refused, with where it came from. Any other status is returned as it is.
  // The code is kept.
  Status Explain(const Status& status) const;

 private:
  Connection() = default;
  std::unique_ptr<server::Client> client_;
  std::string address_, address_source_;  // address_source_: "--coordinator" or "UNAS_COORDINATOR"
  TokenLookup token_;
};

// Connection::Open's client alone (`unas worker`, whose loop reports and
// retries failed calls itself).
Result<std::unique_ptr<server::Client>> ConnectFromFlags(const Args& args, int deadline_ms = 10'000);

}  // namespace unas::cli
