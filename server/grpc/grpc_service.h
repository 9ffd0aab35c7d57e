// gRPC front of the coordinator: JobService and WorkerService. Handlers are
// thin: check the bearer token (a refused call is logged, rate-limited),
// translate, call the Coordinator, translate back. Long-polls and watch streams wait with bounded timeouts and notice a
// client that went away. gRPC and protobuf types stay in grpc_service.cc.
#pragma once

#include <memory>
#include <string>

#include "server/core/coordinator.h"
#include "server/core/rejection_log.h"

namespace unas::server {

struct GrpcServerOptions {
  std::string address = "127.0.0.1:7070";  // host:port; port 0 picks a free one
  std::string token;                       // required bearer token; empty disables auth (loopback only)
  std::string tls_cert_path;               // PEM; with tls_key_path enables TLS
  std::string tls_key_path;
  // Calls refused for their token are logged at warning level, at most one
  // line per source address per window (server/core/rejection_log.h).
  RejectionLogOptions rejections;
};

class GrpcServer {
 public:
  // Starts serving; fails with a message naming the address if it cannot bind.
  static Result<std::unique_ptr<GrpcServer>> Start(Coordinator* coordinator, GrpcServerOptions options);
  ~GrpcServer();
  int port() const { return port_; }
  void Shutdown();  // stops accepting, cancels streams, waits for handlers (bounded)

 private:
  GrpcServer();
  struct Impl;  // the services and the grpc::Server, in grpc_service.cc
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace unas::server
