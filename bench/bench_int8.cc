// The int8 step of a trial, old and new executor side by side in one run
// (docs/deploy-int8.md): each architecture is trained briefly on
// Fashion-MNIST, then
//   1. quantised and evaluated as a trial does it (worker::QuantizeTrained:
//      calibration on 1,000 training images, quantisation, int8 error on the
//      validation and test sets, the .tflite) with the reference kernels on
//      one thread, the optimised ones on one thread and on --threads;
//   2. the executor alone on the same validation + test images (already
//      quantised): seconds and int8 MAC/s (the cost model's MACs per image)
//      for the reference kernels image by image, the optimised portable and
//      AVX2 kernels batched, and the latter on --threads.
// Every optimised result is checked against the reference: the int8 errors
// must be equal and every output value identical (exit 1 otherwise).
//
//   build/bench/bench_int8 [--epochs N] [--subset F] [--threads T] ARCH.json...
//   (defaults: 1 epoch on a 0.25 subset of the training part, 2 threads)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "costmodel/candidate.h"
#include "costmodel/cost_model.h"
#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "worker/dataset_tensors.h"
#include "worker/int8_export.h"
#include "worker/trainer.h"

namespace {

using namespace unas;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// CPU seconds of the whole process (all threads): on a shared machine the
// wall time includes waiting for a core, this does not.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "bench_int8: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T Check(Result<T> r, const std::string& what) {
  if (!r.ok()) Fail(what + ": " + r.status().message());
  return std::move(*r);
}

// Validation then test images, NHWC, quantised to the graph's input.
std::vector<int8_t> QuantizedImages(const ModelGraph& g, const worker::Dataset& dataset, int64_t* images) {
  std::vector<int8_t> out;
  *images = 0;
  for (const torch::Tensor& x : {dataset.tensors().validation_x, dataset.tensors().test_x}) {
    const torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
    const size_t start = out.size();
    out.resize(start + static_cast<size_t>(nhwc.numel()));
    quant::QuantizeInputs(g, nhwc.data_ptr<float>(), nhwc.numel(), out.data() + start);
    *images += x.size(0);
  }
  return out;
}

// RunBatch over `threads` contiguous slices of the images.
std::vector<int8_t> RunThreaded(const quant::Int8Executor& e, const std::vector<int8_t>& inputs, int64_t images,
                                int threads) {
  std::vector<int8_t> outputs(static_cast<size_t>(images * e.output_elements()));
  auto work = [&](int t) {
    const int64_t first = images * t / threads, last = images * (t + 1) / threads;
    const std::vector<int8_t> slice(inputs.begin() + first * e.input_elements(), inputs.begin() + last * e.input_elements());
    const std::vector<int8_t> out = Check(e.RunBatch(slice, static_cast<int>(last - first)), "RunBatch");
    std::copy(out.begin(), out.end(), outputs.begin() + first * e.output_elements());
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& th : pool) th.join();
  return outputs;
}

void BenchArchitecture(const std::string& path, const worker::Dataset& dataset, int epochs, double subset,
                       int threads) {
  std::ifstream file(path, std::ios::binary);
  if (!file) Fail(path + ": cannot open file");
  std::stringstream text;
  text << file.rdbuf();
  const Candidate candidate = Check(ParseCandidate(text.str()), path);
  worker::TrainConfig config = worker::FashionMnistConfig(epochs);
  config.subset = subset;
  config.threads = 1;
  config.keep_model = true;
  const Clock::time_point train_start = Clock::now();
  const worker::TrainResult trained = Check(worker::Train(candidate, dataset, config), "train");
  if (!trained.model) Fail(path + ": training did not complete: " + trained.message);
  const Network& network = trained.model->network;
  const int64_t macs = Check(SummariseCosts(network, Accounting::kUnas), "cost").macs;
  std::printf("\n%s: %lld MACs per image, trained %d epoch(s) on %.2f of the training part in %.0f s (float test error %.4f)\n",
              path.c_str(), static_cast<long long>(macs), epochs, subset, Seconds(train_start), trained.test_error);

  // 1. The int8 step as a trial runs it.
  worker::Int8Options options;
  options.op_order = Check(CostNetwork(network, Accounting::kTflm), "cost").tflm_order;
  std::printf("  QuantizeTrained (calibrate, quantise, int8 error on validation + test, .tflite):\n");
  std::printf("  %-34s %7s %9s %9s %13s %13s %8s\n", "kernels", "threads", "seconds", "CPU s", "int8 val err",
              "int8 test err", "speedup");
  double reference_seconds = 0;
  worker::Int8Outcome reference;
  ModelGraph graph;
  for (auto [kernels, t, name] : {std::tuple{quant::Int8Kernels::kReference, 1, "reference (the old executor)"},
                                  std::tuple{quant::Int8Kernels::kOptimized, 1, "optimised"},
                                  std::tuple{quant::Int8Kernels::kOptimized, threads, "optimised"}}) {
    options.kernels = kernels;
    options.threads = t;
    const Clock::time_point start = Clock::now();
    const double cpu_start = CpuSeconds();
    const worker::Int8Outcome outcome = Check(worker::QuantizeTrained(*trained.model, dataset, options), "quantise");
    const double s = Seconds(start), cpu = CpuSeconds() - cpu_start;
    std::printf("  %-34s %7d %9.2f %9.2f %13.4f %13.4f", name, t, s, cpu, outcome.int8_val_error,
                outcome.int8_test_error);
    if (kernels == quant::Int8Kernels::kReference) {
      reference_seconds = s;
      reference = outcome;
      std::printf("\n");
    } else {
      if (outcome.int8_val_error != reference.int8_val_error || outcome.int8_test_error != reference.int8_test_error ||
          outcome.tflite != reference.tflite) {
        Fail("the optimised kernels' errors or model differ from the reference's");
      }
      std::printf(" %7.1fx\n", reference_seconds / s);
    }
  }

  // 2. The executor alone.
  int64_t images = 0;
  const std::vector<int8_t> inputs = QuantizedImages(reference.graph, dataset, &images);
  std::printf("  executor alone, %lld validation + test images:\n", static_cast<long long>(images));
  std::printf("  %-34s %7s %9s %9s %13s %8s\n", "kernels", "threads", "seconds", "CPU s", "G int8 MAC/s",
              "speedup");
  const quant::Int8Executor ref = Check(quant::Int8Executor::Create(reference.graph, quant::Int8Kernels::kReference), "create");
  const int64_t in_elements = ref.input_elements(), out_elements = ref.output_elements();
  std::vector<int8_t> expected(static_cast<size_t>(images * out_elements));
  Clock::time_point start = Clock::now();
  double cpu_start = CpuSeconds();
  for (int64_t i = 0; i < images; ++i) {
    const std::vector<int8_t> one(inputs.begin() + i * in_elements, inputs.begin() + (i + 1) * in_elements);
    const std::vector<int8_t> out = Check(ref.Run(one), "Run");
    std::copy(out.begin(), out.end(), expected.begin() + i * out_elements);
  }
  const double ref_s = Seconds(start), ref_cpu = CpuSeconds() - cpu_start;
  auto row = [&](const std::string& name, int t, double s, double cpu) {
    std::printf("  %-34s %7d %9.2f %9.2f %13.3f %7.1fx\n", name.c_str(), t, s, cpu,
                static_cast<double>(macs) * images / s / 1e9, ref_s / s);
  };
  row("reference, image by image", 1, ref_s, ref_cpu);
  for (auto [kernels, t, name] : {std::tuple{quant::Int8Kernels::kOptimizedPortable, 1, "optimised portable C++, batched"},
                                  std::tuple{quant::Int8Kernels::kOptimized, 1, "optimised, batched"},
                                  std::tuple{quant::Int8Kernels::kOptimized, threads, "optimised, batched"}}) {
    const quant::Int8Executor e = Check(quant::Int8Executor::Create(reference.graph, kernels), "create");
    start = Clock::now();
    cpu_start = CpuSeconds();
    const std::vector<int8_t> got = RunThreaded(e, inputs, images, t);
    const double s = Seconds(start), cpu = CpuSeconds() - cpu_start;
    if (got != expected) Fail(std::string(name) + ": outputs differ from the reference kernels'");
    row(e.uses_avx2() ? std::string(name) + " (AVX2)" : std::string(name), t, s, cpu);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 1, threads = 2;
  double subset = 0.25;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--epochs") epochs = std::atoi(value().c_str());
    else if (a == "--subset") subset = std::atof(value().c_str());
    else if (a == "--threads") threads = std::atoi(value().c_str());
    else if (!a.empty() && a[0] == '-') Fail("unknown option " + a);
    else paths.push_back(a);
  }
  if (paths.empty() || epochs < 1 || threads < 1 || !(subset > 0 && subset <= 1)) {
    Fail("usage: bench_int8 [--epochs N>=1] [--subset F in (0,1]] [--threads T>=1] ARCH.json...");
  }
  torch::set_num_threads(1);
  const auto dataset = Check(worker::LoadDataset(Check(worker::ParseDatasetSpec("fashion-mnist"), "dataset")), "dataset");
  std::printf("bench_int8: %u hardware threads; %d epoch(s), subset %.2f, --threads %d\n",
              std::thread::hardware_concurrency(), epochs, subset, threads);
  for (const std::string& path : paths) BenchArchitecture(path, *dataset, epochs, subset, threads);
  return 0;
}
