#include "firmware/contract_source.h"

#include <cstdio>
#include <sstream>

namespace unas::firmware {
namespace {

int Classes(const ContractShape& shape, const std::optional<data::InputContract>& contract) {
  return contract ? contract->num_classes() : static_cast<int>(shape.outputs);
}

}  // namespace

std::string CStringLiteral(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c >= 32 && c < 127 && c != '?') {  // '?' escaped: no trigraphs
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    }
  }
  return out + "\"";
}

std::string ContractDeclarations(const ContractShape& shape, const std::optional<data::InputContract>& contract) {
  std::ostringstream s;
  s << "/* The input: [1, H, W, C] int8, NHWC. */\n"
    << "#define UNAS_MODEL_INPUT_HEIGHT " << shape.height << "\n"
    << "#define UNAS_MODEL_INPUT_WIDTH " << shape.width << "\n"
    << "#define UNAS_MODEL_INPUT_CHANNELS " << shape.channels << "\n"
    << "/* The classes the output's logits score; unas_model_class_names[i] names\n"
    << " * output i (for a single logit: class 1 when it is positive). */\n"
    << "#define UNAS_MODEL_CLASSES " << Classes(shape, contract) << "\n"
    << "extern const char *const unas_model_class_names[UNAS_MODEL_CLASSES];\n\n";
  if (contract && contract->value_kind == data::InputValueKind::kAudioFeatures) {
    s << "/* The input contract (the model's metadata): a keyword model. Its input is\n"
      << " * the audio front end's features of one clip of 16-bit PCM, normalised as\n"
      << " * feature / 128 and quantised with the input's scale and zero point:\n"
      << " * unas_model_features (below) does all of it from raw PCM, with the front\n"
      << " * end (frontend.c) the network was trained on. */\n"
      << "#define UNAS_MODEL_HAS_INPUT_CONTRACT 1\n\n";
  } else if (contract && contract->value_kind != data::InputValueKind::kPixel8) {
    s << "/* The input contract (the model's metadata): sensor values, in the units\n"
      << " * of the training data, normalised per channel as training did,\n"
      << " * x = (value - unas_model_input_mean[c]) / unas_model_input_std[c], then\n"
      << " * q = clamp(round(x / unas_model_input_scale) + unas_model_input_zero_point,\n"
      << " * -128, 127), in HWC order (time, 1, channel). */\n"
      << "#define UNAS_MODEL_HAS_INPUT_CONTRACT 1\n"
      << "extern const float unas_model_input_mean[UNAS_MODEL_INPUT_CHANNELS];\n"
      << "extern const float unas_model_input_std[UNAS_MODEL_INPUT_CHANNELS];\n\n";
  } else if (contract) {
    s << "/* The input contract (the model's metadata): training fed\n"
      << " * x = (pixel / 255 - mean[c]) / std[c] per channel, then the input is\n"
      << " * quantised: q = round(x / unas_model_input_scale) + unas_model_input_zero_point.\n"
      << " * unas_model_quantize_pixels does both with one table per channel, no\n"
      << " * floating point: `pixels` are UNAS_MODEL_INPUT_BYTES raw 8-bit values in HWC\n"
      << " * order (row by row, the channels of a pixel together: grey, or R, G, B),\n"
      << " * of exactly this input size; `input` receives UNAS_MODEL_INPUT_BYTES int8\n"
      << " * values, bit-identical to what unas's int8 evaluation fed the network. */\n"
      << "#define UNAS_MODEL_HAS_INPUT_CONTRACT 1\n"
      << "void unas_model_quantize_pixels(const uint8_t *pixels, int8_t *input);\n\n";
  } else {
    s << "/* This model carries no input contract (trained before unas stored one):\n"
      << " * how its input was normalised is unknown, so there is no pixel helper. */\n"
      << "#define UNAS_MODEL_HAS_INPUT_CONTRACT 0\n\n";
  }
  return s.str();
}

std::string ContractDefinitions(const ContractShape& shape, const std::optional<data::InputContract>& contract) {
  std::ostringstream s;
  const std::vector<std::string> names =
      contract ? contract->class_names : data::NumberedClassNames(Classes(shape, contract));
  s << "\nconst char *const unas_model_class_names[UNAS_MODEL_CLASSES] = {";
  for (size_t i = 0; i < names.size(); ++i) s << (i ? ", " : "") << CStringLiteral(names[i]);
  s << "};\n";
  if (!contract || contract->value_kind == data::InputValueKind::kAudioFeatures) return s.str();
  const auto table = data::PixelQuantizationTable(*contract);
  if (!table.ok()) {  // sensor values: the constants, the arithmetic is the caller's
    auto floats = [&](const char* name, const std::vector<float>& v) {
      s << "const float " << name << "[UNAS_MODEL_INPUT_CHANNELS] = {";
      for (size_t i = 0; i < v.size(); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%.9ef", i ? ", " : "", static_cast<double>(v[i]));
        s << buf;
      }
      s << "};\n";
    };
    floats("unas_model_input_mean", contract->mean);
    floats("unas_model_input_std", contract->std);
    return s.str();
  }
  s << "\n/* unas_pixel_table[c][p]: the int8 input for raw value p of channel c.\n"
    << " * Made at generation time from mean[c], std[c] and the input's scale and\n"
    << " * zero point (data/input_contract.h):";
  for (int c = 0; c < contract->channels; ++c) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "\n *   channel %d: mean %.9g, std %.9g", c, static_cast<double>(contract->mean[c]),
                  static_cast<double>(contract->std[c]));
    s << buf;
  }
  s << " */\nstatic const int8_t unas_pixel_table[UNAS_MODEL_INPUT_CHANNELS][256] = {";
  for (size_t c = 0; c < table->size(); ++c) {
    s << (c ? "," : "") << "\n  {";
    for (int p = 0; p < 256; ++p) s << (p % 16 == 0 ? "\n    " : " ") << static_cast<int>((*table)[c][p]) << (p < 255 ? "," : "");
    s << "\n  }";
  }
  s << "\n};\n\n"
    << "void unas_model_quantize_pixels(const uint8_t *pixels, int8_t *input) {\n"
    << "  const uint8_t *end = pixels + UNAS_MODEL_INPUT_BYTES;\n"
    << "  int c;\n"
    << "  while (pixels != end) {\n"
    << "    for (c = 0; c < UNAS_MODEL_INPUT_CHANNELS; ++c) *input++ = unas_pixel_table[c][*pixels++];\n"
    << "  }\n"
    << "}\n";
  return s.str();
}

}  // namespace unas::firmware
