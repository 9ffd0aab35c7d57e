// Runs quant::RunInt8 on many inputs of a .tflite and writes the int8 inputs
// and outputs, for a bit-for-bit comparison with another runtime (TFLM built
// from its repository: docs/cost-model.md, "Bit-exact with TFLite").
//
//   bench_run_int8 MODEL.tflite IMAGES.idx COUNT INPUTS.bin OUTPUTS.bin
//   bench_run_int8 MODEL.tflite --random SEED COUNT INPUTS.bin OUTPUTS.bin
//
// IMAGES.idx: an IDX file of uint8 images (Fashion-MNIST's
// t10k-images-idx3-ubyte) of the model's input size. Each of the first COUNT
// images is what a device gets, raw 8-bit pixels, quantised as unas's input
// contract says (x = p / 255, then quant::QuantizeInput: TFLite's QUANTIZE).
// --random: COUNT input vectors of uniform int8 values (every code, not
// only those pixels reach). INPUTS.bin gets the int8 inputs one after
// another, OUTPUTS.bin RunInt8's outputs; the time per inference is printed.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "tflite/reader.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "bench_run_int8: " << message << "\n";
  return 1;
}

// The IDX images (magic 0x00000803: uint8, 3 dimensions), at most `count`.
bool ReadIdxImages(const std::string& path, int64_t count, int64_t pixels, std::vector<std::vector<uint8_t>>* out,
                   std::string* error) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[16];
  if (!in.read(reinterpret_cast<char*>(header), 16)) {
    *error = path + ": not an IDX file";
    return false;
  }
  auto be32 = [&](int at) {
    return (int64_t{header[at]} << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3];
  };
  if (be32(0) != 0x803) {
    *error = path + ": not an IDX file of uint8 images";
    return false;
  }
  if (be32(8) * be32(12) != pixels) {
    *error = path + ": images of " + std::to_string(be32(8) * be32(12)) + " pixels, the model takes " +
             std::to_string(pixels);
    return false;
  }
  const int64_t n = std::min(count, be32(4));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<uint8_t> image(static_cast<size_t>(pixels));
    if (!in.read(reinterpret_cast<char*>(image.data()), pixels)) {
      *error = path + ": truncated";
      return false;
    }
    out->push_back(std::move(image));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    return Fail("usage: MODEL.tflite (IMAGES.idx | --random SEED) COUNT INPUTS.bin OUTPUTS.bin");
  }
  const bool random = std::string(argv[2]) == "--random";
  if (argc != (random ? 7 : 6)) return Fail("wrong number of arguments");
  auto graph = unas::ReadTfliteFile(argv[1]);
  if (!graph.ok()) return Fail(graph.status().message());
  if (graph->inputs.size() != 1) return Fail("the model must have one input");
  const int64_t input_bytes = graph->tensors[graph->inputs[0]].bytes();
  const int64_t count = std::stoll(argv[random ? 4 : 3]);
  if (count <= 0 || count > 1000000) return Fail("COUNT must be in 1..1000000");
  std::vector<std::vector<int8_t>> inputs;
  if (random) {
    std::mt19937_64 rng(std::stoull(argv[3]));
    std::uniform_int_distribution<int> byte(-128, 127);
    for (int64_t i = 0; i < count; ++i) {
      std::vector<int8_t> v(static_cast<size_t>(input_bytes));
      for (int8_t& x : v) x = static_cast<int8_t>(byte(rng));
      inputs.push_back(std::move(v));
    }
  } else {
    std::vector<std::vector<uint8_t>> images;
    std::string error;
    if (!ReadIdxImages(argv[2], count, input_bytes, &images, &error)) return Fail(error);
    for (const auto& image : images) {
      std::vector<float> x(image.size());
      for (size_t p = 0; p < image.size(); ++p) x[p] = static_cast<float>(image[p]) / 255.0f;
      inputs.push_back(unas::quant::QuantizeInput(*graph, x));
    }
  }
  std::ofstream in_file(argv[random ? 5 : 4], std::ios::binary), out_file(argv[random ? 6 : 5], std::ios::binary);
  if (!in_file || !out_file) return Fail("cannot create the output files");
  const auto start = std::chrono::steady_clock::now();
  for (const auto& input : inputs) {
    auto output = unas::quant::RunInt8(*graph, input);
    if (!output.ok()) return Fail(output.status().message());
    in_file.write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
    out_file.write(reinterpret_cast<const char*>(output->data()), static_cast<std::streamsize>(output->size()));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu inputs, %.3f ms per RunInt8\n", inputs.size(), 1e3 * seconds / static_cast<double>(inputs.size()));
  return in_file && out_file ? 0 : Fail("write failed");
}
