// Renderings of a cost report: JSON (for --json, the REST API and exports)
// and a readable per-operator table, plus the JSON-lines batch interface of
// docs/cost-model.md section 5.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"

namespace unas {

nlohmann::json CostReportToJson(const Network& network, const CostReport& report);
std::string FormatCostTable(const Network& network, const CostReport& report);

// One line of the batch interface: {"input_shape":[H,W,C],"num_classes":K,
// "architecture":{...}} in; {"peak_memory","model_size","macs",...} or
// {"error": "..."} out. Never throws.
nlohmann::json CostBatchLine(const std::string& line, Accounting accounting);

}  // namespace unas
