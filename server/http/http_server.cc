#include "server/http/http_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "server/http/analysis_pool.h"
#include "server/http/catalog_routes.h"
#include "server/http/http_static.h"
#include "server/core/json_convert.h"

namespace unas::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr int kSendTimeoutSeconds = 10;
constexpr int64_t kKeepAliveMs = 15'000;

// Writes all of `data` to a blocking socket; false once the client is gone
// or a write stalls past kSendTimeoutSeconds.
bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// One /events stream on its own thread: it owns a duplicate of the socket's
// descriptor (the Asio socket is closed), so nothing else touches it.
struct EventStream {
  std::thread thread;
  std::atomic<bool> done{false};
};

struct HttpServer::Impl {
  ApiContext api;
  HttpServerOptions options;
  std::string web_root;  // real path; empty: no static files
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
  std::mutex streams_mu;  // guards streams
  std::list<EventStream> streams;
  std::unique_ptr<AnalysisPool> analyses;
  SystemClock clock;  // for the log of refused calls
  int port = 0;

  void Accept();
  // Takes over the connection for a server-sent event stream; false when
  // too many run already (the caller answers 503).
  bool StartEventStream(tcp::socket& socket, std::shared_ptr<Subscription> sub);
  void RunEventStream(int fd, std::shared_ptr<Subscription> sub);
  HttpResponse Route(const HttpRequest& request);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server) : stream_(std::move(socket)), server_(server) {}

  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_->options.body_limit_bytes);
    parser_->header_limit(8 * 1024);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      HttpResponse r = JsonError(413, "request body over " + std::to_string(server_->options.body_limit_bytes) +
                                          " bytes");
      Write(r, 11, /*keep_alive=*/false);
      return;
    }
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    const auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.authorization = std::string(req[http::field::authorization]);
    request.host = std::string(req[http::field::host]);
    request.origin = std::string(req[http::field::origin]);
    request.content_type = std::string(req[http::field::content_type]);
    request.body = req.body();
    beast::error_code peer_error;
    const auto peer = stream_.socket().remote_endpoint(peer_error);
    if (!peer_error) request.peer = peer.address().to_string();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    HttpResponse response = server_->Route(request);
    if (response.deferred) {
      // Off this thread: the pool answers later, on this session's strand.
      // The session (and its socket) lives until then in the callback.
      const bool queued = server_->analyses->Submit(
          std::move(response.deferred), stream_.socket().native_handle(),
          [self = shared_from_this(), version, keep_alive](HttpResponse answer) {
            answer.headers.emplace_back("Cache-Control", "no-store");
            asio::post(self->stream_.get_executor(), [self, answer = std::move(answer), version, keep_alive] {
              self->Write(answer, version, keep_alive);
            });
          });
      if (!queued) {
        HttpResponse busy = server_->analyses->Busy();
        busy.headers.emplace_back("Cache-Control", "no-store");
        Write(busy, version, keep_alive);
      }
      return;
    }
    if (response.events) {
      stream_.expires_never();
      if (server_->StartEventStream(stream_.socket(), response.events)) return;
      // Too many streams: the socket was not taken; answer on it.
      Write(JsonError(503, "too many event streams; try again later"), version, false);
      return;
    }
    Write(response, version, keep_alive);
  }

  void Write(const HttpResponse& r, unsigned version, bool keep_alive) {
    stream_.expires_after(kIdleTimeout);  // a deferred answer may come long after the read
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "unas");
    res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = r.body;
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || res->need_eof()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
};

}  // namespace

HttpResponse HttpServer::Impl::Route(const HttpRequest& request) {
  if (IsApiPath(request.target)) {
    HttpResponse r = HandleApi(api, request);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  if (request.method != "GET") {
    HttpResponse r = JsonError(405, "method not allowed; use GET");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  if (web_root.empty()) return JsonError(404, "no web directory configured");
  const std::string path = request.target.substr(0, request.target.find('?'));
  auto file = LoadStaticFile(web_root, path);
  if (!file.ok()) return JsonError(404, "not found");
  HttpResponse r;
  r.content_type = file->content_type;
  r.body = std::move(file->body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load()) return;
    if (!ec) {
      std::make_shared<Session>(std::move(socket), this)->Start();
      Accept();
      return;
    }
    // Out of descriptors or similar: retry shortly instead of spinning.
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
    timer->async_wait([this, timer](beast::error_code) {
      if (!stopping.load()) Accept();
    });
  });
}

bool HttpServer::Impl::StartEventStream(tcp::socket& socket, std::shared_ptr<Subscription> sub) {
  std::lock_guard<std::mutex> lock(streams_mu);
  streams.remove_if([](EventStream& s) {
    if (!s.done.load()) return false;
    s.thread.join();
    return true;
  });
  if (static_cast<int>(streams.size()) >= options.max_event_streams || stopping.load()) return false;
  const int fd = ::dup(socket.native_handle());
  if (fd < 0) return false;
  beast::error_code ignored;
  socket.close(ignored);
  // Blocking writes with a timeout: a stalled client cannot hold the thread.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{kSendTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  streams.emplace_back();
  EventStream& s = streams.back();
  s.thread = std::thread([this, fd, sub, &s] {
    RunEventStream(fd, sub);
    s.done.store(true);
  });
  return true;
}

void HttpServer::Impl::RunEventStream(int fd, std::shared_ptr<Subscription> sub) {
  bool ok = SendAll(fd,
                    "HTTP/1.1 200 OK\r\nServer: unas\r\nContent-Type: text/event-stream\r\n"
                    "Cache-Control: no-store\r\nConnection: close\r\nX-Accel-Buffering: no\r\n\r\nretry: 2000\n\n");
  auto last_write = std::chrono::steady_clock::now();
  JobEvent event;
  while (ok && !stopping.load()) {
    if (sub->Next(&event, 500)) {
      ok = SendAll(fd, std::string("event: ") + EventKindName(event.kind) + "\ndata: " + ToJson(event).dump() + "\n\n");
      last_write = std::chrono::steady_clock::now();
      if (event.kind == JobEvent::Kind::kJobDone) break;
      continue;
    }
    if (sub->closed()) break;
    if (std::chrono::steady_clock::now() - last_write > std::chrono::milliseconds(kKeepAliveMs)) {
      ok = SendAll(fd, ": keep-alive\n\n");
      last_write = std::chrono::steady_clock::now();
    }
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(); }

int HttpServer::port() const { return impl_->port; }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(ApiContext api, HttpServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->api = std::move(api);
  impl->options = options;
  if (!impl->api.rejections) impl->api.rejections = std::make_shared<RejectionLog>(&impl->clock);
  if (!options.web_dir.empty()) {
    auto root = RealWebRoot(options.web_dir);
    if (!root.ok()) return Status::Invalid("--web-dir: " + root.status().message());
    impl->web_root = *root;
    if (impl->api.recipes_dir.empty()) impl->api.recipes_dir = RecipesDirFor(impl->web_root);
  }
  const size_t colon = options.address.rfind(':');
  if (colon == std::string::npos) return Status::Invalid("--http: '" + options.address + "' is not HOST:PORT");
  std::string host = options.address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  int port = -1;
  try {
    port = std::stoi(options.address.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (ec || port < 0 || port > 65535) return Status::Invalid("--http: '" + options.address + "' is not HOST:PORT");
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Internal("--http: cannot listen on " + options.address + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  impl->analyses = std::make_unique<AnalysisPool>(options.analysis);
  impl->Accept();
  Impl* raw = impl.get();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) raw->io_threads.emplace_back([raw] { raw->io.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

AnalysisPool& HttpServer::analyses() { return *impl_->analyses; }

void HttpServer::Shutdown() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  // Running analyses are killed first: a shutdown waits for none of them.
  impl_->analyses->Shutdown();
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  for (auto& t : impl_->io_threads) t.join();
  std::lock_guard<std::mutex> lock(impl_->streams_mu);
  for (auto& s : impl_->streams) s.thread.join();
  impl_->streams.clear();
}

}  // namespace unas::server
