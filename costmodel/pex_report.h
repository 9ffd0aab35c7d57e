// Renderings of a partial-execution plan for `unas cost`: a JSON object
// (the "partial_execution" field of --json) and a readable section appended
// to the cost table. Bytes are int8 activation bytes as in the plan.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "costmodel/partial_execution.h"

namespace unas {

// {"peak_sram_bytes", "whole_peak_sram_bytes", "build_order_peak_sram_bytes",
//  "arena_bytes", "macs", "segments": [{"ops","channels","slice_channels",
//  "slices","accumulates"}], "steps": [{"op","kind","segment","slice",
//  "channels":[begin,end],"live_bytes","macs"}] in execution order,
//  "buffers": [{"tensor","kind","op","channels","bytes","offset",
//  "first_step","last_step"}]}
nlohmann::json PexPlanToJson(const Network& network, const PexPlan& plan);

// Peaks, the segments and a per-step timeline, one line per step with runs
// of slices of the same operator folded into one line.
std::string FormatPexPlan(const Network& network, const PexPlan& plan);

}  // namespace unas
