// Exact resource costs of a network on a microcontroller: flash, peak SRAM
// under the build order and under the best execution order, an arena layout,
// MACs, and (with an MCU profile) estimated latency.
//
// Four accountings (docs/cost-model.md section 3):
//   kUnas      μNAS's own: the network input is not counted, biases are 1
//              byte, an Add may always write into an input of the output's shape.
//   kTflm      what TensorFlow Lite Micro with its reference kernels
//              allocates (the default): the Network lowered to TFLite
//              operators (lowering.h), run in the order with the smallest
//              planned arena under TFLM's rules (tflm_arena.h: input from the
//              start, output to the end, nothing in place, buffers rounded up
//              to 16 bytes), TFLM's greedy arena for that order plus its
//              persistent part: arena_used_bytes() of a 32-bit build exactly;
//              int32 biases. peak_sram_bytes is that total arena (what must
//              fit), so hard SRAM limits apply to it.
//   kTflmCmsisNn  the same graph and order run by TFLM with the CMSIS-NN
//              kernels (Cortex-M with the DSP extension): peak_sram_bytes is
//              tflm_cmsis_nn_total_arena_bytes (their scratch buffers and
//              larger OpData included).
//   kFirmware  unas's own C runtime (firmware/): the input buffer is counted,
//              biases are int32, an Add writes in place into an input at its
//              last use; partial execution is a firmware feature.
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

enum class Accounting { kUnas, kTflm, kFirmware, kTflmCmsisNn };
const char* AccountingName(Accounting accounting);  // "unas", "tflm", "firmware", "tflm_cmsis_nn"
Result<Accounting> ParseAccounting(const std::string& name);
// kTflm or kTflmCmsisNn: the lowered graph under TFLM's rules.
inline bool IsTflm(Accounting accounting) {
  return accounting == Accounting::kTflm || accounting == Accounting::kTflmCmsisNn;
}

// The planner's view of a network: tensor 0 is the network input, tensor i+1
// the output of op i; int8 activations, the input sized per accounting.
// For kTflm this is the network-level approximation of the lowered graph
// (input counted, nothing in place, sizes rounded up to 16 bytes; no PAD or
// pooling pieces): CostNetwork and SummariseCosts cost the lowered graph.
BufferGraph MakeBufferGraph(const Network& network, Accounting accounting);

// The figures the search needs, computed without an arena layout.
struct CostSummary {
  int64_t params = 0;                  // weights + biases
  int64_t flash_bytes = 0;             // model size
  int64_t macs = 0;
  int64_t peak_sram_bytes = 0;         // best execution order; kTflm: tflm_total_arena_bytes,
                                       // kTflmCmsisNn: tflm_cmsis_nn_total_arena_bytes
  int64_t build_order_peak_bytes = 0;  // the order the graph was built in (TFLM: its total arena)
  // kTflm and kTflmCmsisNn only (0 otherwise), for the chosen order: TFLM's
  // planned tensor arena, its persistent part and their sum with the
  // reference kernels (arena_used_bytes()); and the sum with the CMSIS-NN
  // kernels (their scratch buffers are planned too).
  int64_t tflm_arena_bytes = 0;
  int64_t tflm_persistent_bytes = 0;
  int64_t tflm_total_arena_bytes = 0;
  int64_t tflm_cmsis_nn_total_arena_bytes = 0;
};

struct OpCost {
  int64_t weights = 0;
  int64_t biases = 0;
  int64_t flash_bytes = 0;
  int64_t macs = 0;
  int64_t live_bytes_best = 0;   // bytes live while it runs, best order (kTflm: max over its TFLite operators)
  int64_t live_bytes_build = 0;  // bytes live while it runs, build order
  int step_best = 0;             // its position in the best order
  std::optional<double> cycles;  // with an MCU profile
};

// The audio front end of a keyword model (costmodel/frontend_cost.h says how
// each figure is made and counted).
struct FrontendCost {
  int64_t instructions = 0;   // Cortex-M4 instructions per inference (prepare + int8 features), estimated
  int64_t flash_bytes = 0;    // code and constant tables
  int64_t scratch_bytes = 0;  // unas_frontend_scratch_bytes: working memory during the front end
};

struct CostReport {
  Accounting accounting = Accounting::kTflm;
  CostSummary summary;
  std::vector<OpCost> ops;          // by op index (build order)
  std::vector<int> best_order;      // op indices
  std::vector<int64_t> timeline_best;   // live bytes per step of best_order
  std::vector<int64_t> timeline_build;  // live bytes per step of the build order
  ArenaLayout layout;               // for best_order; tensor ids as in MakeBufferGraph
                                    // (TFLM: offsets in TFLM's planned arena, reference kernels)
  std::vector<int> tflm_order;      // TFLM: the lowered graph's operators in the chosen order
  const McuProfile* mcu = nullptr;
  std::optional<double> latency_ms;
  // Keyword models only (AddFrontendToReport): the front end's cost, already
  // in summary and latency_ms, and the network's own figures without it.
  std::optional<FrontendCost> frontend;
  CostSummary network_summary;
  std::optional<double> network_latency_ms;
};

Result<CostSummary> SummariseCosts(const Network& network, Accounting accounting);
Result<CostReport> CostNetwork(const Network& network, Accounting accounting,
                               const McuProfile* mcu = nullptr);

}  // namespace unas
