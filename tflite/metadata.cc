#include "tflite/metadata.h"

#include <cstring>
#include <sstream>

#include "base/json_limits.h"
#include "tflite/metadata_subset_generated.h"
#include "tflite/reader.h"

namespace unas {
namespace {

namespace meta = ::unas::tflite_meta;

Status Bad(const std::string& message) { return Status::Invalid("tflite metadata: " + message); }

std::vector<uint8_t> EncodeStandard(const data::InputContract& c) {
  flatbuffers::FlatBufferBuilder fbb(1024);
  const bool pixels = c.value_kind == data::InputValueKind::kPixel8;
  flatbuffers::Offset<meta::Content> input_content;
  if (pixels) {
    const meta::ColorSpaceType colour = c.channels == 1   ? meta::ColorSpaceType::GRAYSCALE
                                        : c.channels == 3 ? meta::ColorSpaceType::RGB
                                                          : meta::ColorSpaceType::UNKNOWN;
    const auto size = meta::CreateImageSize(fbb, static_cast<uint32_t>(c.width), static_cast<uint32_t>(c.height));
    const auto image = meta::CreateImageProperties(fbb, colour, size);
    input_content = meta::CreateContent(fbb, meta::ContentProperties::ImageProperties, image.Union());
  } else {
    const auto features = meta::CreateFeatureProperties(fbb);
    input_content = meta::CreateContent(fbb, meta::ContentProperties::FeatureProperties, features.Union());
  }
  std::vector<float> mean, std;
  for (double m : c.mean_pixels()) mean.push_back(static_cast<float>(m));
  for (double s : c.std_pixels()) std.push_back(static_cast<float>(s));
  const auto norm = meta::CreateNormalizationOptionsDirect(fbb, &mean, &std);
  std::vector<flatbuffers::Offset<meta::ProcessUnit>> units = {
      meta::CreateProcessUnit(fbb, meta::ProcessUnitOptions::NormalizationOptions, norm.Union())};
  std::ostringstream in_text;
  const bool audio = c.value_kind == data::InputValueKind::kAudioFeatures;
  in_text << c.height << "x" << c.width << "x" << c.channels
          << (pixels  ? " 8-bit pixels (NHWC)"
              : audio ? " audio front-end features of 16-bit PCM (NHWC: frames x features x 1; frontend.c)"
                      : " sensor values (NHWC: time x 1 x channels)")
          << ": normalised = (value - mean) / std per channel, then quantised to int8 with the input tensor's "
          << "scale and zero point";
  const auto input = meta::CreateTensorMetadataDirect(fbb, pixels ? "image" : audio ? "features" : "window", in_text.str().c_str(),
                                                      nullptr, input_content, &units);

  std::ostringstream out_text;
  out_text << "int8 logits of " << c.num_classes() << " classes (arg-max is the prediction), in order:";
  for (size_t i = 0; i < c.class_names.size(); ++i) out_text << (i ? ", " : " ") << c.class_names[i];
  const auto features = meta::CreateFeatureProperties(fbb);
  const auto output_content = meta::CreateContent(fbb, meta::ContentProperties::FeatureProperties, features.Union());
  const auto output = meta::CreateTensorMetadataDirect(fbb, "logits", out_text.str().c_str(), nullptr, output_content);

  std::vector<flatbuffers::Offset<meta::TensorMetadata>> inputs = {input}, outputs = {output};
  std::vector<flatbuffers::Offset<meta::SubGraphMetadata>> subgraphs = {
      meta::CreateSubGraphMetadataDirect(fbb, "main", nullptr, &inputs, &outputs)};
  const auto model = meta::CreateModelMetadataDirect(
      fbb, pixels ? "unas image classifier" : audio ? "unas keyword classifier" : "unas sensor-window classifier",
      "A classifier found by unas (int8, TFLite Micro ready).",
      data::kInputContractFormat, &subgraphs, "unas", nullptr, nullptr, "1.0.0");
  meta::FinishModelMetadataBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

std::vector<float> Floats(const flatbuffers::Vector<float>* v) {
  return v == nullptr ? std::vector<float>() : std::vector<float>(v->begin(), v->end());
}

}  // namespace

Result<std::vector<TfliteMetadataEntry>> InputContractMetadata(const data::InputContract& contract) {
  UNAS_RETURN_IF_ERROR(data::ValidateInputContract(contract));
  const std::string json = data::InputContractToJson(contract).dump();
  return std::vector<TfliteMetadataEntry>{
      {kInputContractMetadataName, std::vector<uint8_t>(json.begin(), json.end())},
      {kTfliteMetadataName, EncodeStandard(contract)}};
}

Result<std::optional<data::InputContract>> ReadInputContract(const uint8_t* data, size_t size) {
  UNAS_ASSIGN_OR_RETURN(std::vector<TfliteMetadataEntry> entries, ReadTfliteMetadata(data, size));
  for (const TfliteMetadataEntry& e : entries) {
    if (e.name != kInputContractMetadataName) continue;
    auto json = ParseLimitedJson(std::string_view(reinterpret_cast<const char*>(e.data.data()), e.data.size()));
    if (!json.ok()) return Bad(std::string(kInputContractMetadataName) + ": " + json.status().message());
    auto contract = data::InputContractFromJson(*json);
    if (!contract.ok()) return Bad(std::string(kInputContractMetadataName) + ": " + contract.status().message());
    return std::optional<data::InputContract>(std::move(*contract));
  }
  return std::optional<data::InputContract>();
}

Result<std::optional<StandardMetadata>> ReadStandardMetadata(const uint8_t* data, size_t size) {
  UNAS_ASSIGN_OR_RETURN(std::vector<TfliteMetadataEntry> entries, ReadTfliteMetadata(data, size));
  for (TfliteMetadataEntry& e : entries) {
    if (e.name != kTfliteMetadataName) continue;
    // An aligned copy: the verifier and accessors need the buffer's own alignment.
    std::vector<uint64_t> aligned((e.data.size() + 7) / 8);
    if (!e.data.empty()) std::memcpy(aligned.data(), e.data.data(), e.data.size());
    const auto* bytes = reinterpret_cast<const uint8_t*>(aligned.data());
    if (e.data.size() < 8 || !meta::ModelMetadataBufferHasIdentifier(bytes)) {
      return Bad(std::string(kTfliteMetadataName) + " is not TFLite ModelMetadata (identifier M001)");
    }
    flatbuffers::Verifier verifier(bytes, e.data.size(), 64, 100000);
    if (!meta::VerifyModelMetadataBuffer(verifier)) {
      return Bad(std::string(kTfliteMetadataName) + ": the flatbuffer is corrupt or truncated");
    }
    const meta::ModelMetadata* m = meta::GetModelMetadata(bytes);
    StandardMetadata out;
    out.model_name = Str(m->name());
    out.model_description = Str(m->description());
    out.version = Str(m->version());
    out.min_parser_version = Str(m->min_parser_version());
    if (m->subgraph_metadata() != nullptr && m->subgraph_metadata()->size() > 0) {
      const meta::SubGraphMetadata* g = m->subgraph_metadata()->Get(0);
      if (g->input_tensor_metadata() != nullptr && g->input_tensor_metadata()->size() > 0) {
        const meta::TensorMetadata* t = g->input_tensor_metadata()->Get(0);
        out.input_name = Str(t->name());
        out.input_description = Str(t->description());
        if (t->content() != nullptr) {
          if (const meta::ImageProperties* image = t->content()->content_properties_as_ImageProperties()) {
            out.color_space = static_cast<int>(image->color_space());
            if (image->default_size() != nullptr) {
              out.image_width = image->default_size()->width();
              out.image_height = image->default_size()->height();
            }
          }
        }
        if (t->process_units() != nullptr) {
          for (const meta::ProcessUnit* unit : *t->process_units()) {
            if (const meta::NormalizationOptions* norm = unit->options_as_NormalizationOptions()) {
              out.mean = Floats(norm->mean());
              out.std = Floats(norm->std());
            }
          }
        }
      }
      if (g->output_tensor_metadata() != nullptr && g->output_tensor_metadata()->size() > 0) {
        const meta::TensorMetadata* t = g->output_tensor_metadata()->Get(0);
        out.output_name = Str(t->name());
        out.output_description = Str(t->description());
      }
    }
    return std::optional<StandardMetadata>(std::move(out));
  }
  return std::optional<StandardMetadata>();
}

}  // namespace unas
