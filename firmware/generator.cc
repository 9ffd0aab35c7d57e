#include "firmware/generator.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

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

class Emitter {
 public:
  Emitter(const QuantizedNetwork& q, const PexPlan& plan) : q_(q), net_(q.network), plan_(plan) {}

  // Constant arrays and parameter structs of every op.
  std::string Constants(int64_t* constant_bytes) {
    std::ostringstream s;
    for (int i = 0; i < static_cast<int>(net_.ops.size()); ++i) s << OpConstants(i, constant_bytes);
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

  std::string OpConstants(int i, int64_t* bytes) {
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
      s << Array("int8_t", n + "_weights", qo.weights) << Array("int32_t", n + "_bias", qo.bias);
      *bytes += static_cast<int64_t>(qo.weights.size() + 4 * qo.bias.size());
      if (op.kind != OpKind::kDense) {
        s << Array("int32_t", n + "_multiplier", mult) << Array("int32_t", n + "_shift", shift);
        *bytes += static_cast<int64_t>(8 * mult.size());
      }
      const std::string offsets = Int(-in_q.zero_point) + ", " + Int(qo.output.zero_point) + ", " + Int(act_min) +
                                  ", " + Int(act_max);
      if (op.kind == OpKind::kConv2D) {
        s << "static const unas_conv_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c << ", "
          << op.out.h << ", " << op.out.w << ", " << op.out.c << ", " << op.kernel << ", " << op.stride << ", "
          << offsets << ", " << n << "_weights, " << n << "_bias, " << n << "_multiplier, " << n << "_shift};\n";
      } else if (op.kind == OpKind::kDWConv2D) {
        s << "static const unas_depthwise_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c
          << ", " << op.out.h << ", " << op.out.w << ", " << op.kernel << ", " << op.stride << ", " << offsets << ", "
          << n << "_weights, " << n << "_bias, " << n << "_multiplier, " << n << "_shift};\n";
      } else {
        s << "static const unas_dense_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c
          << ", " << op.out.c << ", " << offsets << ", " << n << "_weights, " << n << "_bias, " << mult[0] << ", "
          << shift[0] << "};\n";
      }
    } else if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
      s << "static const unas_pool_params " << n << " = {" << op.in.h << ", " << op.in.w << ", " << op.in.c << ", "
        << op.out.h << ", " << op.out.w << ", " << op.pool_h << ", " << op.pool_w << ", " << act_min << ", "
        << act_max << "};\n";
    } else {
      s << "static const unas_add_term " << n << "_terms[" << op.inputs.size() << "] = {";
      for (size_t t = 0; t < op.inputs.size(); ++t) {
        const int p = op.inputs[t];
        const Shape sh = p == kNetworkInput ? net_.input_shape() : net_.ops[p].out;
        s << (t ? ", " : "") << "{" << sh.h << ", " << sh.w << ", " << sh.c << ", " << q_.quant_of(p).zero_point
          << "}";
      }
      s << "};\nstatic const unas_add_stage " << n << "_stages[" << op.inputs.size() - 1 << "] = {";
      for (size_t j = 1; j < op.inputs.size(); ++j) {
        const AddStageRequant a = AddStage(q_, i, static_cast<int>(j));
        s << (j > 1 ? "," : "") << "\n  {" << -a.input1.zero_point << ", " << a.r1.multiplier << ", " << a.r1.shift
          << ", " << -a.input2.zero_point << ", " << a.r2.multiplier << ", " << a.r2.shift << ", "
          << a.output.zero_point << ", " << a.out.multiplier << ", " << a.out.shift << ", -128, 127}";
      }
      *bytes += static_cast<int64_t>(16 * op.inputs.size() + 44 * (op.inputs.size() - 1));
      s << "};\nstatic const unas_add_params " << n << " = {" << op.out.h << ", " << op.out.w << ", " << op.out.c
        << ", " << op.inputs.size() << ", " << n << "_terms, " << n << "_stages};\n";
    }
    return s.str();
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
        case OpKind::kConv2D: s << "  unas_conv_s8(" << n << ", " << in << ", " << out << ", " << c << ", 0, 0, " << c << ");\n"; break;
        case OpKind::kDense: s << "  unas_dense_s8(" << n << ", " << in << ", " << out << ");\n"; break;
        case OpKind::kDWConv2D:
        case OpKind::kMaxPool:
        case OpKind::kAvgPool:
          s << "  " << ChannelLocalKernel(op.kind) << "(" << n << ", " << in << ", " << cin << ", 0, " << out << ", "
            << c << ", 0, 0, " << c << ");\n";
          break;
        case OpKind::kAdd: {
          s << "  {\n    const int8_t *terms[" << gs.inputs.size() << "];\n";
          for (size_t t = 0; t < gs.inputs.size(); ++t) {
            s << "    terms[" << t << "] = " << Ptr(gs.inputs[t]) << ";\n";
          }
          s << "    unas_add_s8(" << n << ", terms, " << out << ");\n  }\n";
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
      s << "  unas_conv_s8(" << n << ", " << in << ", " << out << ", " << c1 - c0 << ", " << c0 << ", " << range
        << ");\n";
    } else {
      const std::string out_view = tail ? std::to_string(op.out.c) + ", 0" : std::to_string(c1 - c0) + ", " + std::to_string(c0);
      s << "  " << ChannelLocalKernel(op.kind) << "(" << n << ", " << in << ", " << in_view << ", " << out << ", "
        << out_view << ", " << range << ");\n";
    }
    return s.str();
  }

  static const char* ChannelLocalKernel(OpKind kind) {
    return kind == OpKind::kDWConv2D ? "unas_depthwise_s8" : kind == OpKind::kMaxPool ? "unas_max_pool_s8"
                                                                                      : "unas_avg_pool_s8";
  }

  const QuantizedNetwork& q_;
  const Network& net_;
  const PexPlan& plan_;
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

std::string ModelHeader(int64_t input_bytes, int64_t output_bytes, int64_t arena_bytes, const std::string& summary) {
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
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* UNAS_MODEL_H */\n";
  return s.str();
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
  lib.model_h = ModelHeader(lib.input_bytes, lib.output_bytes, lib.arena_bytes, summary.str());
  Emitter emitter(q, lib.plan);
  std::ostringstream c;
  c << "/* Generated by unas: " << summary.str() << ". */\n"
    << "#include \"model.h\"\n\n#include <stdint.h>\n#include <string.h>\n\n#include \"unas_kernels.h\"\n\n"
    << "/* Profiling hook: build with -DUNAS_PROFILE and provide unas_profile_step\n"
    << " * to observe the end of every step (e.g. read a timer). */\n"
    << "#ifdef UNAS_PROFILE\nvoid unas_profile_step(int step);\n#define UNAS_STEP_DONE(step) unas_profile_step(step)\n"
    << "#else\n#define UNAS_STEP_DONE(step) ((void)0)\n#endif\n\n"
    << "const float unas_model_input_scale = " << Float(q.input.scale) << ";\n"
    << "const float unas_model_output_scale = " << Float(out_q.scale) << ";\n"
    << "const int32_t unas_model_input_zero_point = " << q.input.zero_point << ";\n"
    << "const int32_t unas_model_output_zero_point = " << out_q.zero_point << ";\n";
  c << emitter.Constants(&lib.constant_bytes) << "\n";
  c << emitter.Invoke(&lib.kernel_calls);
  lib.model_c = c.str();
  lib.network_arena_bytes = lib.arena_bytes;
  if (options.audio_frontend) UNAS_RETURN_IF_ERROR(AddFrontend(q, *options.audio_frontend, &lib));
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
