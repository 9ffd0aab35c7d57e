// TensorFlow Lite Micro's tensor arena for a ModelGraph run in a given
// operator order, exactly as `MicroInterpreter::arena_used_bytes()` reports
// it after AllocateTensors() on a 32-bit Cortex-M build: the planned
// (non-persistent, head) part as TFLM's GreedyMemoryPlanner lays it out,
// plus the persistent (tail) part, allocation by allocation. Rules read off
// tflite-micro 90b983c2 (with CMSIS-NN 4ab83cc3 for the CMSIS-NN kernels)
// and checked against a build of it (docs/cost-model.md has the table and
// the commands; ../shared/spec/deployment.md the first measurements).
//
// Planned buffers: every tensor that is not constant, not variable, has a
// non-zero size and is used (a graph input, written or read by an
// operator); added to the planner in tensor index order, then the scratch
// buffers kernels request in Prepare, in request order (operators in run
// order). Lifetimes in scopes: scope 0 is before the first operator, the
// operator at position p of the order runs in scope p + 1. A graph input is
// created in scope 0, an operator's output in its producer's scope; it lives
// until the scope of its last reader (its producer's if nobody reads it);
// graph outputs live until the last operator's scope; a scratch buffer lives
// in its operator's scope only. Intervals are closed (an operator's inputs
// and outputs are live together) and nothing is in place. Each buffer's size
// is rounded up to a multiple of 16 bytes (MicroArenaBufferAlignment).
// Placement: largest first; among equal sizes the one added later goes
// first; each at the lowest offset clear of every placed buffer whose
// lifetime overlaps its own. The planned arena is the highest end.
//
// Scratch buffers (TflmScratchRequests):
//   reference kernels: SVDF, int8 (svdf_common.cc PrepareSvdf): 4 * batch *
//     num_filters, then 4 * batch * num_units; float: 4 * batch *
//     num_filters. MEAN (reduce_common.cc PrepareMeanOrSumHelper): int8 or
//     int16 input: 4 * output elements; then 4 * input rank and 4 * axis
//     count.
//   CMSIS-NN kernels, for a Cortex-M with the DSP extension (M4, M7, M33)
//     built with GCC (the arm_*_get_buffer_size functions of CMSIS-NN):
//     CONV_2D int8 (cmsis_nn/conv.cc, arm_convolve_wrapper_s8_get_buffer_size
//       _dsp): a 1x1 kernel with no padding, dilation 1 and input channels ==
//       filter channels needs none (arm_convolve_1x1_s8_fast's buffer is 0
//       unless built with Arm Compiler 6); any other kernel 4 * round4(kh *
//       kw * input channels) (the im2col columns of arm_convolve_s8, also
//       for 1xN). CONV_2D int16 (arm_convolve_wrapper_s16_get_buffer_size):
//       4 * input channels * kh * kw.
//     DEPTHWISE_CONV_2D int8 (cmsis_nn/depthwise_conv.cc, arm_depthwise_conv
//       _wrapper_s8_get_buffer_size): with input channels == output channels
//       (multiplier 1), batch 1 and dilation 1: none for a 3x3 kernel with
//       padding <= 1, else 2 * input channels * kh * kw
//       (arm_depthwise_conv_s8_opt); otherwise none.
//     AVERAGE_POOL_2D int8 (cmsis_nn/pooling.cc AveragePrepare,
//       arm_avgpool_s8_get_buffer_size_dsp): 4 * channels.
//     FULLY_CONNECTED int8 (cmsis_nn/fully_connected.cc): an output of rank
//       > 2 with input depth % 4 == 0 and a per-tensor filter: 8 * output
//       depth (per-channel multipliers for arm_convolve_1x1_s8_fast); rank 2
//       (unas's layers): none (arm_fully_connected_s8_get_buffer_size_dsp).
//   CMSIS-NN's other kernels (MAX_POOL_2D, ADD, PAD, SOFTMAX, ...) request
//   none for int8.
//
// Persistent part (TflmPersistentAllocations): TFLM allocates it from the
// arena's tail downwards, each allocation at AlignDown(tail - size,
// alignment). With the arena 16-byte aligned and a multiple of 16 bytes
// long (as TFLM's examples declare it: alignas(16) uint8_t arena[N * 1024]),
// each allocation takes the tail from `used` to round_up(used + size,
// alignment); so alignment padding depends on what came before, and the
// sequence is modelled in TFLM's order. Sizes are those of a 32-bit build
// (arm-none-eabi-g++ 12.2, -mcpu=cortex-m4):
//   1. MicroAllocator::Create: SingleArenaBufferAllocator (36 B, align 4),
//      GreedyMemoryPlanner (44, 4), MicroAllocator (36, 4)
//      (micro_allocator.cc, arena_allocator/single_arena_buffer_allocator.cc).
//   2. MicroAllocator::StartModelAllocation: MicroBuiltinDataAllocator (8, 4),
//      SubgraphAllocations (8, 4) per subgraph, TfLiteEvalTensor (12, 4) per
//      tensor of the subgraph (weights included), NodeAndRegistration (32, 4)
//      per operator.
//   3. MicroInterpreter::PrepareNodeAndRegistrationDataFromFlatbuffer, per
//      operator in file order: its builtin options struct
//      (core/api/flatbuffer_conversions.cc Parse*; c/builtin_op_data.h):
//      CONV_2D and DEPTHWISE_CONV_2D TfLite(Depthwise)ConvParams (28, 4),
//      pools TfLitePoolParams (40, 4), FULLY_CONNECTED
//      TfLiteFullyConnectedParams (5, 1), ADD TfLiteAddParams (2, 1), MUL
//      TfLiteMulParams (1, 1), RESHAPE TfLiteReshapeParams (36, 4), SOFTMAX
//      TfLiteSoftmaxParams (4, 4), STRIDED_SLICE TfLiteStridedSliceParams
//      (24, 4), CONCATENATION TfLiteConcatenationParams (8, 4), SVDF
//      TfLiteSVDFParams (8, 4), MEAN TfLiteReducerParams (1, 1); PAD, PADV2,
//      QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, RELU, RELU6: none.
//   4. MicroInterpreterGraph::InitSubgraphs, per operator: its kernel's
//      OpData from Init (AllocatePersistentBuffer: alignment 16). Reference
//      kernels: CONV_2D and DEPTHWISE_CONV_2D OpDataConv 56, FULLY_CONNECTED
//      OpDataFullyConnected 48, pools OpDataPooling 32, ADD OpDataAdd 60,
//      MUL OpDataMul 36, PAD/PADV2 (pad_common.cc) OpData 56, CONCATENATION
//      OpData 24, STRIDED_SLICE StridedSliceParams 84, SOFTMAX SoftmaxParams
//      56, MEAN OpDataReduce 44, SVDF OpDataSvdf 36, QUANTIZE
//      OpDataQuantizeReference 32, DEQUANTIZE DequantizeOpData 32, LOGISTIC
//      OpDataLogistic 16, TANH OpData 16, RELU ReluOpData 28, RELU6
//      Relu6OpData 8; RESHAPE none. CMSIS-NN kernels (cmsis_nn/*.cc
//      OpData): CONV_2D 60, DEPTHWISE_CONV_2D 60, FULLY_CONNECTED 72, pools
//      36, ADD 60, SOFTMAX CMSISNNSoftmaxParams 64; the rest as reference.
//   5. MicroInterpreterGraph::PrepareSubgraphs, per operator: CONV_2D,
//      DEPTHWISE_CONV_2D (and a per-channel FULLY_CONNECTED) allocate the
//      per-channel multipliers and shifts, 4 * channels each, alignment 16
//      (conv_common.cc ConvPrepare, depthwise_conv_common.cc,
//      fully_connected_common.cc; their CMSIS-NN twins likewise).
//   6. MicroAllocator::FinishModelAllocation: ScratchBufferHandle (4, 4) per
//      scratch buffer, one block; then each variable tensor's bytes
//      (alignment 16), in tensor index order (AllocateVariables).
//   7. MicroInterpreter::AllocateTensors: the input TfLiteTensor* array (4 per
//      input, alignment 16), then per input a TfLiteTensor (32, 4) and, when
//      it is quantised, a TfLiteAffineQuantization (12, 4) and its zero-point
//      TfLiteIntArray (4 + 4 per scale, 4); the same for the outputs.
// Operators outside these tables get no options and no OpData, and
// TflmArena::notes says that their share is not modelled.
//
// Not modelled: offline-planned offsets, multi-subgraph models (only the
// first subgraph is described by a ModelGraph), int16 LUTs of SOFTMAX, the
// CMSIS-NN SVDF's buffers. The interpreter, the op resolver and the stack
// are outside the arena.
//
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/buffer_graph.h"
#include "costmodel/model_graph.h"
#include "base/status.h"

namespace unas {

// TFLM's arena buffer alignment (MicroArenaBufferAlignment()).
constexpr int64_t kTflmBufferAlignment = 16;

// Which kernels TFLM is built with: its reference kernels, or the CMSIS-NN
// kernels (OPTIMIZED_KERNEL_DIR=cmsis_nn) for a Cortex-M with the DSP
// extension, which most Cortex-M deployments use.
enum class TflmKernels { kReference, kCmsisNn };
const char* TflmKernelsName(TflmKernels kernels);  // "reference", "cmsis_nn"

// A scratch buffer a kernel requests in Prepare.
struct TflmScratch {
  int op = -1;        // graph op index
  int64_t bytes = 0;  // as requested (the planner rounds it up to 16)
};

// One persistent (tail) allocation, in TFLM's order.
struct TflmAllocation {
  std::string what;        // "GreedyMemoryPlanner", "op 3 CONV_2D OpData", ...
  int64_t bytes = 0;
  int64_t alignment = 4;
};

struct TflmBuffer {
  int tensor = -1;           // tensor id in the ModelGraph; -1 for a scratch buffer
  int scratch_op = -1;       // scratch buffers: the op that requested it
  int64_t bytes = 0;         // the tensor's (or scratch request's) bytes
  int64_t planned_bytes = 0; // rounded up to kTflmBufferAlignment
  int first_scope = 0, last_scope = 0;  // closed lifetime
  int64_t offset = 0;        // in the planned arena
};

struct TflmArena {
  TflmKernels kernels = TflmKernels::kReference;
  std::vector<TflmBuffer> buffers;   // in the order they are added: tensors (index order), then scratch
  int64_t arena_bytes = 0;           // planned arena: highest end of any buffer
  int64_t live_peak_bytes = 0;       // largest sum of planned bytes live in one scope (lower bound)
  int64_t scratch_bytes = 0;         // sum of the scratch buffers' planned bytes (not a peak)
  std::vector<TflmAllocation> persistent;  // the persistent allocations in order
  int64_t persistent_bytes = 0;      // the tail they take (alignment padding included)
  int64_t total_arena_bytes = 0;     // arena_bytes + persistent_bytes: arena_used_bytes()
  std::vector<std::string> notes;    // what the model leaves out for this graph
};

// Rounds up to kTflmBufferAlignment.
int64_t TflmRound(int64_t bytes);

// Whether TFLM plans an arena buffer for tensor `t` (see above).
bool IsTflmPlannedTensor(const ModelGraph& graph, int t);

// The scratch buffers the operators of `graph` request with `kernels`, for
// ops in index order (the planner takes them in run order).
std::vector<TflmScratch> TflmScratchRequests(const ModelGraph& graph, TflmKernels kernels);

// The persistent allocations for `graph` run in `order` (a permutation of
// graph.ops indices), in TFLM's order. `scratch_buffers` is how many scratch
// buffers the kernels requested (their handles are persistent). Notes for
// operators whose share is not modelled are appended to `notes` (may be null).
std::vector<TflmAllocation> TflmPersistentAllocations(const ModelGraph& graph, const std::vector<int>& order,
                                                      TflmKernels kernels, int scratch_buffers,
                                                      std::vector<std::string>* notes = nullptr);

// The tail the allocations take from a 16-byte aligned arena end.
int64_t TflmTailBytes(const std::vector<TflmAllocation>& allocations);

// TflmTailBytes(TflmPersistentAllocations(...)) without building the list
// (no names, no allocation).
int64_t TflmPersistentBytes(const ModelGraph& graph, const std::vector<int>& order, TflmKernels kernels,
                            int scratch_buffers);

// The arena for `order` (a permutation of graph.ops indices in which every
// tensor is read only after it is written). Fails with kInvalidArgument for
// a bad order or tensor id.
Result<TflmArena> PlanTflmArena(const ModelGraph& graph, const std::vector<int>& order,
                                TflmKernels kernels = TflmKernels::kReference);

// PlanTflmArena for many orders of one graph (the cost model plans four to
// six per candidate): which tensors are planned and the kernels' scratch
// requests are worked out once, and Plan leaves out the persistent
// allocations' list and notes (persistent_bytes and total_arena_bytes are
// exact; PlanTflmArena adds the list). Not thread-safe; `graph` must outlive
// it and not change.
class TflmArenaPlanner {
 public:
  explicit TflmArenaPlanner(const ModelGraph& graph);
  // Errors as PlanTflmArena's.
  Result<TflmArena> Plan(const std::vector<int>& order, TflmKernels kernels = TflmKernels::kReference);

 private:
  const ModelGraph& graph_;
  std::vector<char> planned_;                  // by tensor: IsTflmPlannedTensor
  std::vector<TflmScratch> scratch_[2];        // by TflmKernels: TflmScratchRequests, once asked for
  bool scratch_known_[2] = {false, false};
};

// The graph under TFLM's rules for order search (order_search.h): tensor ids
// and op ids as in `graph`, bytes TflmRound(bytes) for planned tensors and 0
// for the rest, no in-place operator, graph outputs kept to the end. Its
// PeakOfOrder is the largest sum of planned bytes live in one scope (graph
// inputs nobody reads aside, which TFLM keeps for scope 0 only). Scratch
// buffers are not in it.
BufferGraph TflmBufferGraph(const ModelGraph& graph);

// The same graph with unrounded bytes of non-constant, non-variable tensors:
// tflite-tools' rule (producer to last reader, graph inputs from the start,
// outputs to the end, no alignment, nothing in place). Variable tensors (an
// SVDF's state) are persistent in TFLM, not activations.
BufferGraph LiveBytesBufferGraph(const ModelGraph& graph);

}  // namespace unas
