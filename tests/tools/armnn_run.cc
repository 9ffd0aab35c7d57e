// armnn_run: runs a .tflite model once on Debian's Arm NN 20.08 (TfLite
// parser, CpuRef backend). A third-party check for the models unas writes.
//
//   armnn_run [--all-outputs] MODEL.tflite INPUT.bin OUTPUT.bin
//
// INPUT.bin: the raw bytes of the first input tensor (its exact size), or of
// every input tensor one after another in the subgraph's input order.
// OUTPUT.bin: the raw bytes of the first output tensor; with --all-outputs,
// every output tensor one after another in the subgraph's output order.
//
// Exit codes: 0 ok; 2 usage or I/O error (unreadable file, input of the wrong
// size); 3 Arm NN refused the model (parse, optimise or load failed), with
// Arm NN's message on stderr. Arm NN aborts the process on some malformed
// models and allows one runtime per process: callers run this tool in a
// subprocess (tests/tools/armnn_runner.h) and treat a signal as a refusal.
#include <armnn/ArmNN.hpp>
#include <armnn/Exceptions.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#ifndef UNAS_ARMNN_BACKEND_DIR
#define UNAS_ARMNN_BACKEND_DIR ""
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

bool ReadAll(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool WriteAll(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

struct Refused {
  std::string message;
};

int Run(const std::string& model_path, const std::string& input_path,
        const std::string& output_path, bool all_outputs) {
  std::vector<uint8_t> model;
  std::vector<uint8_t> input;
  if (!ReadAll(model_path, &model)) {
    std::cerr << "armnn_run: cannot read model '" << model_path << "'\n";
    return kExitUsage;
  }
  if (!ReadAll(input_path, &input)) {
    std::cerr << "armnn_run: cannot read input '" << input_path << "'\n";
    return kExitUsage;
  }

  armnn::IRuntime::CreationOptions options;
  // Debian installs the CpuRef backend as a dynamic backend in
  // /usr/lib/<triplet>/armnn22, but libarmnn's built-in search path names
  // armnn20: point the runtime at the installed directory.
  options.m_DynamicBackendsPath = UNAS_ARMNN_BACKEND_DIR;
  armnn::IRuntimePtr runtime = armnn::IRuntime::Create(options);
  const armnn::BackendId cpu_ref("CpuRef");
  bool has_ref = false;
  for (const auto& id : runtime->GetDeviceSpec().GetSupportedBackends()) has_ref |= (id == cpu_ref);
  if (!has_ref) {
    std::cerr << "armnn_run: Arm NN found no CpuRef backend (dynamic backend path '"
              << UNAS_ARMNN_BACKEND_DIR << "')\n";
    return kExitUsage;
  }

  auto parser = armnnTfLiteParser::ITfLiteParser::Create();
  armnn::INetworkPtr network{nullptr, [](armnn::INetwork*) {}};
  try {
    network = parser->CreateNetworkFromBinary(model);
  } catch (const std::exception& e) {
    throw Refused{std::string("parse: ") + e.what()};
  }
  const std::vector<std::string> input_names = parser->GetSubgraphInputTensorNames(0);
  const std::vector<std::string> output_names = parser->GetSubgraphOutputTensorNames(0);
  if (input_names.empty() || output_names.empty()) {
    throw Refused{"the model's first subgraph has no inputs or no outputs"};
  }
  std::vector<armnn::BindingPointInfo> in_bindings;
  std::vector<armnn::BindingPointInfo> out_bindings;
  for (const auto& name : input_names) in_bindings.push_back(parser->GetNetworkInputBindingInfo(0, name));
  for (const auto& name : output_names) out_bindings.push_back(parser->GetNetworkOutputBindingInfo(0, name));

  size_t all_inputs_bytes = 0;
  for (const auto& b : in_bindings) all_inputs_bytes += b.second.GetNumBytes();
  const size_t first_bytes = in_bindings[0].second.GetNumBytes();
  if (input.size() != first_bytes && input.size() != all_inputs_bytes) {
    std::cerr << "armnn_run: input is " << input.size() << " bytes; the first input tensor '"
              << input_names[0] << "' takes " << first_bytes << " bytes, all " << in_bindings.size()
              << " inputs take " << all_inputs_bytes << "\n";
    return kExitUsage;
  }
  if (input.size() != all_inputs_bytes) {
    std::cerr << "armnn_run: the model has " << in_bindings.size() << " inputs; INPUT.bin holds only "
              << "the first (give all of them, " << all_inputs_bytes << " bytes)\n";
    return kExitUsage;
  }

  std::vector<std::string> messages;
  armnn::IOptimizedNetworkPtr optimized{nullptr, [](armnn::IOptimizedNetwork*) {}};
  try {
    optimized = armnn::Optimize(*network, {cpu_ref}, runtime->GetDeviceSpec(), armnn::OptimizerOptions(),
                                armnn::Optional<std::vector<std::string>&>(messages));
  } catch (const std::exception& e) {
    throw Refused{std::string("optimize: ") + e.what()};
  }
  if (!optimized) {
    std::string joined = "optimize failed";
    for (const auto& m : messages) joined += "; " + m;
    throw Refused{joined};
  }
  armnn::NetworkId network_id = 0;
  std::string load_error;
  if (runtime->LoadNetwork(network_id, std::move(optimized), load_error) != armnn::Status::Success) {
    throw Refused{"load: " + load_error};
  }

  armnn::InputTensors inputs;
  size_t offset = 0;
  for (const auto& b : in_bindings) {
    inputs.emplace_back(b.first, armnn::ConstTensor(b.second, input.data() + offset));
    offset += b.second.GetNumBytes();
  }
  // Arm NN insists on a buffer for every output, even when one is asked for.
  std::vector<std::vector<uint8_t>> out_buffers(out_bindings.size());
  armnn::OutputTensors outputs;
  for (size_t i = 0; i < out_bindings.size(); ++i) {
    out_buffers[i].assign(out_bindings[i].second.GetNumBytes(), 0);
    outputs.emplace_back(out_bindings[i].first, armnn::Tensor(out_bindings[i].second, out_buffers[i].data()));
  }
  try {
    if (runtime->EnqueueWorkload(network_id, inputs, outputs) != armnn::Status::Success) {
      throw Refused{"run: EnqueueWorkload failed"};
    }
  } catch (const armnn::Exception& e) {
    throw Refused{std::string("run: ") + e.what()};
  }
  std::vector<uint8_t> output;
  for (size_t i = 0; i < (all_outputs ? out_buffers.size() : 1); ++i) {
    output.insert(output.end(), out_buffers[i].begin(), out_buffers[i].end());
  }
  if (!WriteAll(output_path, output)) {
    std::cerr << "armnn_run: cannot write output '" << output_path << "'\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool all_outputs = false;
  if (!args.empty() && args[0] == "--all-outputs") {
    all_outputs = true;
    args.erase(args.begin());
  }
  if (args.size() != 3) {
    std::cerr << "usage: armnn_run [--all-outputs] MODEL.tflite INPUT.bin OUTPUT.bin\n";
    return kExitUsage;
  }
  // Arm NN logs nothing unless asked; warnings would go to stdout otherwise.
  armnn::ConfigureLogging(false, false, armnn::LogSeverity::Fatal);
  try {
    return Run(args[0], args[1], args[2], all_outputs);
  } catch (const Refused& r) {
    std::cerr << "armnn_run: Arm NN refused the model: " << r.message << "\n";
    return kExitRefused;
  } catch (const std::exception& e) {
    std::cerr << "armnn_run: Arm NN refused the model: " << e.what() << "\n";
    return kExitRefused;
  }
}
