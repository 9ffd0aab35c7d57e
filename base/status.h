// One error type for every layer: returned, never thrown. Status carries a
// code and a message; Result<T> carries a value or the Status explaining why
// there is none. The edges (CLI, gRPC, HTTP, worker) turn a Status into their
// own style: an exit code, a gRPC status, an HTTP error body.
//
// Misuse is a programming error, not an error to return:
//   - Result<T>(Status::Ok()) (an error result without an error) fails an
//     assert in debug builds; in release builds it becomes a kInternal error
//     saying so, never a "not ok" result holding an OK status.
//   - value() (and * and ->) on an error result prints the status to stderr
//     and aborts, in every build. Check ok() first, or use
//     UNAS_ASSIGN_OR_RETURN.
// Standard library only, so every library may use it (CMake: unas_base).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace unas {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; the message says which part
  kOutOfRange,          // a value is outside its allowed range (e.g. the search space's bounds)
  kNotFound,            // the named thing (job, trial, file) does not exist
  kFailedPrecondition,  // the system is not in a state to do it (unreachable peer, newer schema)
  kResourceExhausted,   // nothing left to give (e.g. no new feasible candidate)
  kInternal,            // a bug or a failing dependency (SQLite, LibTorch)
  kUnauthenticated,     // the caller's credentials (bearer token) were refused
  kPermissionDenied,    // the caller is known but may not do this (a worker told to stop)
};

// "ok", "invalid_argument", "out_of_range", ...
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }
  static Status OutOfRange(std::string message) { return Status(StatusCode::kOutOfRange, std::move(message)); }
  static Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
  static Status FailedPrecondition(std::string message) {
    return Status(StatusCode::kFailedPrecondition, std::move(message));
  }
  static Status ResourceExhausted(std::string message) {
    return Status(StatusCode::kResourceExhausted, std::move(message));
  }
  static Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: <message>"; "ok" when ok.
  std::string ToString() const;

  // Prefixes the message with where the error happened. A message that
  // starts with a key path ("ker_size: ...", "layers[0].ker_size: ...") is
  // joined with a dot, giving "conv_blocks[2].layers[0].ker_size: ...".
  Status WithContext(const std::string& where) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

namespace internal {
// Prints "unas: <what>: <status>" to stderr and aborts.
[[noreturn]] void DieOnMisuse(const char* what, const Status& status);
// The release-build replacement for an OK status given to Result<T>(Status).
Status OkGivenAsError();
}  // namespace internal

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(Checked(std::move(status))) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  const T& value() const& {
    CheckOk();
    return std::get<T>(data_);
  }
  T& value() & {
    CheckOk();
    return std::get<T>(data_);
  }
  T&& value() && {
    CheckOk();
    return std::get<T>(std::move(data_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  static Status Checked(Status status) {
#ifndef NDEBUG
    if (status.ok()) internal::DieOnMisuse("Result<T> built from an OK status (no value)", status);
#endif
    return status.ok() ? internal::OkGivenAsError() : std::move(status);
  }
  void CheckOk() const {
    if (!ok()) internal::DieOnMisuse("value() of an error Result", std::get<Status>(data_));
  }

  std::variant<T, Status> data_;
};

}  // namespace unas

#define UNAS_CONCAT_INNER(a, b) a##b
#define UNAS_CONCAT(a, b) UNAS_CONCAT_INNER(a, b)

#define UNAS_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::unas::Status _unas_status = (expr);   \
    if (!_unas_status.ok()) return _unas_status; \
  } while (0)

#define UNAS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define UNAS_ASSIGN_OR_RETURN(lhs, expr) \
  UNAS_ASSIGN_OR_RETURN_IMPL(UNAS_CONCAT(_unas_result_, __LINE__), lhs, expr)
