// Partial execution (Pex; Liberis & Lane, "Pex: Memory-efficient
// Microcontroller Deep Learning through Partial Execution"): run a chain of
// operators in k slices of the channel axis, so that the tensors inside the
// chain only ever exist one slice at a time.
//
// Operator classes along the channel axis:
//   channel-local      depthwise conv, max/avg pool (bias, BN and ReLU are
//                      per channel too): slice c of the output needs only
//                      slice c of the input.
//   output-splittable  conv (any kernel, 1x1 included): any subset of output
//                      channels from the full input.
//   input-splittable   conv and dense: partial sums over a slice of input
//                      channels, accumulated into a full-size int32
//                      accumulator (4 bytes per output element), then bias,
//                      ReLU and requantisation to int8 in place (byte i of
//                      the int8 output never lies after int32 element i).
//
// A segment is a chain o_1 .. o_m (m >= 2) where each interior tensor (the
// outputs of o_1 .. o_{m-1}) has exactly one consumer, the next operator, and
// that consumer has no other input. o_1 is output-splittable or
// channel-local, o_2 .. o_{m-1} are channel-local, and o_m is channel-local
// (it writes its slice into the full int8 output) or input-splittable (it
// accumulates). The slices run depth first: slice 1 through o_1 .. o_m, then
// slice 2, and so on; a segment is not interleaved with other operators.
// Adds are never sliced (an Add of equally sliced inputs is not attempted).
//
// No extra computation: slicing is along channels only, never spatial, so
// every multiply-accumulate of the whole network is done exactly once; the
// plan's `macs` is the sum over its steps and tests check it equals the
// network's.
//
// Exactness: a plan is a BufferGraph with one op per step (a whole operator,
// one slice of a segment's operator, or an accumulator's finalisation) whose
// tensors are whole tensors, slices and accumulators. Its peak and timeline
// are PeakOfOrder of that graph under the same rules as the whole network
// (docs/cost-model.md), so they are exact for the emitted schedule, and its
// layout is LayoutArena's. The order is chosen by BestOrder on a compressed
// graph in which each segment is two or three steps whose sizes bound the
// segment's internal profile from above, so the optimisation never
// under-estimates; the choice of segments is a greedy descent (below), not a
// proven optimum.
//
// Accountings: Pex is a feature of unas's own C runtime, which TFLM does not
// have (TFLM runs whole operators only). Asked for kTflm, the functions
// below plan under kFirmware rules and say so in PexPlan::accounting.
//
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/cost_model.h"
#include "costmodel/memory_planner.h"
#include "costmodel/network.h"
#include "base/status.h"

namespace unas {

struct PexSegment {
  std::vector<int> ops;      // network op indices, head first; each consumes the previous
  int channels = 0;          // channels of the interior tensors (the head's output)
  int slice_channels = 1;    // channels per slice; the last slice may have fewer
  int slices() const { return (channels + slice_channels - 1) / slice_channels; }
  bool accumulates = false;  // the tail is a conv or dense summing input-channel slices
};

enum class PexTensorKind {
  kWhole,        // an operator's full int8 output (or the network input)
  kSlice,        // channels [channel_begin, channel_end) of an interior tensor
  kAccumulator,  // int32 partial sums of a segment's tail (after slice `slice`)
};

struct PexTensor {
  PexTensorKind kind = PexTensorKind::kWhole;
  int op = kNetworkInput;  // the network op whose output this is (part of)
  int channel_begin = 0, channel_end = 0;  // kSlice only
};

enum class PexStepKind {
  kWhole,     // the operator runs on whole tensors
  kSlice,     // one slice of a segment's operator
  kFinalize,  // bias, ReLU and int8 requantisation of an accumulator, in place
};

struct PexStep {
  PexStepKind kind = PexStepKind::kWhole;
  int op = 0;           // network op index
  int segment = -1;     // index into PexPlan::segments, or -1
  int slice = -1;       // slice index within the segment, or -1
  int channel_begin = 0, channel_end = 0;  // the slice of the segment's channel axis
  int64_t macs = 0;     // multiply-accumulates this step performs
};

// The accounting a plan is made in: kFirmware for kTflm and kTflmCmsisNn, else unchanged.
Accounting PexAccounting(Accounting accounting);

struct PexPlan {
  Accounting accounting = Accounting::kFirmware;
  std::vector<PexSegment> segments;  // empty: whole-tensor execution is best
  BufferGraph graph;                 // the schedule's buffers; tensor 0 is the network input
  std::vector<PexTensor> tensors;    // by tensor id of `graph`
  std::vector<PexStep> steps;        // by op id of `graph`
  std::vector<int> order;            // op ids of `graph` in execution order
  std::vector<int64_t> timeline;     // live bytes per position of `order`
  ArenaLayout layout;                // for `order`; empty unless requested
  int64_t peak_bytes = 0;            // with partial execution: max of `timeline`
  int64_t whole_peak_bytes = 0;      // best order, whole tensors (CostSummary::peak_sram_bytes)
  int64_t build_order_peak_bytes = 0;  // build order, whole tensors
  int64_t macs = 0;                  // sum over steps; equals the network's MACs
};

struct PexOptions {
  // Passes of the greedy descent over candidate segments.
  int max_passes = 2;
  // After choosing segments at one channel per slice (which gives the lowest
  // peak), use the fewest slices that keep the same peak.
  bool fewest_slices = true;
  bool with_layout = true;
};

// Every segment the rules above allow, each with one channel per slice.
// Overlapping: a caller picks disjoint ones.
std::vector<PexSegment> CandidateSegments(const Network& network);

// The plan for a given, disjoint set of segments (possibly none). Fails with
// kInvalidArgument when a segment breaks the rules above.
Result<PexPlan> PlanSegments(const Network& network, Accounting accounting,
                             const std::vector<PexSegment>& segments, bool with_layout = true);

// Chooses segments and slice counts to minimise the peak, then plans them.
// Choice: start with whole execution; repeatedly, for each candidate segment,
// adopt it (dropping any chosen segment it overlaps) when that strictly
// lowers the objective: the peak, then the per-operator maxima of the
// timeline sorted descending (so relieving a second bottleneck of equal
// height counts); then drop segments that do not lower the peak, and give
// each segment the fewest slices that keep the peak. Never worse than whole execution.
Result<PexPlan> PlanPartialExecution(const Network& network, Accounting accounting,
                                     const PexOptions& options = {});

// The partial-execution peak alone (no layout, no slice-count minimisation),
// for the search to use as an objective or a constraint. Same value as
// PlanPartialExecution(...).peak_bytes.
Result<int64_t> PexPeakBytes(const Network& network, Accounting accounting);

}  // namespace unas
