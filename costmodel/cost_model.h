// Exact resource costs of a network on a microcontroller: flash, peak SRAM
// under the build order and under the best execution order, an arena layout,
// MACs, and (with an MCU profile) estimated latency.
//
// Two accountings (docs/cost-model.md section 3):
//   kUnas  μNAS's own: the network input is not counted, biases are 1 byte,
//          an Add may always write into an input of the output's shape.
//   kTflm  what a TFLM deployment needs (the default): the input buffer is
//          counted, biases are int32, in-place Add only at the input's last use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "costmodel/candidate.h"
#include "costmodel/mcu.h"
#include "costmodel/memory_planner.h"
#include "costmodel/network.h"
#include "base/status.h"

namespace unas {

enum class Accounting { kUnas, kTflm };
const char* AccountingName(Accounting accounting);
Result<Accounting> ParseAccounting(const std::string& name);

// The planner's view of a network: tensor 0 is the network input, tensor i+1
// the output of op i; int8 activations, the input sized per accounting.
BufferGraph MakeBufferGraph(const Network& network, Accounting accounting);

// The figures the search needs, computed without an arena layout.
struct CostSummary {
  int64_t params = 0;                  // weights + biases
  int64_t flash_bytes = 0;             // model size
  int64_t macs = 0;
  int64_t peak_sram_bytes = 0;         // best execution order
  int64_t build_order_peak_bytes = 0;  // the order the graph was built in
};

struct OpCost {
  int64_t weights = 0;
  int64_t biases = 0;
  int64_t flash_bytes = 0;
  int64_t macs = 0;
  int64_t live_bytes_best = 0;   // bytes live while it runs, best order
  int64_t live_bytes_build = 0;  // bytes live while it runs, build order
  int step_best = 0;             // its position in the best order
  std::optional<double> cycles;  // with an MCU profile
};

struct CostReport {
  Accounting accounting = Accounting::kTflm;
  CostSummary summary;
  std::vector<OpCost> ops;          // by op index (build order)
  std::vector<int> best_order;      // op indices
  std::vector<int64_t> timeline_best;   // live bytes per step of best_order
  std::vector<int64_t> timeline_build;  // live bytes per step of the build order
  ArenaLayout layout;               // for best_order; tensor ids as in MakeBufferGraph
  const McuProfile* mcu = nullptr;
  std::optional<double> latency_ms;
};

Result<CostSummary> SummariseCosts(const Network& network, Accounting accounting);
Result<CostReport> CostNetwork(const Network& network, Accounting accounting,
                               const McuProfile* mcu = nullptr);

}  // namespace unas
