// Shared helpers for the tflite/ tests: the testdata models and file bytes.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace unas::testing {

inline std::string TestdataPath(const std::string& file) {
  return std::string(UNAS_SHARED_DIR) + "/testdata/tflite/" + file;
}

// Every .tflite in shared/testdata/tflite (its README lists them).
inline const std::vector<std::string>& TestdataModels() {
  static const std::vector<std::string> kFiles = {
      "add0.tflite", "add1.tflite", "add11.tflite", "add16.tflite", "conv0.tflite", "conv1.tflite",
      "conv20.tflite", "conv21.tflite", "hello_world_int8.tflite", "keyword_scrambled_8bit.tflite",
      "micro_speech_quantized.tflite", "person_detect.tflite", "simple_add_model.tflite",
      "synth_2001.tflite", "synth_2004.tflite", "synth_2024.tflite", "synth_2034.tflite",
      "synth_2039.tflite"};
  return kFiles;
}

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace unas::testing
