// unas train: train one candidate on a data set and report its errors.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/torch_commands.h"
#include "costmodel/byte_units.h"
#include "cli/trial_model.h"
#include "cli/write_file.h"
#include "costmodel/cost_model.h"
#include "costmodel/partial_execution.h"
#include "data/dataset_spec.h"
#include "worker/dataset.h"
#include "worker/int8_export.h"
#include "worker/trainer.h"

namespace unas::cli {
namespace {

std::atomic<bool> g_cancel{false};  // set by Ctrl-C; the trainer stops between batches

extern "C" void OnInterrupt(int) { g_cancel.store(true); }

Result<std::vector<worker::LrStep>> ParseSchedule(const std::string& text) {
  std::vector<worker::LrStep> steps;
  if (text.empty()) return steps;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    char* end1 = nullptr;
    char* end2 = nullptr;
    const std::string epoch = item.substr(0, colon), lr = colon == std::string::npos ? "" : item.substr(colon + 1);
    const long e = std::strtol(epoch.c_str(), &end1, 10);
    const double v = std::strtod(lr.c_str(), &end2);
    if (colon == std::string::npos || epoch.empty() || lr.empty() || *end1 != '\0' || *end2 != '\0') {
      return Status::Invalid("--lr-schedule: '" + item + "' is not EPOCH:LR");
    }
    steps.push_back({static_cast<int>(e), v});
  }
  return steps;
}

// Progress on a terminal: one bar per epoch, redrawn at most 10 times a second.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool terminal) : terminal_(terminal) {}

  void operator()(const worker::TrainProgress& p) {
    using worker::TrainProgress;
    if (p.event == TrainProgress::Event::kEpochEnd) {
      if (terminal_) std::printf("\r%s", Bar(p).c_str());
      else std::printf("%s", Line(p).c_str());
      std::printf("  val_err %.4f\n", p.validation_error);
      std::fflush(stdout);
      return;
    }
    if (!terminal_) return;
    const auto now = std::chrono::steady_clock::now();
    if (p.batch != p.batches_per_epoch && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::printf("\r%s", Bar(p).c_str());
    std::fflush(stdout);
  }

 private:
  static std::string Line(const worker::TrainProgress& p) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "epoch %d/%d  %lld samples  %.0f samples/s  loss %.4f  acc %.4f  lr %g", p.epoch + 1,
                  p.epochs, static_cast<long long>(p.epoch_samples), p.samples_per_second, p.train_loss,
                  p.train_accuracy, p.learning_rate);
    return buf;
  }
  static std::string Bar(const worker::TrainProgress& p) {
    constexpr int kWidth = 25;
    const int filled = p.batches_per_epoch > 0 ? static_cast<int>(kWidth * p.batch / p.batches_per_epoch) : 0;
    char buf[200];
    std::snprintf(buf, sizeof buf, "epoch %d/%d [%s%s] %5.1f%%  %6.0f samples/s  loss %.4f  acc %.4f", p.epoch + 1,
                  p.epochs, std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
                  100.0 * p.batch / std::max<int64_t>(1, p.batches_per_epoch), p.samples_per_second, p.train_loss,
                  p.train_accuracy);
    return buf;
  }

  bool terminal_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// --out DIR: the int8 model and the float/int8 metrics beside each other.
Status WriteInt8Export(const std::string& dir, const worker::TrainResult& result, const worker::Dataset& dataset,
                       int threads, nlohmann::json* summary) {
  if (!result.model) return Status::Internal("the trainer kept no weights");
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::Invalid(dir + ": cannot create directory");
  const auto start = std::chrono::steady_clock::now();
  worker::Int8Options options;
  options.threads = std::max(1, threads);
  // Stored in the tflm accounting's planned order, as a trial's model is, so
  // that TFLM runs the schedule `unas cost --accounting tflm` costed.
  UNAS_ASSIGN_OR_RETURN(CostReport planned, CostNetwork(result.model->network, Accounting::kTflm));
  options.op_order = planned.tflm_order;
  UNAS_ASSIGN_OR_RETURN(worker::Int8Outcome int8, worker::QuantizeTrained(*result.model, dataset, options));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double val_error = result.validation_error;
  nlohmann::json metrics = {
      {"test_accuracy", 1.0 - result.test_error},
      {"int8_test_accuracy", 1.0 - int8.int8_test_error},
      {"val_accuracy", 1.0 - val_error},
      {"int8_val_accuracy", 1.0 - int8.int8_val_error},
      {"test_error", result.test_error},
      {"int8_test_error", int8.int8_test_error},
      {"val_error", val_error},
      {"int8_val_error", int8.int8_val_error},
      {"best_val_error", result.best_validation_error},
      {"calibration_images", int8.calibration_images},
      {"tflite_bytes", int8.tflite.size()},
      {"int8_seconds", seconds},
  };
  // What a device must feed the model (data/input_contract.h), as the
  // .tflite's metadata and the C library carry it.
  metrics["input"] = data::InputContractToJson(int8.contract);
  // [true class][predicted class] on the test set: which classes are taken for which.
  metrics["int8_test_confusion"] = int8.int8_test_confusion;
  const std::string model_path = dir + "/model.tflite", metrics_path = dir + "/metrics.json";
  // model.tflite and its C library (whole execution) the way `unas export`
  // writes a trial's (cli/trial_model.h).
  UNAS_RETURN_IF_ERROR(WriteTrialModel(dir, std::string(int8.tflite.begin(), int8.tflite.end()),
                                       result.model->network, /*partial_execution=*/false)
                           .status());
  UNAS_RETURN_IF_ERROR(WriteFile(metrics_path, "metrics", metrics.dump(2) + "\n"));
  (*summary)["c_library"] = dir + "/c";
  (*summary)["int8"] = metrics;
  (*summary)["model_tflite"] = model_path;
  (*summary)["metrics_json"] = metrics_path;
  std::printf("int8: val_err %.4f test_err %.4f (float %.4f %.4f), %zu-byte model in %s\n", int8.int8_val_error,
              int8.int8_test_error, val_error, result.test_error, int8.tflite.size(), model_path.c_str());
  return Status::Ok();
}

// `s` with its message prefixed by the flag it is about ("--out: ...").
Status ForFlag(const char* flag, const Status& s) { return Status(s.code(), std::string(flag) + ": " + s.message()); }

// "unas train: MESSAGE" on stderr; returns `exit_code`.
int TrainFailed(const Status& s, int exit_code) {
  std::cerr << "unas train: " << s.message() << "\n";
  return exit_code;
}

// --prune and the flags that only apply with it.
Status ReadPruneFlags(const Args& args, worker::PruneConfig* prune) {
  if (!args.Has("prune")) {
    for (const char* flag : {"save-pruned", "prune-target-bytes", "prune-epoch", "prune-mode", "prune-target-ratio",
                             "prune-end-epoch", "prune-update-steps"}) {
      if (args.Has(flag)) return Status::Invalid("--" + std::string(flag) + " needs --prune");
    }
    return Status::Ok();
  }
  auto target = worker::ParsePruneTarget(args.Get("prune"), "--prune");
  auto fraction = args.GetDouble("prune-fraction", 1e-9, 0.999999);
  auto layer_fraction = args.GetDouble("prune-layer-fraction", 1e-9, 1);
  auto accounting = ParseAccounting(args.Get("prune-accounting"));
  auto mode = worker::ParsePruneMode(args.Get("prune-mode"), "--prune-mode");
  for (const Status& s : {target.status(), fraction.status(), layer_fraction.status(), accounting.status(),
                          mode.status(), args.ReadInt("prune-update-steps", 1, 1000000, &prune->update_steps)}) {
    if (!s.ok()) return s;
  }
  prune->mode = *mode;
  if (args.Has("prune-target-ratio")) {
    UNAS_ASSIGN_OR_RETURN(prune->target_ratio, args.GetDouble("prune-target-ratio", 1e-9, 0.999999));
  }
  if (args.Has("prune-end-epoch")) {
    UNAS_ASSIGN_OR_RETURN(long long epoch, args.GetInt("prune-end-epoch", 1, 1000));
    prune->end_epoch = static_cast<int>(epoch);
  }
  prune->enabled = true;
  prune->target = *target;
  prune->max_fraction = *fraction;
  prune->max_group_fraction = *layer_fraction;
  prune->accounting = *accounting;
  if (args.Has("prune-target-bytes")) {
    auto bytes = ParseByteSize(args.Get("prune-target-bytes"));
    if (!bytes.ok()) return ForFlag("--prune-target-bytes", bytes.status());
    prune->target_bytes = *bytes;
  }
  if (args.Has("prune-epoch")) {
    UNAS_ASSIGN_OR_RETURN(long long epoch, args.GetInt("prune-epoch", 0, 10000));
    prune->start_epoch = static_cast<int>(epoch);
  }
  return Status::Ok();
}

// The training recipe from the flags, checked by the one rule set a job's
// recipe is checked with (worker/train_config.h).
Result<worker::TrainConfig> ReadTrainConfig(const Args& args) {
  worker::TrainConfig config;
  auto schedule = ParseSchedule(args.Get("lr-schedule"));
  for (const Status& s : {args.ReadInt("epochs", 1, 10000, &config.epochs),
                          args.ReadInt("batch-size", 2, 65536, &config.batch_size),
                          args.ReadInt("threads", 0, 1024, &config.threads),
                          args.ReadInt("seed", 0, (1LL << 62), &config.seed),
                          args.ReadDouble("subset", 1e-9, 1, &config.subset),
                          args.ReadDouble("lr", 1e-12, 1e12, &config.learning_rate),
                          args.ReadDouble("momentum", 0, 0.999999, &config.momentum),
                          args.ReadDouble("weight-decay", 0, 0.999999, &config.weight_decay),
                          args.ReadDouble("dropout", 0, 0.999999, &config.dropout),
                          args.ReadInt("start-epoch", 0, 10000, &config.start_epoch),
                          args.ReadInt("augment-shift", 0, 16, &config.augment.shift_px),
                          args.ReadDouble("augment-noise", 0, 10, &config.augment.noise_sd), schedule.status()}) {
    if (!s.ok()) return s;
  }
  UNAS_ASSIGN_OR_RETURN(config.optimizer, worker::ParseOptimizer(args.Get("optimizer"), "--optimizer"));
  config.lr_schedule = *schedule;
  if (args.On("augment")) config.augment = worker::AugmentConfig{2, true, 0};
  if (args.On("augment-flip")) config.augment.flip = true;
  config.save_path = args.Get("save");
  config.init_weights_path = args.Get("init-weights");
  config.keep_model = args.Has("out");
  UNAS_RETURN_IF_ERROR(ReadPruneFlags(args, &config.prune));
  UNAS_RETURN_IF_ERROR(worker::ValidateTrainConfig(config));
  return config;
}

// --dataset and the flags that adjust it (--input-shape, --bad-files,
// --words); errors name the flag.
Result<data::DatasetSpec> ReadDatasetFlags(const Args& args, const worker::TrainConfig& config) {
  auto spec = data::ParseDatasetSpec(args.Get("dataset"));
  if (!spec.ok()) return ForFlag("--dataset", spec.status());
  if (args.Has("input-shape")) {
    auto shape = data::ParseInputShape(args.Get("input-shape"));
    if (!shape.ok()) return ForFlag("--input-shape", shape.status());
    spec->input_shape = *shape;
  }
  if (const std::string bad = args.Get("bad-files"); bad == "skip") {
    spec->bad_files = data::BadFilePolicy::kSkip;
  } else if (bad != "fail") {
    return Status::Invalid("--bad-files: '" + bad + "' is not fail or skip");
  }
  if (spec->kind == data::DatasetKind::kSpeechCommands && config.augment.enabled()) {
    return Status::Invalid("--augment (image shifts and flips) does not apply to keyword features");
  }
  if (args.Has("words")) {
    if (spec->kind != data::DatasetKind::kSpeechCommands) {
      return Status::Invalid("--words needs --dataset speech_commands:DIR");
    }
    spec->speech.wanted_words.clear();
    std::stringstream words(args.Get("words"));
    for (std::string w; std::getline(words, w, ',');) spec->speech.wanted_words.push_back(w);
    if (Status s = data::CheckSpeechCommandsSpec(spec->speech); !s.ok()) return ForFlag("--words", s);
  }
  return spec;
}

// The candidate in `path` ('-': stdin); errors name the file.
Result<Candidate> ReadCandidateFile(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::kNotFound, path + ": cannot open file");
    text << in.rdbuf();
  }
  auto candidate = ParseCandidate(text.str());
  if (!candidate.ok()) return Status(candidate.status().code(), path + ": " + candidate.status().message());
  return candidate;
}

void PrintDatasetInfo(const worker::DatasetInfo& info) {
  std::printf("%s: %lld train / %lld validation / %lld test images of %dx%dx%d, %d classes\n", info.name.c_str(),
              static_cast<long long>(info.train_count), static_cast<long long>(info.validation_count),
              static_cast<long long>(info.test_count), info.input.height, info.input.width, info.input.channels,
              info.input.num_classes);
  if (info.skipped_files > 0) std::printf("%s: %lld bad files skipped\n", info.name.c_str(), static_cast<long long>(info.skipped_files));
  std::fflush(stdout);
}

// Trains with a progress bar on a terminal (a line per epoch otherwise);
// Ctrl-C stops between batches and the result says so.
Result<worker::TrainResult> TrainWithProgress(const Candidate& candidate, const worker::Dataset& dataset,
                                              const worker::TrainConfig& config, bool terminal) {
  ProgressPrinter printer(terminal);
  worker::TrainHooks hooks;
  hooks.on_progress = [&printer](const worker::TrainProgress& p) { printer(p); };
  hooks.cancel = &g_cancel;
  std::signal(SIGINT, OnInterrupt);
  auto result = worker::Train(candidate, dataset, config, hooks);
  std::signal(SIGINT, SIG_DFL);
  if (result.ok() && terminal && result->outcome != worker::TrialOutcome::kCompleted) std::printf("\n");
  return result;
}

// The JSON train prints: the trainer's result and the run's settings.
nlohmann::json TrainSummary(const std::string& path, const worker::DatasetInfo& info,
                            const worker::TrainConfig& config, const worker::TrainResult& result) {
  nlohmann::json summary = worker::TrainResultToJson(result);
  summary["architecture"] = path;
  summary["dataset"] = info.name;
  if (!info.class_names.empty()) summary["class_names"] = info.class_names;
  summary["epochs"] = config.epochs;
  summary["batch_size"] = config.batch_size;
  summary["threads"] = config.threads;
  summary["seed"] = config.seed;
  if (!config.save_path.empty() && result.outcome == worker::TrialOutcome::kCompleted) {
    summary["saved"] = config.save_path;
  }
  return summary;
}

// What pruning did: partial-execution peaks into the summary, a line on
// stdout, and the pruned candidate into --save-pruned's file.
Status ReportPruning(const Args& args, const Candidate& candidate, const InputSpec& input,
                     const worker::PruningResult& p, nlohmann::json* summary) {
  // Partial-execution peaks too: pruning and Pex compound.
  auto pex = [&](const Candidate& c) -> nlohmann::json {
    auto network = BuildNetwork(c, input);
    if (!network.ok()) return nullptr;
    auto bytes = PexPeakBytes(*network, p.accounting);
    return bytes.ok() ? nlohmann::json(*bytes) : nlohmann::json(nullptr);
  };
  (*summary)["pruning"]["proposed_costs"]["pex_peak_bytes"] = pex(candidate);
  (*summary)["pruning"]["pruned_costs"]["pex_peak_bytes"] = pex(p.candidate);
  std::printf("pruned %d of %d channels at epoch %d (%s, %s accounting): peak SRAM %lld -> %lld bytes, flash %lld -> "
              "%lld bytes, params %lld -> %lld, MACs %lld -> %lld\n",
              p.channels_removed, p.prunable_channels, p.epoch + 1, worker::PruneTargetName(p.target),
              AccountingName(p.accounting), static_cast<long long>(p.proposed_costs.peak_sram_bytes),
              static_cast<long long>(p.pruned_costs.peak_sram_bytes),
              static_cast<long long>(p.proposed_costs.flash_bytes), static_cast<long long>(p.pruned_costs.flash_bytes),
              static_cast<long long>(p.proposed_costs.params), static_cast<long long>(p.pruned_costs.params),
              static_cast<long long>(p.proposed_costs.macs), static_cast<long long>(p.pruned_costs.macs));
  const std::string pruned_path = args.Get("save-pruned");
  if (!pruned_path.empty()) {
    const std::string json = CandidateToJson(p.candidate).dump() + "\n";
    UNAS_RETURN_IF_ERROR(WriteFile(pruned_path, "pruned candidate", json));
    (*summary)["saved_pruned"] = pruned_path;
  }
  return Status::Ok();
}

}  // namespace

int RunTrain(const std::vector<std::string>& argv) {
  Args args = TrainArgs();
  if (auto rc = args.ParseOrExit(argv)) return *rc;
  if (args.positional().size() != 1) {
    std::cerr << "unas train: expected one architecture file (see 'unas train --help')\n";
    return 2;
  }
  auto config = ReadTrainConfig(args);
  if (!config.ok()) return TrainFailed(config.status(), 2);
  auto spec = ReadDatasetFlags(args, *config);
  if (!spec.ok()) return TrainFailed(spec.status(), 2);
  const std::string path = args.positional()[0];
  auto candidate = ReadCandidateFile(path);
  if (!candidate.ok()) return TrainFailed(candidate.status(), 1);
  auto dataset = worker::LoadDataset(*spec);
  if (!dataset.ok()) return TrainFailed(dataset.status(), 1);
  const worker::DatasetInfo& info = (*dataset)->info();
  PrintDatasetInfo(info);
  auto result = TrainWithProgress(*candidate, **dataset, *config, ::isatty(STDOUT_FILENO) == 1);
  if (!result.ok()) return TrainFailed(result.status(), 1);
  nlohmann::json summary = TrainSummary(path, info, *config, *result);
  if (result->pruning) {
    if (Status s = ReportPruning(args, *candidate, info.input, *result->pruning, &summary); !s.ok()) {
      return TrainFailed(s, 1);
    }
  }
  if (args.Has("out") && result->outcome == worker::TrialOutcome::kCompleted) {
    if (Status s = WriteInt8Export(args.Get("out"), *result, **dataset, config->threads, &summary); !s.ok()) {
      return TrainFailed(ForFlag("--out", s), 1);
    }
  }
  std::cout << summary.dump(2) << std::endl;
  if (result->outcome != worker::TrialOutcome::kCompleted) {
    std::cerr << "unas train: trial " << worker::TrialOutcomeName(result->outcome) << ": " << result->message << "\n";
    return 1;
  }
  return 0;
}

}  // namespace unas::cli
