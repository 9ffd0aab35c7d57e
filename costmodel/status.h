// One error type for the core libraries (costmodel, search): returned, never
// thrown. Callers at the edges (CLI, server, worker) turn it into their own
// style: an exit code, a gRPC status, an HTTP error body.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace unas {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong; the message says which part
  kOutOfRange,       // a value is outside the search space's bounds
  kNotFound,
  kFailedPrecondition,
  kResourceExhausted,
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(message));
  }
  static Status OutOfRange(std::string message) {
    return Status(StatusCode::kOutOfRange, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(StatusCode::kInternal, std::move(message));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with where the error happened. A message that
  // starts with a key path ("ker_size: ...", "layers[0].ker_size: ...") is
  // joined with a dot, giving "conv_blocks[2].layers[0].ker_size: ...".
  Status WithContext(const std::string& where) const {
    if (ok()) return *this;
    const auto colon = message_.find(':');
    const bool starts_with_path = colon != std::string::npos && colon > 0 &&
                                  message_.find(' ') > colon && message_.find('\'') > colon;
    return Status(code_, where + (starts_with_path ? "." : ": ") + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}   // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
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
