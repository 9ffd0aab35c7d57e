// Stored JSON text (a job's normalised spec, a candidate) as a value to
// answer with, for the edges that show stored records: REST (json_convert.h),
// the CLI's --json output and the job JSON they share (server/store/job_json.h).
// Thread safety: pure function.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace unas {

// Parsed through ParseLimitedJson; text that is not JSON (from another
// version, or a damaged store) as a short string (QuotePrefix), so one bad
// row does not fail a whole answer; empty text as null. Never fails.
nlohmann::json StoredJson(std::string_view text);

}  // namespace unas
