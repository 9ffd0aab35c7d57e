#include "base/stored_json.h"

#include "base/json_limits.h"

namespace unas {

nlohmann::json StoredJson(std::string_view text) {
  if (text.empty()) return nullptr;
  auto parsed = ParseLimitedJson(text);
  return parsed.ok() ? *std::move(parsed) : nlohmann::json(QuotePrefix(text));
}

}  // namespace unas
