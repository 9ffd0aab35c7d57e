#include "costmodel/byte_units.h"

#include <cctype>

namespace unas {
namespace {

constexpr int64_t kMaxBytes = int64_t{1} << 53;

struct Unit {
  const char* name;
  int64_t bytes;
};
constexpr Unit kUnits[] = {{"B", 1},
                           {"kB", 1000},
                           {"MB", 1000 * 1000},
                           {"GB", 1000 * 1000 * 1000},
                           {"KiB", 1024},
                           {"MiB", 1024 * 1024},
                           {"GiB", 1024 * 1024 * 1024}};

// Shown in errors; long inputs are cut so a message never echoes a megabyte.
std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 40;
  return "'" + std::string(text.substr(0, kShown)) + (text.size() > kShown ? "...'" : "'");
}

Status Refuse(std::string_view text, const std::string& why) {
  return Status::Invalid(Quoted(text) + " is not a byte size (" + why +
                         "; write a number of bytes, optionally with B, kB, MB, GB (powers of 1000) or "
                         "KiB, MiB, GiB (powers of 1024), e.g. \"32kB\" or \"64KiB\")");
}

}  // namespace

Result<int64_t> ParseByteSize(std::string_view text) {
  size_t i = 0;
  // The number: digits with at most one '.', at most 18 significant digits
  // in all so that the mantissa fits int64 before scaling.
  int64_t mantissa = 0;
  int digits = 0, fraction_digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !point) {
      point = true;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (++digits > 18) return Refuse(text, "too many digits");
      mantissa = mantissa * 10 + (c - '0');
      if (point) ++fraction_digits;
    } else {
      break;
    }
  }
  if (digits == 0) return Refuse(text, "no number");
  if (point && fraction_digits == 0) return Refuse(text, "a '.' needs digits after it");
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  int64_t scale = 0;
  if (unit.empty() && i == text.size()) {
    scale = 1;
  } else {
    for (const Unit& u : kUnits) {
      if (unit == u.name) scale = u.bytes;
    }
  }
  if (scale == 0) {
    if (unit == "K" || unit == "KB" || unit == "k" || unit == "Kb" || unit == "kb" || unit == "kiB") {
      return Refuse(text, "'" + std::string(unit) + "' is ambiguous: kB is 1000 bytes, KiB is 1024");
    }
    return Refuse(text, unit.empty() ? "a unit after the space is missing" : "unknown unit " + Quoted(unit));
  }
  // bytes = mantissa * scale / 10^fraction_digits, exactly.
  int64_t divisor = 1;
  for (int k = 0; k < fraction_digits; ++k) divisor *= 10;
  const __int128 product = static_cast<__int128>(mantissa) * scale;
  if (product % divisor != 0) return Refuse(text, "not a whole number of bytes");
  const __int128 bytes = product / divisor;
  if (bytes > kMaxBytes) {
    return Status::OutOfRange(Quoted(text) + " is more than 2^53 bytes");
  }
  return static_cast<int64_t>(bytes);
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes <= 0) return std::to_string(bytes) + " B";
  const Unit* best = &kUnits[0];
  for (const Unit& u : kUnits) {
    if (bytes % u.bytes == 0 && u.bytes > best->bytes) best = &u;
  }
  return std::to_string(bytes / best->bytes) + " " + best->name;
}

}  // namespace unas
