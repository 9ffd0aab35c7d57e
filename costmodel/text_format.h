// Small helpers for the human-readable reports (`unas cost` tables).
#pragma once

#include <cstdint>
#include <string>

namespace unas {

// 12345678 -> "12,345,678".
std::string WithThousands(int64_t value);
// Pads `s` with spaces to `width`, on the left when `right_align`.
std::string Pad(const std::string& s, size_t width, bool right_align);

}  // namespace unas
