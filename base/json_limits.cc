#include "base/json_limits.h"

#include <nlohmann/json.hpp>

namespace unas {

Status CheckJsonLimits(std::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return Status::Invalid("JSON text is " + std::to_string(text.size()) + " bytes, over the " +
                           std::to_string(limits.max_bytes) + "-byte limit");
  }
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;  // the escaped character, whatever it is, cannot end the string
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    switch (ch) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limits.max_depth) {
          return Status::Invalid("JSON nests deeper than " + std::to_string(limits.max_depth) +
                                 " levels (at byte " + std::to_string(i) + ")");
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;  // unbalanced text is left to the parser to refuse
        break;
      default: break;
    }
  }
  return Status::Ok();
}

Result<nlohmann::json> ParseLimitedJson(std::string_view text, JsonLimits limits) {
  UNAS_RETURN_IF_ERROR(CheckJsonLimits(text, limits));
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // e.what() names the byte and the token, quoting only a few characters.
    return Status::Invalid("not valid JSON: " + QuotePrefix(e.what(), 2 * kQuoteChars));
  }
}

std::string QuotePrefix(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  size_t cut = max_chars;
  // Do not split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string QuoteJson(const nlohmann::json& value, size_t max_chars) {
  return QuotePrefix(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_chars);
}

}  // namespace unas
