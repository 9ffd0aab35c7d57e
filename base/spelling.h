// An enum's spellings in one table, read both ways: the name of a value, and
// the value of a name. One table per enum means printing and parsing cannot
// disagree, and an error can list the allowed names without a second copy.
//
//   constexpr Spelling<Accounting> kAccountings[] = {
//       {Accounting::kUnas, "unas"}, {Accounting::kTflm, "tflm"}, ...};
//   NameIn(kAccountings, Accounting::kTflm)          -> "tflm"
//   ParseIn(kAccountings, "tlfm", "accounting")      -> kInvalidArgument
//       "accounting: 'tlfm' is not one of unas, tflm, ..."
//
// Tables are small (a linear scan). Header-only, standard library and
// Status only, so every library may use it (CMake: unas_base). Thread safe:
// pure functions over constant tables.
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace unas {

template <typename E>
struct Spelling {
  E value;
  const char* name;
};

// The name of `value`, or `unknown` when the table lacks it (a value cast
// from an integer that names no enumerator).
template <typename E, size_t N>
const char* NameIn(const Spelling<E> (&spellings)[N], E value, const char* unknown = "?") {
  for (const Spelling<E>& s : spellings) {
    if (s.value == value) return s.name;
  }
  return unknown;
}

// The value spelled `name`; "<where>: 'x' is not one of a, b, c" (in the
// table's order) when no entry is.
template <typename E, size_t N>
Result<E> ParseIn(const Spelling<E> (&spellings)[N], const std::string& name, const std::string& where) {
  std::string known;
  for (const Spelling<E>& s : spellings) {
    if (name == s.name) return s.value;
    known += (known.empty() ? "" : ", ") + std::string(s.name);
  }
  return Status::Invalid(where + ": '" + name + "' is not one of " + known);
}

}  // namespace unas
