#include "base/status.h"

#include <cstdio>
#include <cstdlib>

namespace unas {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kOutOfRange: return "out_of_range";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission_denied";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& where) const {
  if (ok()) return *this;
  const auto colon = message_.find(':');
  const bool starts_with_path = colon != std::string::npos && colon > 0 && message_.find(' ') > colon &&
                                message_.find('\'') > colon;
  return Status(code_, where + (starts_with_path ? "." : ": ") + message_);
}

namespace internal {

void DieOnMisuse(const char* what, const Status& status) {
  std::fprintf(stderr, "unas: %s: %s\n", what, status.ToString().c_str());
  std::fflush(stderr);
  std::abort();
}

Status OkGivenAsError() {
  return Status::Internal("a Result was built from an OK status without a value (a bug)");
}

}  // namespace internal
}  // namespace unas
