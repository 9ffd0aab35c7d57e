// Limits on JSON text that comes from outside the process: job specs (REST
// and gRPC), candidates (from workers, files and `unas cost`), JSON Lines
// input, and JSON read back from the store.
//
// Why a check before parsing: nlohmann-json's parser, its dump() and its
// destructor recurse once per nesting level, so a 200 KB body nested 100,000
// deep overflows the stack. CheckJsonLimits scans the text iteratively
// (strings and their escapes are skipped, so brackets inside strings do not
// count) and refuses text over the size or depth limit before any parser
// sees it. Every edge parses through ParseLimitedJson, so the limits live in
// one place.
//
// The limits are far above anything legitimate: a candidate nests 5 levels
// deep (architecture > conv_blocks > block > layers > layer), a job spec 4
// (training > lr_schedule > step); a candidate is a few KiB.
//
// A key that appears twice in one object is refused, naming it: nlohmann's
// parser keeps the last value, so {"epochs":2,"epochs":3} would otherwise be
// read as 3 by us and as 2 by another reader of the same text.
//
// Error messages quote at most kQuoteChars characters of a value
// (QuoteJson / QuotePrefix), so an error never echoes a megabyte of input,
// which over gRPC would overflow the metadata limit and hide the message.
//
// Thread safety: plain functions, no shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace unas {

inline constexpr int kMaxJsonDepth = 64;                  // nesting levels ([ and { together)
inline constexpr size_t kMaxJsonBytes = size_t{4} << 20;  // 4 MiB: the gRPC message limit
inline constexpr size_t kQuoteChars = 80;

struct JsonLimits {
  int max_depth = kMaxJsonDepth;
  size_t max_bytes = kMaxJsonBytes;
};

// Ok, or kInvalidArgument naming the limit that was passed ("JSON nests
// deeper than 64 levels (at byte 64)" or "JSON text is 5000000 bytes, over
// the 4194304-byte limit"). Does not check that the text is valid JSON.
Status CheckJsonLimits(std::string_view text, JsonLimits limits = {});

// CheckJsonLimits, then parses. kInvalidArgument "not valid JSON" (with the
// parser's reason) on a syntax error, or naming the key and where it is on a
// duplicate key ("training.epochs: the key appears twice in one object").
// Never throws.
Result<nlohmann::json> ParseLimitedJson(std::string_view text, JsonLimits limits = {});

// At most max_chars characters of text, with "..." appended when cut.
std::string QuotePrefix(std::string_view text, size_t max_chars = kQuoteChars);
// A JSON value's text for an error message, at most max_chars characters.
// Safe on any value (it is only ever called on parsed, depth-limited JSON).
std::string QuoteJson(const nlohmann::json& value, size_t max_chars = kQuoteChars);

}  // namespace unas
