// A registered data set's record as JSON: the one shape `unas data list
// --json` prints and GET /api/v1/datasets answers (docs/api.md).
// Thread safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "server/store/records.h"

namespace unas::server {

inline nlohmann::json DatasetRecordJson(const DatasetRecord& d) {
  return {{"name", d.name},
          {"sha256", d.sha256},
          {"kind", d.kind},
          {"entry", d.entry},
          {"num_classes", d.num_classes},
          {"class_names", d.class_names},
          {"input_shape", {d.input_height, d.input_width, d.input_channels}},
          {"file_count", d.file_count},
          {"content_bytes", d.content_bytes},
          {"pack_bytes", d.pack_bytes},
          {"created_unix_ms", d.created_unix_ms}};
}

}  // namespace unas::server
