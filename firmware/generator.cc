#include "firmware/generator.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "firmware/contract_source.h"
#include "data/audio/feature_extractor.h"

namespace unas::firmware {
namespace {

std::string Int(int64_t v) {
  if (v == INT32_MIN) return "(-2147483647 - 1)";
  return std::to_string(v);
}

std::string Float(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9ef", static_cast<double>(v));
  return buf;
}

template <typename T>
std::string Array(const char* type, const std::string& name, const std::vector<T>& values) {
  std::ostringstream s;
  s << "static const " << type << " " << name << "[" << values.size() << "] = {";
  for (size_t i = 0; i < values.size(); ++i) {
    s << (i % 16 == 0 ? "\n  " : " ") << Int(values[i]) << (i + 1 < values.size() ? "," : "");
  }
  s << "\n};\n";
  return s.str();
}

std::string Name(int op) { return "op" + std::to_string(op); }

constexpr size_t kWeightPadBytes = 4;

// The bias the kernels add: bias - input_zero_point * (sum of the output
// channel's weights), so that they multiply raw int8 inputs (unas_kernels.h).
// Weights: conv [out_c][k][k][in_c] and dense [units][n] are one row per
// channel; depthwise [k][k][c] interleaves channels.
Result<std::vector<int32_t>> EffectiveBias(const Op& op, const QuantizedOp& qo, int32_t input_zero_point,
                                           const std::string& where) {
  const size_t channels = qo.bias.size();
  std::vector<int64_t> weight_sums(channels, 0);
  for (size_t i = 0; i < qo.weights.size(); ++i) {
    const size_t c = op.kind == OpKind::kDWConv2D ? i % channels : i / (qo.weights.size() / channels);
    weight_sums[c] += qo.weights[i];
  }
  std::vector<int32_t> bias(channels);
  for (size_t c = 0; c < channels; ++c) {
    const int64_t b = qo.bias[c] - static_cast<int64_t>(input_zero_point) * weight_sums[c];
    if (b < INT32_MIN || b > INT32_MAX) {
      return Status::Invalid(where + ": bias of channel " + std::to_string(c) +
                             " with the input zero point folded in exceeds int32");
    }
    bias[c] = static_cast<int32_t>(b);
  }
  return bias;
}

// unas_requant initialisers of every channel, or "0" (NULL) when one of
// them cannot be prepared.
std::string PreparedTable(const std::string& name, const std::vector<int32_t>& multipliers,
                          const std::vector<int32_t>& shifts, std::string* table, int64_t* bytes) {
  std::ostringstream s;
  s << "static const unas_requant " << name << "[" << multipliers.size() << "] = {";
  for (size_t c = 0; c < multipliers.size(); ++c) {
    const std::optional<PreparedRequant> r = PrepareRequant(multipliers[c], shifts[c]);
    if (!r) return "0";
    char k_lo[16];
    std::snprintf(k_lo, sizeof k_lo, "0x%08Xu", static_cast<unsigned>(r->k_lo));
    s << (c ? "," : "") << "\n  {" << r->multiplier << ", " << Int(r->neg_below) << ", " << k_lo << ", " << r->k_hi
      << ", " << r->k_hi_neg << ", " << r->shift << "}";
  }
  s << "\n};\n";
  *table = s.str();
  *bytes += static_cast<int64_t>(24 * multipliers.size());
  return name;
}

class Emitter {
 public:
  Emitter(const QuantizedNetwork& q, const PexPlan& plan) : q_(q), net_(q.network), plan_(plan) {
    // Which ops run a kernel body (whole, or a slice that is not an
    // accumulating tail): those get a shape-specialised instance; an op that
    // only accumulates slices uses the generic unas_*_accumulate.
    specialised_.assign(net_.ops.size(), false);
    for (size_t g = 0; g < plan_.steps.size(); ++g) {
      const PexStep& st = plan_.steps[g];
      if (st.kind == PexStepKind::kWhole ||
          (st.kind == PexStepKind::kSlice && !(plan_.segments[st.segment].accumulates &&
                                               plan_.segments[st.segment].ops.back() == st.op))) {
        specialised_[st.op] = true;
      }
    }
  }

  // Constant arrays and parameter structs of every op.
  Result<std::string> Constants(int64_t* constant_bytes) {
    std::ostringstream s;
    for (int i = 0; i < static_cast<int>(net_.ops.size()); ++i) {
      UNAS_ASSIGN_OR_RETURN(std::string text, OpConstants(i, constant_bytes));
      s << text;
    }
    return s.str();
  }

  std::string Invoke(int* calls) {
    std::ostringstream s;
    s << "void unas_model_invoke(const int8_t *input, int8_t *output, uint8_t *arena) {\n";
    if (plan_.graph.tensor_bytes[0] > 0) {
      s << "  memcpy(arena + " << Offset(0) << ", input, " << plan_.graph.tensor_bytes[0] << ");\n";
    }
    for (size_t p = 0; p < plan_.order.size(); ++p) {
      const int g = plan_.order[p];
      s << "  /* step " << p << ": " << Describe(g) << "; " << plan_.timeline[p] << " B live */\n";
      s << Step(g) << "  UNAS_STEP_DONE(" << p << ");\n";
      ++*calls;
    }
    const int out = plan_.graph.graph_outputs[0];
    s << "  memcpy(output, arena + " << Offset(out) << ", " << plan_.graph.tensor_bytes[out] << ");\n";
    s << "}\n";
    return s.str();
  }

 private:
  int64_t Offset(int tensor) const { return plan_.layout.offsets[tensor]; }

  // A pointer expression for a tensor of the plan.
  std::string Ptr(int tensor, const char* type = "int8_t") const {
    if (plan_.graph.tensor_bytes[tensor] == 0) return "input";  // an uncounted network input
    return std::string("(") + type + " *)(arena + " + std::to_string(Offset(tensor)) + ")";
  }
  std::string Acc(int tensor) const { return "arena + " + std::to_string(Offset(tensor)); }

  std::string Describe(int g) const {
    const PexStep& st = plan_.steps[g];
    std::string d = Name(st.op) + " " + net_.ops[st.op].Describe();
    if (st.kind == PexStepKind::kSlice) {
      d += ", channels " + std::to_string(st.channel_begin) + ".." + std::to_string(st.channel_end) + " (slice " +
           std::to_string(st.slice) + ")";
    }
    if (st.kind == PexStepKind::kFinalize) d += ", finalise in place";
    return d;
  }

  Result<std::string> OpConstants(int i, int64_t* bytes) {
    const Op& op = net_.ops[i];
    const QuantizedOp& qo = q_.ops[i];
    const std::string n = Name(i);
    int32_t act_min = 0, act_max = 0;
    ActivationRange(q_, i, &act_min, &act_max);
    const QuantParams in_q = q_.quant_of(op.inputs[0]);
    std::ostringstream s;
    s << "\n/* " << n << ": " << op.Describe() << ", " << op.in.ToString() << " -> " << op.out.ToString() << " */\n";
    if (op.kind == OpKind::kConv2D || op.kind == OpKind::kDWConv2D || op.kind == OpKind::kDense) {
      std::vector<int32_t> mult, shift;
      const int channels = op.kind == OpKind::kDense ? 1 : op.out.c;
      for (int c = 0; c < channels; ++c) {
        const Requant r = OpRequant(q_, i, c);
        mult.push_back(r.multiplier);
        shift.push_back(r.shift);
      }
      UNAS_ASSIGN_OR_RETURN(const std::vector<int32_t> bias,
                            EffectiveBias(op, qo, in_q.zero_point, "op " + std::to_string(i) + " (" + op.Describe() + ")"));
      // Four zero bytes after the weights: the DSP kernels' last word of a
      // row may read up to three bytes past it (unas_kernels_impl.h).
      std::vector<int8_t> padded = qo.weights;
      padded.resize(padded.size() + kWeightPadBytes, 0);
      s << Array("int8_t", n + "_weights", padded) << Array("int32_t", n + "_bias", bias);
      *bytes += static_cast<int64_t>(padded.size() + 4 * qo.bias.size());
      if (op.kind != OpKind::kDense) {
        s << Array("int32_t", n + "_multiplier", mult) << Array("int32_t", n + "_shift", shift);
        *bytes += static_cast<int64_t>(8 * mult.size());
      }
      std::string table;
      const std::string requant = PreparedTable(n + "_requant", mult, shift, &table, bytes);
      s << table;
      const std::string offsets = Int(qo.output.zero_point) + ", " + Int(act_min) + ", " + Int(act_max);
      if (op.kind == OpKind::kConv2D) {
        s << "static const unas_conv_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c << ", "
          << op.out.h << ", " << op.out.w << ", " << op.out.c << ", " << op.kernel << ", " << op.stride << ", "
          << offsets << ", " << n << "_weights, " << n << "_bias, " << n << "_multiplier, " << n << "_shift, "
          << requant << "};\n";
      } else if (op.kind == OpKind::kDWConv2D) {
        s << "static const unas_depthwise_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c
          << ", " << op.out.h << ", " << op.out.w << ", " << op.kernel << ", " << op.stride << ", " << offsets << ", "
          << n << "_weights, " << n << "_bias, " << n << "_multiplier, " << n << "_shift, " << requant << "};\n";
      } else {
        s << "static const unas_dense_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c
          << ", " << op.out.c << ", " << offsets << ", " << n << "_weights, " << n << "_bias, " << mult[0] << ", "
          << shift[0] << ", " << requant << "};\n";
      }
      if (specialised_[i]) s << SpecialisedKernel(i);
    } else if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
      s << "static const unas_pool_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c << ", "
        << op.out.h << ", " << op.out.w << ", " << op.pool_h << ", " << op.pool_w << ", " << act_min << ", "
        << act_max << "};\n";
      if (specialised_[i]) s << SpecialisedKernel(i);
    } else {
      s << "static const unas_add_term " << n << "_terms[" << op.inputs.size() << "] = {";
      for (size_t t = 0; t < op.inputs.size(); ++t) {
        const int p = op.inputs[t];
        const Shape sh = p == kNetworkInput ? net_.input_shape() : net_.ops[p].out;
        s << (t ? ", " : "") << "{" << sh.h << ", " << sh.w << ", " << sh.c << ", " << q_.quant_of(p).zero_point
          << "}";
      }
      s << "};\n";
      // Each stage's three multipliers prepared, where all three shift right.
      std::vector<std::string> prepared;
      for (size_t j = 1; j < op.inputs.size(); ++j) {
        const AddStageRequant a = AddStage(q_, i, static_cast<int>(j));
        std::string table;
        prepared.push_back(PreparedTable(n + "_stage" + std::to_string(j) + "_requant",
                                         {a.r1.multiplier, a.r2.multiplier, a.out.multiplier},
                                         {a.r1.shift, a.r2.shift, a.out.shift}, &table, bytes));
        s << table;
      }
      s << "static const unas_add_stage " << n << "_stages[" << op.inputs.size() - 1 << "] = {";
      for (size_t j = 1; j < op.inputs.size(); ++j) {
        const AddStageRequant a = AddStage(q_, i, static_cast<int>(j));
        s << (j > 1 ? "," : "") << "\n  {" << -a.input1.zero_point << ", " << a.r1.multiplier << ", " << a.r1.shift
          << ", " << -a.input2.zero_point << ", " << a.r2.multiplier << ", " << a.r2.shift << ", "
          << a.output.zero_point << ", " << a.out.multiplier << ", " << a.out.shift << ", -128, 127, "
          << prepared[j - 1] << "}";
      }
      *bytes += static_cast<int64_t>(16 * op.inputs.size() + 48 * (op.inputs.size() - 1));
      s << "};\nstatic const unas_add_params " << n << " = {" << op.out.h << ", " << op.out.w << ", " << op.out.c
        << ", " << op.inputs.size() << ", " << n << "_terms, " << n << "_stages};\n";
      if (specialised_[i]) s << SpecialisedKernel(i);
    }
    return s.str();
  }

  // The kernel body instantiated with this op's parameter struct, whose
  // fields the compiler folds (unas_kernels_impl.h); same arguments as the
  // generic kernel without the struct.
  std::string SpecialisedKernel(int i) const {
    const std::string n = Name(i);
    switch (net_.ops[i].kind) {
      case OpKind::kConv2D:
        return "static void " + n + "_kernel(const int8_t *in, int8_t *out, int32_t out_stride, int32_t out_first, "
               "int32_t co0, int32_t co1) {\n  unas_conv_s8_body(&" + n + ", in, out, out_stride, out_first, co0, co1);\n}\n";
      case OpKind::kDWConv2D:
        return "static void " + n + "_kernel(const int8_t *in, int32_t in_stride, int32_t in_first, int8_t *out, "
               "int32_t out_stride,\n    int32_t out_first, int32_t c0, int32_t c1) {\n  unas_depthwise_s8_body(&" + n +
               ", in, in_stride, in_first, out, out_stride, out_first, c0, c1);\n}\n";
      case OpKind::kDense:
        return "static void " + n + "_kernel(const int8_t *in, int8_t *out) {\n  unas_dense_s8_body(&" + n +
               ", in, out);\n}\n";
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        return "static void " + n + "_kernel(const int8_t *in, int32_t in_stride, int32_t in_first, int8_t *out, "
               "int32_t out_stride,\n    int32_t out_first, int32_t c0, int32_t c1) {\n  unas_pool_s8_body(&" + n +
               (net_.ops[i].kind == OpKind::kAvgPool ? ", 1" : ", 0") +
               ", in, in_stride, in_first, out, out_stride, out_first, c0, c1);\n}\n";
      case OpKind::kAdd:
        return "static void " + n + "_kernel(const int8_t *const *terms, int8_t *out) {\n  unas_add_s8_body(&" + n +
               ", terms, out);\n}\n";
    }
    return "";
  }

  std::string Step(int g) const {
    const PexStep& st = plan_.steps[g];
    const BufferGraph::Step& gs = plan_.graph.ops[g];
    const Op& op = net_.ops[st.op];
    const std::string n = "&" + Name(st.op);
    const std::string out = Ptr(gs.output);
    std::ostringstream s;
    if (st.kind == PexStepKind::kWhole) {
      const std::string in = Ptr(gs.inputs[0]);
      const std::string c = std::to_string(op.out.c), cin = std::to_string(op.in.c);
      switch (op.kind) {
        case OpKind::kConv2D: s << "  " << Name(st.op) << "_kernel(" << in << ", " << out << ", " << c << ", 0, 0, " << c << ");\n"; break;
        case OpKind::kDense: s << "  " << Name(st.op) << "_kernel(" << in << ", " << out << ");\n"; break;
        case OpKind::kDWConv2D:
          s << "  " << Name(st.op) << "_kernel(" << in << ", " << cin << ", 0, " << out << ", " << c << ", 0, 0, " << c
            << ");\n";
          break;
        case OpKind::kMaxPool:
        case OpKind::kAvgPool:
          s << "  " << Name(st.op) << "_kernel(" << in << ", " << cin << ", 0, " << out << ", " << c << ", 0, 0, " << c
            << ");\n";
          break;
        case OpKind::kAdd: {
          s << "  {\n    const int8_t *terms[" << gs.inputs.size() << "];\n";
          for (size_t t = 0; t < gs.inputs.size(); ++t) {
            s << "    terms[" << t << "] = " << Ptr(gs.inputs[t]) << ";\n";
          }
          s << "    " << Name(st.op) << "_kernel(terms, " << out << ");\n  }\n";
          break;
        }
      }
      return s.str();
    }
    if (st.kind == PexStepKind::kFinalize) {
      const bool per_channel = op.kind == OpKind::kConv2D;
      const QuantParams& oq = q_.ops[st.op].output;
      int32_t act_min = 0, act_max = 0;
      ActivationRange(q_, st.op, &act_min, &act_max);
      const std::string nm = Name(st.op);
      s << "  unas_finalize_s8(" << Acc(gs.inputs[0]) << ", " << out << ", " << op.out.elements() << ", " << op.out.c
        << ", " << nm << "_bias, " << (per_channel ? nm + "_multiplier" : "&" + nm + ".multiplier") << ", "
        << (per_channel ? nm + "_shift" : "&" + nm + ".shift") << ", " << (per_channel ? 1 : 0) << ", "
        << oq.zero_point << ", " << act_min << ", " << act_max << ");\n";
      return s.str();
    }
    const PexSegment& seg = plan_.segments[st.segment];
    const int pos = static_cast<int>(std::find(seg.ops.begin(), seg.ops.end(), st.op) - seg.ops.begin());
    const bool head = pos == 0, tail = pos == static_cast<int>(seg.ops.size()) - 1;
    const int c0 = st.channel_begin, c1 = st.channel_end;
    const std::string in = Ptr(gs.inputs[0]);
    const std::string in_view = head ? std::to_string(op.in.c) + ", 0" : std::to_string(c1 - c0) + ", " + std::to_string(c0);
    const std::string range = std::to_string(c0) + ", " + std::to_string(c1);
    if (tail && seg.accumulates) {
      const char* kernel = op.kind == OpKind::kConv2D ? "unas_conv_accumulate" : "unas_dense_accumulate";
      s << "  " << kernel << "(" << n << ", " << in << ", " << in_view << ", " << range << ", " << Acc(gs.output)
        << ", " << (st.slice > 0 ? 1 : 0) << ");\n";
    } else if (head && op.kind == OpKind::kConv2D) {
      s << "  " << Name(st.op) << "_kernel(" << in << ", " << out << ", " << c1 - c0 << ", " << c0 << ", " << range
        << ");\n";
    } else {
      const std::string out_view = tail ? std::to_string(op.out.c) + ", 0" : std::to_string(c1 - c0) + ", " + std::to_string(c0);
      s << "  " << Name(st.op) << "_kernel(" << in << ", " << in_view << ", " << out << ", " << out_view << ", " << range
        << ");\n";
    }
    return s.str();
  }

  const QuantizedNetwork& q_;
  const Network& net_;
  const PexPlan& plan_;
  std::vector<bool> specialised_;  // by op: has an opN_kernel
};

// The schedule relies on the layout putting every slice's tail output (an
// accumulator, or the int8 output a channel-local tail fills slice by
// slice) and every finalisation in the buffer of its predecessor, which
// LayoutArena does for an in-place step whose input is at its last use.
Status CheckInPlace(const PexPlan& plan) {
  for (size_t g = 0; g < plan.steps.size(); ++g) {
    const PexStep& st = plan.steps[g];
    const BufferGraph::Step& gs = plan.graph.ops[g];
    const bool carried = (st.kind == PexStepKind::kSlice && st.slice > 0 &&
                          plan.segments[st.segment].ops.back() == st.op) ||
                         st.kind == PexStepKind::kFinalize;
    if (carried && plan.layout.offsets[gs.inputs.back()] != plan.layout.offsets[gs.output]) {
      return Status::Internal("layout: step " + std::to_string(g) + " (op " + std::to_string(st.op) +
                              ") is not in place");
    }
  }
  return Status::Ok();
}

std::string ModelHeader(int64_t input_bytes, int64_t output_bytes, int64_t arena_bytes, const std::string& summary,
                        const std::string& contract_declarations) {
  std::ostringstream s;
  s << "/* Generated by unas: " << summary << ".\n"
    << " * unas_model_invoke runs the network on one int8 input (NHWC, real =\n"
    << " * scale * (q - zero_point)) and writes the int8 logits. The arena is\n"
    << " * UNAS_MODEL_ARENA_BYTES bytes, 16-byte aligned, owned by the caller; it\n"
    << " * may be reused between calls. No heap, no floating point at run time. */\n"
    << "#ifndef UNAS_MODEL_H\n#define UNAS_MODEL_H\n\n#include <stdint.h>\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "#define UNAS_MODEL_INPUT_BYTES " << input_bytes << "\n"
    << "#define UNAS_MODEL_OUTPUT_BYTES " << output_bytes << "\n"
    << "#define UNAS_MODEL_ARENA_BYTES " << arena_bytes << "\n\n"
    << "extern const float unas_model_input_scale, unas_model_output_scale;\n"
    << "extern const int32_t unas_model_input_zero_point, unas_model_output_zero_point;\n\n"
    << "void unas_model_invoke(const int8_t *input, int8_t *output, uint8_t *arena);\n\n"
    << contract_declarations << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* UNAS_MODEL_H */\n";
  return s.str();
}

Status CheckContract(const ContractShape& shape, const std::optional<data::InputContract>& contract) {
  if (!contract) return Status::Ok();
  UNAS_RETURN_IF_ERROR(data::ValidateInputContract(*contract));
  if (contract->height != shape.height || contract->width != shape.width || contract->channels != shape.channels) {
    return Status::Invalid("input contract: its shape " + std::to_string(contract->height) + "x" +
                           std::to_string(contract->width) + "x" + std::to_string(contract->channels) +
                           " is not the network's input " + std::to_string(shape.height) + "x" +
                           std::to_string(shape.width) + "x" + std::to_string(shape.channels));
  }
  const int classes = contract->num_classes();
  if (classes != shape.outputs && !(shape.outputs == 1 && classes == 2)) {
    return Status::Invalid("input contract: " + std::to_string(classes) + " class names for " +
                           std::to_string(shape.outputs) + " outputs");
  }
  return Status::Ok();
}

// --- The audio front end of keyword models (docs/keyword-spotting.md) -------

// Checks the front end against the network and sizes the arena for both.
Status PlanFrontend(const QuantizedNetwork& q, const unas_frontend_config& config, CLibrary* lib) {
  UNAS_RETURN_IF_ERROR(data::audio::CheckFrontendConfig(config));
  const Shape in = q.network.input_shape();
  const int frames = unas_frontend_frames(&config), per_frame = unas_frontend_features_per_frame(&config);
  if (in.h != frames || in.w != per_frame || in.c != 1) {
    return Status::Invalid("audio front end: it makes " + std::to_string(frames) + "x" + std::to_string(per_frame) +
                           "x1 features but the network's input is " + std::to_string(in.h) + "x" +
                           std::to_string(in.w) + "x" + std::to_string(in.c));
  }
  lib->has_frontend = true;
  lib->frontend_scratch_bytes = static_cast<int64_t>(unas_frontend_scratch_bytes(&config));
  lib->arena_bytes = std::max(lib->network_arena_bytes, lib->frontend_scratch_bytes);
  return Status::Ok();
}

// model.h's declarations, inserted before the header's closing extern "C".
std::string FrontendDeclarations(const unas_frontend_config& config, int64_t scratch_bytes) {
  std::ostringstream s;
  s << "/* Keyword model: unas_model_features turns one clip of raw 16-bit PCM\n"
    << " * (" << config.sample_rate_hz << " Hz mono, UNAS_MODEL_PCM_SAMPLES samples) into the network's\n"
    << " * int8 input (UNAS_MODEL_INPUT_BYTES, then give it to unas_model_invoke),\n"
    << " * with the audio front end (frontend.c) the network was trained on. Its\n"
    << " * working memory is the arena's first UNAS_MODEL_FEATURES_SCRATCH_BYTES:\n"
    << " * UNAS_MODEL_ARENA_BYTES covers the front end and the network, which run\n"
    << " * one after the other. `input` must not point into the arena. */\n"
    << "#define UNAS_MODEL_PCM_SAMPLES " << config.clip_samples << "\n"
    << "#define UNAS_MODEL_FEATURES_SCRATCH_BYTES " << scratch_bytes << "\n"
    << "void unas_model_features(const int16_t *pcm, int8_t *input, uint8_t *arena);\n\n";
  return s.str();
}

// model.c's front-end part: the config and the input quantiser as constants.
Result<std::string> FrontendDefinitions(const unas_frontend_config& c, const QuantParams& input) {
  UNAS_ASSIGN_OR_RETURN(data::audio::InputQuantizer quant, data::audio::MakeInputQuantizer(input.scale, input.zero_point));
  std::ostringstream s;
  s << "\n/* The audio front end (frontend.c, unchanged from data/audio/). */\n"
    << "#include \"frontend.h\"\n\n"
    << "static const unas_frontend_config unas_model_frontend_config = {\n"
    << "  " << c.sample_rate_hz << ", " << c.clip_samples << ", " << c.window_samples << ", " << c.stride_samples
    << ", " << c.mel_channels << ", " << c.lower_hz << ", " << c.upper_hz << ", " << c.output << ", "
    << c.mfcc_coefficients << "};\n"
    << "/* q = clamp(zero_point + round(feature * multiplier / 2^shift)): the input\n"
    << " * tensor's scale " << Float(input.scale) << " and zero point " << input.zero_point << " in integers. */\n"
    << "static const unas_frontend_quant unas_model_frontend_quant = {" << quant.multiplier << ", " << quant.shift
    << ", " << quant.zero_point << "};\n\n"
    << "void unas_model_features(const int16_t *pcm, int8_t *input, uint8_t *arena) {\n"
    << "  /* Neither call can fail: the config and quantiser were checked when this\n"
    << "   * file was generated and the arena is 16-byte aligned. The tables are\n"
    << "   * written every call because the network overwrites the arena. */\n"
    << "  (void)unas_frontend_prepare(&unas_model_frontend_config, arena);\n"
    << "  (void)unas_frontend_features_int8(&unas_model_frontend_config, &unas_model_frontend_quant, arena, pcm, input);\n"
    << "}\n";
  return s.str();
}

// The front end a keyword model's C runs: the options' own, else the one
// its input contract names (so a stored .tflite alone regenerates it); the
// two must agree when both are given.
Result<std::optional<unas_frontend_config>> FrontendOf(const FirmwareOptions& options) {
  std::optional<unas_frontend_config> from_contract;
  if (options.contract && options.contract->audio_frontend) {
    const data::AudioFrontendContract& a = *options.contract->audio_frontend;
    unas_frontend_config c{};
    c.sample_rate_hz = a.sample_rate_hz;
    c.clip_samples = a.clip_samples;
    c.window_samples = a.window_samples;
    c.stride_samples = a.stride_samples;
    c.mel_channels = a.mel_channels;
    c.lower_hz = a.lower_hz;
    c.upper_hz = a.upper_hz;
    c.output = a.log_mel ? UNAS_FRONTEND_LOG_MEL : UNAS_FRONTEND_MFCC;
    c.mfcc_coefficients = a.coefficients;
    from_contract = c;
  }
  if (!options.audio_frontend) return from_contract;
  if (from_contract && std::memcmp(&*from_contract, &*options.audio_frontend, sizeof(unas_frontend_config)) != 0) {
    return Status::Invalid("audio front end: the one given is not the one the model's input contract names");
  }
  return options.audio_frontend;
}

Status AddFrontend(const QuantizedNetwork& q, const unas_frontend_config& config, CLibrary* lib) {
  UNAS_RETURN_IF_ERROR(PlanFrontend(q, config, lib));
  const std::string arena_line = "#define UNAS_MODEL_ARENA_BYTES " + std::to_string(lib->network_arena_bytes) + "\n";
  const size_t arena_at = lib->model_h.find(arena_line);
  const size_t close_at = lib->model_h.rfind("#ifdef __cplusplus\n}");
  if (arena_at == std::string::npos || close_at == std::string::npos || close_at < arena_at) {
    return Status::Internal("firmware: model.h has no place for the front end's declarations");
  }
  lib->model_h.insert(close_at, FrontendDeclarations(config, lib->frontend_scratch_bytes));
  lib->model_h.replace(arena_at, arena_line.size(),
                       "/* max(network " + std::to_string(lib->network_arena_bytes) + " B, audio front end " +
                           std::to_string(lib->frontend_scratch_bytes) + " B) */\n#define UNAS_MODEL_ARENA_BYTES " +
                           std::to_string(lib->arena_bytes) + "\n");
  UNAS_ASSIGN_OR_RETURN(std::string definitions, FrontendDefinitions(config, q.input));
  lib->model_c += definitions;
  return Status::Ok();
}

}  // namespace

std::optional<PreparedRequant> PrepareRequant(int32_t multiplier, int32_t shift) {
  if (shift > -1 || shift < -31 || multiplier < 0) return std::nullopt;
  const int right = -shift;
  // K = 2^30 + 2^(30 + R): both roundings' nudges for x * multiplier + 2^30
  // >= 0; K - 2^31 otherwise (unas_multiply_prepared in unas_kernels_impl.h).
  const int64_t k = (int64_t{1} << 30) + (int64_t{1} << (30 + right));
  const int64_t k_neg = k - (int64_t{1} << 31);
  PreparedRequant r;
  r.multiplier = multiplier;
  // x * m + 2^30 < 0 <=> x * m < -2^30 <=> x <= -(floor(2^30 / m) + 1).
  r.neg_below = multiplier > 0 ? static_cast<int32_t>(-((int64_t{1} << 30) / multiplier)) : INT32_MIN;
  r.k_lo = static_cast<uint32_t>(k & 0xFFFFFFFF);
  r.k_hi = static_cast<int32_t>(k >> 32);
  r.k_hi_neg = static_cast<int32_t>(k_neg >> 32);
  r.shift = right - 1;
  return r;
}

Result<CLibrary> GenerateCLibrary(const QuantizedNetwork& q, const FirmwareOptions& options) {
  UNAS_RETURN_IF_ERROR(Validate(q));
  CLibrary lib;
  if (options.partial_execution) {
    UNAS_ASSIGN_OR_RETURN(lib.plan, PlanPartialExecution(q.network, Accounting::kFirmware));
  } else {
    UNAS_ASSIGN_OR_RETURN(lib.plan, PlanSegments(q.network, Accounting::kFirmware, {}, true));
  }
  UNAS_RETURN_IF_ERROR(CheckLayout(lib.plan.graph, lib.plan.layout));
  UNAS_RETURN_IF_ERROR(CheckInPlace(lib.plan));
  lib.arena_bytes = lib.plan.layout.arena_bytes;
  lib.input_bytes = q.network.input_shape().elements();
  lib.output_bytes = q.network.ops.back().out.elements();
  for (const QuantizedOp& op : q.ops) lib.weight_bytes += static_cast<int64_t>(op.weights.size() + 4 * op.bias.size());

  const QuantParams& out_q = q.ops.back().output;
  std::ostringstream summary;
  summary << q.network.ops.size() << " ops, " << (lib.plan.segments.empty() ? "whole-tensor" : "partial")
          << " execution (" << lib.plan.segments.size() << " segments), peak " << lib.plan.peak_bytes
          << " B, arena " << lib.arena_bytes << " B";
  const Shape in = q.network.input_shape();
  const ContractShape contract_shape{in.h, in.w, in.c, lib.output_bytes};
  UNAS_RETURN_IF_ERROR(CheckContract(contract_shape, options.contract));
  lib.model_h = ModelHeader(lib.input_bytes, lib.output_bytes, lib.arena_bytes, summary.str(),
                            ContractDeclarations(contract_shape, options.contract));
  Emitter emitter(q, lib.plan);
  std::ostringstream c;
  c << "/* Generated by unas: " << summary.str() << ". */\n"
    << "#include \"model.h\"\n\n#include <stdint.h>\n#include <string.h>\n\n#include \"unas_kernels.h\"\n"
    << "#include \"unas_kernels_impl.h\"\n\n"
    << "/* Profiling hook: build with -DUNAS_PROFILE and provide unas_profile_step\n"
    << " * to observe the end of every step (e.g. read a timer). */\n"
    << "#ifdef UNAS_PROFILE\nvoid unas_profile_step(int step);\n#define UNAS_STEP_DONE(step) unas_profile_step(step)\n"
    << "#else\n#define UNAS_STEP_DONE(step) ((void)0)\n#endif\n\n"
    << "const float unas_model_input_scale = " << Float(q.input.scale) << ";\n"
    << "const float unas_model_output_scale = " << Float(out_q.scale) << ";\n"
    << "const int32_t unas_model_input_zero_point = " << q.input.zero_point << ";\n"
    << "const int32_t unas_model_output_zero_point = " << out_q.zero_point << ";\n";
  UNAS_ASSIGN_OR_RETURN(const std::string constants, emitter.Constants(&lib.constant_bytes));
  c << constants << "\n";
  c << emitter.Invoke(&lib.kernel_calls);
  c << ContractDefinitions(contract_shape, options.contract);
  lib.model_c = c.str();
  lib.network_arena_bytes = lib.arena_bytes;
  UNAS_ASSIGN_OR_RETURN(const std::optional<unas_frontend_config> frontend, FrontendOf(options));
  if (frontend) UNAS_RETURN_IF_ERROR(AddFrontend(q, *frontend, &lib));
  return lib;
}

Status WriteCLibrary(const std::string& dir, const CLibrary& library) {
  const std::filesystem::path c_dir = std::filesystem::path(dir) / "c";
  std::error_code ec;
  std::filesystem::create_directories(c_dir, ec);
  if (ec) return Status::Invalid(c_dir.string() + ": cannot create: " + ec.message());
  const std::pair<const char*, const std::string*> files[] = {{"model.h", &library.model_h},
                                                              {"model.c", &library.model_c},
                                                              {"unas_kernels.h", &KernelsHeader()},
                                                              {"unas_kernels_impl.h", &KernelsImplHeader()},
                                                              {"unas_kernels.c", &KernelsSource()},
                                                              {"frontend.h", &FrontendHeader()},
                                                              {"frontend.c", &FrontendSource()}};
  for (const auto& [name, text] : files) {
    if (!library.has_frontend && std::string(name).rfind("frontend", 0) == 0) continue;
    const std::filesystem::path path = c_dir / name;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << *text;
    f.close();
    if (!f) return Status::Invalid(path.string() + ": cannot write");
  }
  return Status::Ok();
}

Status WriteCLibrary(const std::string& dir, const QuantizedNetwork& q, const FirmwareOptions& options) {
  UNAS_ASSIGN_OR_RETURN(CLibrary library, GenerateCLibrary(q, options));
  return WriteCLibrary(dir, library);
}

Status WriteCLibrary(const std::string& dir, const Network& network, const ModelGraph& quantised_graph,
                     const FirmwareOptions& options) {
  UNAS_ASSIGN_OR_RETURN(QuantizedNetwork q, FromModelGraph(network, quantised_graph));
  return WriteCLibrary(dir, q, options);
}

}  // namespace unas::firmware
