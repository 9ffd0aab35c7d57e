// The int8 step of a trial, old and new executor side by side in one run
// (docs/deploy-int8.md): each architecture is trained briefly on
// Fashion-MNIST, then
//   1. quantised and evaluated as a trial does it (worker::QuantizeTrained:
//      calibration on 1,000 training images, quantisation, int8 error on the
//      validation and test sets, the .tflite) with the reference kernels (the
//      old executor) and the optimised ones, on one thread and on --threads;
//   2. the executor alone on the same validation + test images (already
//      quantised): seconds and int8 MAC/s (the cost model's MACs per image)
//      for the reference kernels image by image, the optimised portable and
//      AVX2 kernels batched, and the latter on --threads.
// Every optimised result is checked against the reference: the int8 errors
// and the .tflite must be equal and every output value identical (exit 1
// otherwise). Speedups are given in wall time and in CPU time (the process's,
// all threads): on a shared machine the wall time includes waiting for a core.
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
#include "data/dataset_spec.h"
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

// The 1-minute load average: how busy the machine was (wall times include waiting).
std::string LoadAverage() {
  double load[1] = {0};
  if (getloadavg(load, 1) != 1) return "unknown";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", load[0]);
  return buf;
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

// Wall and CPU seconds of one measured run.
struct Timing {
  double seconds = 0, cpu_seconds = 0;
};
template <typename F>
Timing Time(F f) {
  const Clock::time_point start = Clock::now();
  const double cpu_start = CpuSeconds();
  f();
  return {Seconds(start), CpuSeconds() - cpu_start};
}

// "12.3x / 11.9x": the speedup in wall time and in CPU time over `base`.
std::string Speedup(const Timing& base, const Timing& t) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%5.1fx / %5.1fx", base.seconds / t.seconds, base.cpu_seconds / t.cpu_seconds);
  return buf;
}

worker::TrainResult TrainBriefly(const std::string& path, const worker::Dataset& dataset, int epochs, double subset) {
  std::ifstream file(path, std::ios::binary);
  if (!file) Fail(path + ": cannot open file");
  std::stringstream text;
  text << file.rdbuf();
  const Candidate candidate = Check(ParseCandidate(text.str()), path);
  worker::TrainConfig config = worker::FashionMnistConfig(epochs);
  config.subset = subset;
  config.threads = 1;
  config.keep_model = true;
  worker::TrainResult trained = Check(worker::Train(candidate, dataset, config), "train");
  if (!trained.model) Fail(path + ": training did not complete: " + trained.message);
  return trained;
}

// 1. The int8 step as a trial runs it, reference and optimised kernels at 1
// and at `threads` threads. Returns the reference outcome.
worker::Int8Outcome BenchQuantizeTrained(const worker::TrainedModel& model, const worker::Dataset& dataset,
                                         int threads) {
  worker::Int8Options options;
  options.op_order = Check(CostNetwork(model.network, Accounting::kTflm), "cost").tflm_order;
  std::printf("  QuantizeTrained (calibrate on 1,000 images, quantise, int8 error on validation + test, .tflite):\n");
  std::printf("  %-28s %7s %9s %9s %13s %13s   %s\n", "kernels", "threads", "seconds", "CPU s", "int8 val err",
              "int8 test err", "speedup wall / CPU");
  worker::Int8Outcome reference;
  for (int t : {1, threads}) {
    Timing base;
    for (quant::Int8Kernels kernels : {quant::Int8Kernels::kReference, quant::Int8Kernels::kOptimized}) {
      options.kernels = kernels;
      options.threads = t;
      worker::Int8Outcome outcome;
      const Timing time = Time([&] { outcome = Check(worker::QuantizeTrained(model, dataset, options), "quantise"); });
      const bool is_reference = kernels == quant::Int8Kernels::kReference;
      std::printf("  %-28s %7d %9.2f %9.2f %13.4f %13.4f   %s\n", is_reference ? "reference (the old executor)" : "optimised",
                  t, time.seconds, time.cpu_seconds, outcome.int8_val_error, outcome.int8_test_error,
                  is_reference ? "" : Speedup(base, time).c_str());
      if (is_reference) {
        base = time;
        if (reference.tflite.empty()) reference = outcome;
      }
      if (outcome.int8_val_error != reference.int8_val_error || outcome.int8_test_error != reference.int8_test_error ||
          outcome.tflite != reference.tflite) {
        Fail("the int8 errors or the model differ between kernels or thread counts");
      }
    }
    if (threads == 1) break;
  }
  return reference;
}

// 2. The executor alone on the validation + test images, already quantised.
void BenchExecutor(const ModelGraph& graph, const worker::Dataset& dataset, int64_t macs, int threads) {
  int64_t images = 0;
  const std::vector<int8_t> inputs = QuantizedImages(graph, dataset, &images);
  std::printf("  executor alone, %lld validation + test images (G int8 MAC/s on wall time):\n",
              static_cast<long long>(images));
  std::printf("  %-38s %7s %9s %9s %13s   %s\n", "kernels", "threads", "seconds", "CPU s", "G int8 MAC/s",
              "speedup wall / CPU");
  const quant::Int8Executor ref = Check(quant::Int8Executor::Create(graph, quant::Int8Kernels::kReference), "create");
  const int64_t in_elements = ref.input_elements(), out_elements = ref.output_elements();
  std::vector<int8_t> expected(static_cast<size_t>(images * out_elements));
  const Timing base = Time([&] {
    for (int64_t i = 0; i < images; ++i) {
      const std::vector<int8_t> one(inputs.begin() + i * in_elements, inputs.begin() + (i + 1) * in_elements);
      const std::vector<int8_t> out = Check(ref.Run(one), "Run");
      std::copy(out.begin(), out.end(), expected.begin() + i * out_elements);
    }
  });
  auto row = [&](const std::string& name, int t, const Timing& time) {
    std::printf("  %-38s %7d %9.2f %9.2f %13.3f   %s\n", name.c_str(), t, time.seconds, time.cpu_seconds,
                static_cast<double>(macs) * static_cast<double>(images) / time.seconds / 1e9,
                Speedup(base, time).c_str());
  };
  row("reference (the old executor), per image", 1, base);
  for (auto [kernels, t, name] : {std::tuple{quant::Int8Kernels::kOptimizedPortable, 1, "optimised portable C++, batched"},
                                  std::tuple{quant::Int8Kernels::kOptimized, 1, "optimised, batched"},
                                  std::tuple{quant::Int8Kernels::kOptimized, threads, "optimised, batched"}}) {
    const quant::Int8Executor e = Check(quant::Int8Executor::Create(graph, kernels), "create");
    std::vector<int8_t> got;
    const Timing time = Time([&] { got = RunThreaded(e, inputs, images, t); });
    if (got != expected) Fail(std::string(name) + ": outputs differ from the reference kernels'");
    row(e.uses_avx2() ? std::string(name) + " (AVX2)" : std::string(name), t, time);
  }
}

void BenchArchitecture(const std::string& path, const worker::Dataset& dataset, int epochs, double subset,
                       int threads) {
  const Clock::time_point train_start = Clock::now();
  const worker::TrainResult trained = TrainBriefly(path, dataset, epochs, subset);
  const int64_t macs = Check(SummariseCosts(trained.model->network, Accounting::kUnas), "cost").macs;
  std::printf("\n%s: %lld MACs per image; trained %d epoch(s) on %.2f of the training part in %.0f s (float test "
              "error %.4f)\n",
              path.c_str(), static_cast<long long>(macs), epochs, subset, Seconds(train_start), trained.test_error);
  const worker::Int8Outcome reference = BenchQuantizeTrained(*trained.model, dataset, threads);
  BenchExecutor(reference.graph, dataset, macs, threads);
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
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  torch::set_num_threads(1);
  const auto dataset = Check(worker::LoadDataset(Check(data::ParseDatasetSpec("fashion-mnist"), "dataset")), "dataset");
  std::printf("bench_int8: %u hardware threads; %d epoch(s), subset %.2f, --threads %d; load average %s\n",
              std::thread::hardware_concurrency(), epochs, subset, threads, LoadAverage().c_str());
  for (const std::string& path : paths) BenchArchitecture(path, *dataset, epochs, subset, threads);
  std::printf("\nload average at the end: %s\n", LoadAverage().c_str());
  return 0;
}
