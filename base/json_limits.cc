#include "base/json_limits.h"

#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace unas {

namespace {

// Follows the parser's events to find the first key that appears twice in
// one object, and where: a stack of the open objects (their keys so far)
// and arrays (the index of their current element).
class DuplicateKeyFinder {
 public:
  bool found() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        StartElement();
        frames_.push_back(Frame{event == Event::array_start, -1, {}, {}});
        break;
      case Event::object_end:
      case Event::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case Event::key:
        if (!frames_.empty() && !found()) {
          Frame& f = frames_.back();
          f.key = parsed.get<std::string>();
          if (!f.keys.insert(f.key).second) path_ = Path();
        }
        break;
      case Event::value:
        StartElement();
        break;
    }
    return true;  // keep everything: the error is reported after the parse
  }

 private:
  struct Frame {
    bool is_array = false;
    int64_t index = -1;           // arrays: the current element
    std::set<std::string> keys;   // objects: the keys seen so far
    std::string key;              // objects: the current key
  };
  void StartElement() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }
  std::string Path() const {
    std::string out;
    for (const Frame& f : frames_) {
      if (f.is_array) {
        out += "[" + std::to_string(f.index) + "]";
      } else {
        if (!out.empty()) out += ".";
        out += f.key;
      }
    }
    return out;
  }
  std::vector<Frame> frames_;
  std::string path_;
};

}  // namespace

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
    DuplicateKeyFinder duplicates;
    nlohmann::json parsed = nlohmann::json::parse(
        text.begin(), text.end(),
        [&duplicates](int depth, nlohmann::json::parse_event_t event, nlohmann::json& j) {
          return duplicates(depth, event, j);
        });
    if (duplicates.found()) {
      return Status::Invalid(QuotePrefix(duplicates.path()) + ": the key appears twice in one object");
    }
    return parsed;
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
