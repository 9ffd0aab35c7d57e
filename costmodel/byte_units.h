// Byte sizes as people write them: "32768", "32kB", "64KiB", "1.5 MiB".
// The one parser for every place that asks for a number of bytes (job
// bounds and constraints, the pruning target, a board's memory, CLI flags).
//
// Units, case-sensitive, optionally after one space:
//   B                     1
//   kB, MB, GB            1000, 1000^2, 1000^3 (SI, as "kB" means in print)
//   KiB, MiB, GiB         1024, 1024^2, 1024^3 (IEC)
// "K", "KB", "k" and "Kb" are refused as ambiguous (datasheets write "KB"
// for 1024 bytes, the SI for 1000): the message asks for kB or KiB. The
// number is decimal (digits with at most one '.'); the result must be a
// whole number of bytes in [0, 2^53] (a size a JSON number holds exactly).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace unas {

// Fails with kInvalidArgument naming the text and the accepted units.
Result<int64_t> ParseByteSize(std::string_view text);

// The largest unit that divides `bytes` exactly, for messages and reports:
// 65536 -> "64 KiB", 32000 -> "32 kB", 1000 -> "1 kB", 1500 -> "1500 B".
std::string FormatByteSize(int64_t bytes);

}  // namespace unas
