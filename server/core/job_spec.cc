#include "server/core/job_spec.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "base/spelling.h"
#include "base/json_limits.h"
#include "costmodel/byte_units.h"
#include "data/dataset_pack.h"

namespace unas::server {
namespace {

using nlohmann::json;

Status CheckKeys(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) return Status::Invalid(where + ": expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      const std::string key = QuotePrefix(it.key());
      const std::string path = where.empty() ? key : where + "." + key;
      return Status::Invalid(path + ": unknown field (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

std::string Path(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

// Type-only bounds, for recipe fields whose ranges ValidateTrainConfig
// (worker/train_config.h) checks: one rule for the job and the trainer.
constexpr double kAnyNumber = 1e300;
constexpr long long kAnyInt = 1LL << 30;

Status GetNumber(const json& j, const std::string& where, const char* key, double lo, double hi, double* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return Status::Invalid(Path(where, key) + ": expected a number");
  }
  const double v = it->get<double>();
  if (v < lo || v > hi) {
    return Status::OutOfRange(Path(where, key) + ": " + it->dump() + " is outside " + json(lo).dump() + ".." +
                              json(hi).dump());
  }
  *out = v;
  return Status::Ok();
}

Status GetInt(const json& j, const std::string& where, const char* key, long long lo, long long hi, int* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    return Status::Invalid(Path(where, key) + ": expected an integer");
  }
  const long long v = it->is_number_unsigned() ? static_cast<long long>(std::min<unsigned long long>(
                                                     it->get<unsigned long long>(), 1ULL << 62))
                                               : it->get<long long>();
  if (v < lo || v > hi) {
    // The value as sent, not as clamped above.
    const std::string sent = it->is_number_unsigned() ? std::to_string(it->get<unsigned long long>()) : std::to_string(v);
    return Status::OutOfRange(Path(where, key) + ": " + sent + " is outside " + std::to_string(lo) +
                              ".." + std::to_string(hi));
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status GetString(const json& j, const std::string& where, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_string()) return Status::Invalid(Path(where, key) + ": expected a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

// A number of bytes: a JSON number, or a string with a unit ("32kB",
// "64KiB"; costmodel/byte_units.h).
Status GetBytes(const json& j, const std::string& where, const char* key, double hi, double* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_string()) return GetNumber(j, where, key, 0, hi, out);
  auto bytes = ParseByteSize(it->get_ref<const std::string&>());
  if (!bytes.ok()) return Status(bytes.status().code(), Path(where, key) + ": " + bytes.status().message());
  if (static_cast<double>(*bytes) > hi) {
    return Status::OutOfRange(Path(where, key) + ": " + QuoteJson(*it) + " is more than " + json(hi).dump() + " bytes");
  }
  *out = static_cast<double>(*bytes);
  return Status::Ok();
}

// "board": a built-in board's name, or an object describing one
// {"name"?, "core", "clock_mhz", "sram", "flash"} (memory in bytes or with units).
Result<Board> ParseBoard(const json& b) {
  if (b.is_string()) {
    auto found = FindBoard(b.get<std::string>());
    if (!found.ok()) return Status::Invalid("board: " + found.status().message());
    return **found;
  }
  UNAS_RETURN_IF_ERROR(CheckKeys(b, {"name", "core", "clock_mhz", "sram", "flash"}, "board"));
  for (const char* key : {"core", "clock_mhz", "sram", "flash"}) {
    if (!b.contains(key)) return Status::Invalid(std::string("board.") + key + ": missing");
  }
  Board board;
  board.name = "custom";
  UNAS_RETURN_IF_ERROR(GetString(b, "board", "name", &board.name));
  if (board.name.empty() || board.name.size() > 100) return Status::Invalid("board.name: must be 1 to 100 characters");
  UNAS_RETURN_IF_ERROR(GetString(b, "board", "core", &board.core));
  double mhz = 0, sram = 0, flash = 0;
  UNAS_RETURN_IF_ERROR(GetNumber(b, "board", "clock_mhz", 0.001, 2000, &mhz));
  UNAS_RETURN_IF_ERROR(GetBytes(b, "board", "sram", 1e12, &sram));
  UNAS_RETURN_IF_ERROR(GetBytes(b, "board", "flash", 1e12, &flash));
  board.clock_hz = mhz * 1e6;
  board.sram_bytes = static_cast<int64_t>(sram);
  board.flash_bytes = static_cast<int64_t>(flash);
  board.dsp = CoreHasDsp(board.core);
  board.description = "custom board (" + board.core + ")";
  if (Status v = ValidateBoard(board); !v.ok()) return Status(v.code(), "board." + v.message());
  return board;
}

json BoardToJson(const Board& b) {
  for (const Board& known : Boards()) {
    if (known.name == b.name && known.core == b.core && known.clock_hz == b.clock_hz &&
        known.sram_bytes == b.sram_bytes && known.flash_bytes == b.flash_bytes) {
      return b.name;
    }
  }
  return {{"name", b.name}, {"core", b.core}, {"clock_mhz", b.clock_hz / 1e6}, {"sram", b.sram_bytes},
          {"flash", b.flash_bytes}};
}

// The JSON keys of limits, by objective.
struct LimitKey {
  const char* key;
  search::Objective objective;
  double hi;
};
constexpr LimitKey kLimitKeys[] = {{"val_error", search::Objective::kError, 1.0},
                                   {"peak_sram_bytes", search::Objective::kPeakSram, 1e12},
                                   {"flash_bytes", search::Objective::kFlash, 1e12},
                                   {"macs", search::Objective::kMacs, 1e15},
                                   {"latency_ms", search::Objective::kLatency, 1e9}};

Status GetLimits(const json& j, const std::string& where, search::Limits* limits) {
  if (j.is_null()) return Status::Ok();
  UNAS_RETURN_IF_ERROR(CheckKeys(j, {"val_error", "peak_sram_bytes", "flash_bytes", "macs", "latency_ms"}, where));
  for (const LimitKey& f : kLimitKeys) {
    auto it = j.find(f.key);
    if (it == j.end() || it->is_null()) continue;
    double v = 0;
    if (f.objective == search::Objective::kPeakSram || f.objective == search::Objective::kFlash) {
      UNAS_RETURN_IF_ERROR(GetBytes(j, where, f.key, f.hi, &v));
    } else {
      UNAS_RETURN_IF_ERROR(GetNumber(j, where, f.key, 0, f.hi, &v));
    }
    if (v <= 0) return Status::OutOfRange(Path(where, f.key) + ": must be positive");
    (*limits)[f.objective] = v;
  }
  return Status::Ok();
}

json LimitsToJson(const search::Limits& l) {
  json j = json::object();
  for (const LimitKey& f : kLimitKeys) {
    if (l[f.objective]) j[f.key] = *l[f.objective];
  }
  return j;
}

// A string option parsed by `parse` (whose message names the field).
template <typename T, typename Parse>
Status GetEnum(const json& j, const std::string& where, const char* key, Parse parse, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_string()) return Status::Invalid(Path(where, key) + ": expected a string");
  // No option name is that long: refuse it without echoing all of it.
  const std::string& name = it->get_ref<const std::string&>();
  if (name.size() > kQuoteChars) {
    return Status::Invalid(Path(where, key) + ": '" + QuotePrefix(name) + "' is not an allowed value");
  }
  UNAS_ASSIGN_OR_RETURN(*out, parse(name, Path(where, key)));
  return Status::Ok();
}

Status GetBool(const json& j, const std::string& where, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_boolean()) return Status::Invalid(Path(where, key) + ": expected true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

// An option's JSON spellings: one table per enum (base/spelling.h).
constexpr Spelling<Accounting> kAccountings[] = {{Accounting::kTflm, "tflm"},
                                                 {Accounting::kUnas, "unas"},
                                                 {Accounting::kFirmware, "firmware"},
                                                 {Accounting::kTflmCmsisNn, "tflm_cmsis_nn"}};
constexpr Spelling<search::MemoryModel> kMemoryModels[] = {{search::MemoryModel::kWholeTensor, "whole"},
                                                           {search::MemoryModel::kPartialExecution, "partial_execution"}};
constexpr Spelling<ErrorObjective> kErrorObjectives[] = {{ErrorObjective::kInt8, "int8"},
                                                         {ErrorObjective::kFloat, "float"}};
constexpr Spelling<StrategyKind> kStrategies[] = {
    {StrategyKind::kAging, "aging"}, {StrategyKind::kBayesian, "bo"}, {StrategyKind::kRandom, "random"}};

// The job's name for a recipe field ValidateTrainConfig names by
// TrainConfig's: the pruning and quantisation parts are objects of their
// own in a job ("pruning.fraction"), the rest lives under `where`
// ("training.batch_size", "rungs[1].epochs", "final.training.epochs").
Status RecipeError(const Status& s, const std::string& where) {
  static constexpr std::pair<const char*, const char*> kJobNames[] = {
      {"prune.max_fraction", "pruning.fraction"},     {"prune.max_group_fraction", "pruning.layer_fraction"},
      {"prune.start_epoch", "pruning.epoch"},         {"prune.target_bytes", "pruning.target_bytes"},
      {"prune.target_ratio", "pruning.target_ratio"}, {"prune.end_epoch", "pruning.end_epoch"},
      {"prune.update_steps", "pruning.update_steps"},
      {"prune:", "pruning:"},                         {"quantization.", "quantization."}};
  const std::string& m = s.message();
  for (const auto& [field, job_field] : kJobNames) {
    if (m.rfind(field, 0) == 0) return Status(s.code(), job_field + m.substr(std::string(field).size()));
  }
  return Status(s.code(), where + "." + m);
}

// Every recipe a trial of this job can train with passes the trainer's own
// validation (ValidateTrainConfig), so an accepted job never fails all its
// trials in the worker: the training recipe, each rung's, the final one.
Status ValidateRecipes(const JobSpec& s) {
  if (Status v = worker::ValidateTrainConfig(RecipeFor(s, TrialStage{})); !v.ok()) {
    return RecipeError(v, s.rungs.empty() ? "training" : "rungs[0]");
  }
  for (int k = 1; k < RungCount(s); ++k) {
    if (Status v = worker::ValidateTrainConfig(RecipeFor(s, TrialStage{k, 0, 0})); !v.ok()) {
      return RecipeError(v, "rungs[" + std::to_string(k) + "]");
    }
  }
  // The training fields the rungs do not set are checked in the recipe
  // itself (its epochs and subset are the rungs' when there are rungs).
  if (Status v = worker::ValidateTrainConfig(s.training); !v.ok()) return RecipeError(v, "training");
  if (Status v = worker::ValidateTrainConfig(RecipeFor(s, TrialStage{0, 1, 0})); !v.ok()) {
    return RecipeError(v, "final.training");
  }
  return Status::Ok();
}

// A parser for GetEnum over one table.
template <const auto& kTable>
auto From() {
  return [](const std::string& name, const std::string& where) { return ParseIn(kTable, name, where); };
}

Result<const McuProfile*> McuOption(const std::string& name, const std::string& where) {
  auto mcu = FindMcu(name);
  if (!mcu.ok()) return Status::Invalid(where + ": " + mcu.status().message());
  return *mcu;
}

// "input_shape": [H, W, C] and "bad_files": "fail" | "skip" beside
// "dataset" (data/dataset_spec.h). null or absent: unset / "fail".
Status ParseDatasetOptions(const json& j, data::DatasetSpec* dataset) {
  if (auto shape = j.find("input_shape"); shape != j.end() && !shape->is_null()) {
    if (!shape->is_array() || shape->size() != 3 || !(*shape)[0].is_number_integer() ||
        !(*shape)[1].is_number_integer() || !(*shape)[2].is_number_integer()) {
      return Status::Invalid("input_shape: expected [height, width, channels] (three integers)");
    }
    auto part = [&](size_t i) {
      return static_cast<int>(std::clamp<long long>((*shape)[i].get<long long>(), -1, 1 << 30));
    };
    dataset->input_shape = data::InputShape{part(0), part(1), part(2)};
    UNAS_RETURN_IF_ERROR(data::ValidateInputShape(dataset->input_shape));
  }
  if (auto bad = j.find("bad_files"); bad != j.end() && !bad->is_null()) {
    const std::string policy = bad->is_string() ? bad->get<std::string>() : "";
    if (policy == "fail") {
      dataset->bad_files = data::BadFilePolicy::kFail;
    } else if (policy == "skip") {
      dataset->bad_files = data::BadFilePolicy::kSkip;
    } else {
      return Status::Invalid("bad_files: expected \"fail\" or \"skip\"");
    }
  }
  return Status::Ok();
}

// "augment": true (shift 2 px and flip: the old boolean's meaning), false
// (none) or {"shift_px", "flip", "noise_sd"} (absent fields: off).
Status ParseAugment(const json& t, const std::string& where, worker::AugmentConfig* out) {
  const auto a = t.find("augment");
  if (a == t.end() || a->is_null()) return Status::Ok();
  if (a->is_boolean()) {
    *out = a->get<bool>() ? worker::AugmentConfig{2, true, 0} : worker::AugmentConfig{};
    return Status::Ok();
  }
  const std::string at = where + ".augment";
  if (!a->is_object()) return Status::Invalid(at + ": expected true, false or {\"shift_px\", \"flip\", \"noise_sd\"}");
  UNAS_RETURN_IF_ERROR(CheckKeys(*a, {"shift_px", "flip", "noise_sd"}, at));
  worker::AugmentConfig c;
  UNAS_RETURN_IF_ERROR(GetInt(*a, at, "shift_px", -kAnyInt, kAnyInt, &c.shift_px));
  UNAS_RETURN_IF_ERROR(GetBool(*a, at, "flip", &c.flip));
  UNAS_RETURN_IF_ERROR(GetNumber(*a, at, "noise_sd", -kAnyNumber, kAnyNumber, &c.noise_sd));
  *out = c;
  return Status::Ok();
}

// A "training" object (also "final.training") over the recipe in *tr.
Status ParseTraining(const json& t, const std::string& where, worker::TrainConfig* out) {
  worker::TrainConfig& tr = *out;
  UNAS_RETURN_IF_ERROR(CheckKeys(t,
                                 {"epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule", "momentum",
                                  "weight_decay", "dropout", "subset", "augment", "threads"},
                                 where));
  UNAS_RETURN_IF_ERROR(GetInt(t, where, "epochs", -kAnyInt, kAnyInt, &tr.epochs));
  UNAS_RETURN_IF_ERROR(GetInt(t, where, "batch_size", -kAnyInt, kAnyInt, &tr.batch_size));
  UNAS_RETURN_IF_ERROR(GetEnum(t, where, "optimizer", worker::ParseOptimizer, &tr.optimizer));
  UNAS_RETURN_IF_ERROR(GetNumber(t, where, "learning_rate", -kAnyNumber, kAnyNumber, &tr.learning_rate));
  UNAS_RETURN_IF_ERROR(GetNumber(t, where, "momentum", -kAnyNumber, kAnyNumber, &tr.momentum));
  UNAS_RETURN_IF_ERROR(GetNumber(t, where, "weight_decay", -kAnyNumber, kAnyNumber, &tr.weight_decay));
  UNAS_RETURN_IF_ERROR(GetNumber(t, where, "dropout", -kAnyNumber, kAnyNumber, &tr.dropout));
  UNAS_RETURN_IF_ERROR(GetNumber(t, where, "subset", -kAnyNumber, kAnyNumber, &tr.subset));
  UNAS_RETURN_IF_ERROR(GetInt(t, where, "threads", -kAnyInt, kAnyInt, &tr.threads));
  UNAS_RETURN_IF_ERROR(ParseAugment(t, where, &tr.augment));
  if (auto sched = t.find("lr_schedule"); sched != t.end()) {
    if (!sched->is_array()) return Status::Invalid(where + ".lr_schedule: expected [[epoch, lr], ...]");
    tr.lr_schedule.clear();  // replaces a default schedule (final.training's)
    for (size_t i = 0; i < sched->size(); ++i) {
      const json& step = (*sched)[i];
      const std::string at = where + ".lr_schedule[" + std::to_string(i) + "]";
      if (!step.is_array() || step.size() != 2 || !step[0].is_number_integer() || !step[1].is_number()) {
        return Status::Invalid(at + ": expected [epoch, learning_rate]");
      }
      worker::LrStep ls;
      ls.epoch = static_cast<int>(std::clamp<long long>(step[0].get<long long>(), -kAnyInt, kAnyInt));
      ls.learning_rate = step[1].get<double>();
      tr.lr_schedule.push_back(ls);
    }
  }
  return Status::Ok();
}

json TrainingToJson(const worker::TrainConfig& t) {
  json schedule = json::array();
  for (const worker::LrStep& step : t.lr_schedule) schedule.push_back({step.epoch, step.learning_rate});
  return {{"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"optimizer", worker::OptimizerName(t.optimizer)},
          {"learning_rate", t.learning_rate},
          {"lr_schedule", schedule},
          {"momentum", t.momentum},
          {"weight_decay", t.weight_decay},
          {"dropout", t.dropout},
          {"subset", t.subset},
          {"augment", {{"shift_px", t.augment.shift_px}, {"flip", t.augment.flip}, {"noise_sd", t.augment.noise_sd}}},
          {"threads", t.threads}};
}

// "rungs", "promotion" and "final" (docs/multi-fidelity.md).
Status ParseMultiFidelity(const json& j, JobSpec* s) {
  if (auto r = j.find("rungs"); r != j.end() && !r->is_null()) {
    if (!r->is_array() || r->size() > 10) {
      return Status::Invalid("rungs: expected an array of at most 10 {\"epochs\": n, \"subset\": f}");
    }
    for (size_t i = 0; i < r->size(); ++i) {
      const std::string where = "rungs[" + std::to_string(i) + "]";
      UNAS_RETURN_IF_ERROR(CheckKeys((*r)[i], {"epochs", "subset"}, where));
      if (!(*r)[i].contains("epochs")) return Status::Invalid(where + ".epochs: required");
      Rung rung;
      UNAS_RETURN_IF_ERROR(GetInt((*r)[i], where, "epochs", -kAnyInt, kAnyInt, &rung.epochs));
      UNAS_RETURN_IF_ERROR(GetNumber((*r)[i], where, "subset", -kAnyNumber, kAnyNumber, &rung.subset));
      if (!s->rungs.empty() && rung.epochs <= s->rungs.back().epochs) {
        return Status::Invalid(where + ".epochs: must be more than the rung below's (" +
                               std::to_string(s->rungs.back().epochs) + "): a rung's epochs are the training a "
                               "candidate has had when it ends");
      }
      s->rungs.push_back(rung);
    }
  }
  if (auto p = j.find("promotion"); p != j.end() && !p->is_null()) {
    UNAS_RETURN_IF_ERROR(CheckKeys(*p, {"reduction_factor"}, "promotion"));
    UNAS_RETURN_IF_ERROR(GetInt(*p, "promotion", "reduction_factor", 2, 100, &s->reduction_factor));
  }
  // The final recipe starts from the search's own at its top rung, on the
  // whole training part: a final round trains from scratch, and a shorter
  // recipe or another optimiser than the one its candidates were chosen with
  // retrains them worse. Keys in final.training override it.
  s->final.training = s->training;
  s->final.training.epochs = SearchEpochs(*s);
  s->final.training.subset = 1.0;
  if (auto f = j.find("final"); f != j.end() && !f->is_null()) {
    UNAS_RETURN_IF_ERROR(
        CheckKeys(*f, {"enabled", "networks", "neighbours", "max_train_seconds", "training"}, "final"));
    UNAS_RETURN_IF_ERROR(GetBool(*f, "final", "enabled", &s->final.enabled));
    UNAS_RETURN_IF_ERROR(GetInt(*f, "final", "networks", 1, 100, &s->final.networks));
    UNAS_RETURN_IF_ERROR(GetInt(*f, "final", "neighbours", 0, 100, &s->final.neighbours));
    UNAS_RETURN_IF_ERROR(GetNumber(*f, "final", "max_train_seconds", 0, 1e7, &s->final.max_train_seconds));
    if (auto t = f->find("training"); t != f->end()) {
      UNAS_RETURN_IF_ERROR(ParseTraining(*t, "final.training", &s->final.training));
    }
  }
  return Status::Ok();
}

// The "audio" object's numeric fields: key, member (a number or an integer)
// and range. One list for ParseAudio, AudioKeys and AudioToJson, so a field
// is parsed, allowed and written back under one name.
using SpeechSpec = data::SpeechCommandsSpec;
struct AudioNumber {
  const char* key;
  double SpeechSpec::*number;
  int SpeechSpec::*integer;
  double lo, hi;
};
constexpr AudioNumber kAudioNumbers[] = {
    {"silence_percent", &SpeechSpec::silence_percent, nullptr, 0, 100},
    {"unknown_percent", &SpeechSpec::unknown_percent, nullptr, 0, 100},
    {"time_shift_ms", nullptr, &SpeechSpec::time_shift_ms, 0, 500},
    {"background_frequency", &SpeechSpec::background_frequency, nullptr, 0, 1},
    {"background_volume", &SpeechSpec::background_volume, nullptr, 0, 1},
    {"augment_copies", nullptr, &SpeechSpec::augment_copies, 1, 16},
    {"window_ms", nullptr, &SpeechSpec::window_ms, 1, 64},
    {"stride_ms", nullptr, &SpeechSpec::stride_ms, 1, 1000},
    {"mel_channels", nullptr, &SpeechSpec::mel_channels, 1, 128},
    {"lower_hz", nullptr, &SpeechSpec::lower_hz, 0, 8000},
    {"upper_hz", nullptr, &SpeechSpec::upper_hz, 1, 8000},
    {"mfcc_coefficients", nullptr, &SpeechSpec::mfcc_coefficients, 1, 128},
};

const std::set<std::string>& AudioKeys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> k = {"wanted_words", "seed", "features"};
    for (const AudioNumber& f : kAudioNumbers) k.insert(f.key);
    return k;
  }();
  return keys;
}

// The "audio" object of a speech_commands job (data/dataset_spec.h
// SpeechCommandsSpec): the reader's shares, augmentation and front end.
// Numbers are checked in kAudioNumbers' order, then the seed and features.
Status ParseAudio(const json& a, data::SpeechCommandsSpec* sp) {
  if (!a.is_object()) return Status::Invalid("audio: expected an object");
  UNAS_RETURN_IF_ERROR(CheckKeys(a, AudioKeys(), "audio"));
  if (auto w = a.find("wanted_words"); w != a.end()) {
    if (!w->is_array() || w->empty() || w->size() > 254) {
      return Status::Invalid("audio.wanted_words: expected an array of 1 to 254 word folder names");
    }
    sp->wanted_words.clear();
    for (const json& word : *w) {
      if (!word.is_string()) return Status::Invalid("audio.wanted_words: expected strings");
      sp->wanted_words.push_back(word.get<std::string>());
    }
  }
  for (const AudioNumber& f : kAudioNumbers) {
    const auto lo = static_cast<long long>(f.lo), hi = static_cast<long long>(f.hi);
    UNAS_RETURN_IF_ERROR(f.number ? GetNumber(a, "audio", f.key, f.lo, f.hi, &(sp->*f.number))
                                  : GetInt(a, "audio", f.key, lo, hi, &(sp->*f.integer)));
  }
  int seed = static_cast<int>(sp->seed);
  UNAS_RETURN_IF_ERROR(GetInt(a, "audio", "seed", 0, kAnyInt, &seed));
  sp->seed = static_cast<uint64_t>(seed);
  if (auto f = a.find("features"); f != a.end()) {
    if (!f->is_string() || (*f != "mfcc" && *f != "log_mel")) {
      return Status::Invalid("audio.features: expected \"mfcc\" or \"log_mel\"");
    }
    sp->log_mel = *f == "log_mel";
  }
  return data::CheckSpeechCommandsSpec(*sp);
}

json AudioToJson(const data::SpeechCommandsSpec& sp) {
  json out = {{"wanted_words", sp.wanted_words}, {"seed", sp.seed}, {"features", sp.log_mel ? "log_mel" : "mfcc"}};
  for (const AudioNumber& f : kAudioNumbers) out[f.key] = f.number ? json(sp.*f.number) : json(sp.*f.integer);
  return out;
}

}  // namespace

const char* StrategyKindName(StrategyKind kind) { return NameIn(kStrategies, kind); }
const char* ErrorObjectiveName(ErrorObjective e) { return NameIn(kErrorObjectives, e); }

namespace {
std::atomic<int64_t> g_specs_parsed{0};

// "dataset_name" and "dataset_sha256": what the coordinator recorded for a
// registered data set (both or neither).
Status ParseRegisteredDataset(const json& j, JobSpec* s) {
  UNAS_RETURN_IF_ERROR(GetString(j, "", "dataset_name", &s->dataset_name));
  UNAS_RETURN_IF_ERROR(GetString(j, "", "dataset_sha256", &s->dataset.sha256));
  if (s->dataset_name.empty() != s->dataset.sha256.empty()) {
    return Status::Invalid("dataset_sha256: recorded with dataset_name, by the coordinator");
  }
  if (!s->dataset.sha256.empty() && !data::IsSha256Hex(s->dataset.sha256)) {
    return Status::Invalid("dataset_sha256: expected 64 lowercase hex characters");
  }
  return Status::Ok();
}
}  // namespace

int64_t JobSpecsParsed() { return g_specs_parsed.load(); }

namespace {

// The steps of ParseJobSpec, in the order a job's fields are checked (so a
// spec with several errors names the same first one). Each reads its fields
// of `j` into `s`; a step may rely on the fields the steps before it set.

// "name", "dataset" with its options ("input_shape", "bad_files") and "audio".
Status ParseNameAndDataset(const json& j, JobSpec* s) {
  UNAS_RETURN_IF_ERROR(GetString(j, "", "name", &s->name));
  if (s->name.empty() || s->name.size() > 100) return Status::Invalid("name: must be 1 to 100 characters");
  std::string dataset = data::DatasetSpecText(s->dataset);
  UNAS_RETURN_IF_ERROR(GetString(j, "", "dataset", &dataset));
  auto parsed_dataset = data::ParseDatasetSpec(dataset);
  if (!parsed_dataset.ok()) return Status::Invalid("dataset: " + parsed_dataset.status().message());
  s->dataset = *parsed_dataset;
  UNAS_RETURN_IF_ERROR(ParseDatasetOptions(j, &s->dataset));
  UNAS_RETURN_IF_ERROR(ParseRegisteredDataset(j, s));
  if (auto a = j.find("audio"); a != j.end() && !a->is_null()) {
    if (s->dataset.kind != data::DatasetKind::kSpeechCommands) {
      return Status::Invalid("audio: only for a \"speech_commands:DIR\" dataset");
    }
    UNAS_RETURN_IF_ERROR(ParseAudio(*a, &s->dataset.speech));
  }
  return Status::Ok();
}

// "accounting", "mcu" and "memory": how candidates are costed.
Status ParseCostModel(const json& j, JobSpec* s) {
  UNAS_RETURN_IF_ERROR(GetEnum(j, "", "accounting", From<kAccountings>(), &s->accounting));
  if (auto m = j.find("mcu"); m != j.end() && !(m->is_string() && m->get<std::string>().empty())) {
    UNAS_RETURN_IF_ERROR(GetEnum(j, "", "mcu", McuOption, &s->mcu));
  }
  UNAS_RETURN_IF_ERROR(GetEnum(j, "", "memory", From<kMemoryModels>(), &s->memory));
  // TFLM runs whole operators only: a Pex peak would bound memory TFLM never
  // gets, so the job must name the runtime that slices (docs/cost-model.md).
  if (s->memory == search::MemoryModel::kPartialExecution && IsTflm(s->accounting)) {
    return Status::Invalid("memory: partial_execution needs accounting 'firmware' (or 'unas'): "
                           "TFLM runs whole operators only");
  }
  return Status::Ok();
}

// "pruning" into the recipe's PruneConfig; after the rungs, which it excludes.
Status ParsePruning(const json& j, JobSpec* s) {
  auto p = j.find("pruning");
  if (p == j.end() || p->is_null()) return Status::Ok();
  UNAS_RETURN_IF_ERROR(CheckKeys(*p,
                                 {"mode", "target", "fraction", "layer_fraction", "epoch", "target_bytes",
                                  "target_ratio", "end_epoch", "update_steps"},
                                 "pruning"));
  worker::PruneConfig& pr = s->training.prune;
  pr.enabled = true;
  UNAS_RETURN_IF_ERROR(GetEnum(*p, "pruning", "mode", worker::ParsePruneMode, &pr.mode));
  UNAS_RETURN_IF_ERROR(GetEnum(*p, "pruning", "target", worker::ParsePruneTarget, &pr.target));
  UNAS_RETURN_IF_ERROR(GetInt(*p, "pruning", "end_epoch", -kAnyInt, kAnyInt, &pr.end_epoch));
  UNAS_RETURN_IF_ERROR(GetInt(*p, "pruning", "update_steps", -kAnyInt, kAnyInt, &pr.update_steps));
  if (auto r = p->find("target_ratio"); r != p->end() && !r->is_null()) {
    double ratio = 0;
    UNAS_RETURN_IF_ERROR(GetNumber(*p, "pruning", "target_ratio", -kAnyNumber, kAnyNumber, &ratio));
    pr.target_ratio = ratio;
  }
  UNAS_RETURN_IF_ERROR(GetNumber(*p, "pruning", "fraction", -kAnyNumber, kAnyNumber, &pr.max_fraction));
  UNAS_RETURN_IF_ERROR(GetNumber(*p, "pruning", "layer_fraction", -kAnyNumber, kAnyNumber, &pr.max_group_fraction));
  UNAS_RETURN_IF_ERROR(GetInt(*p, "pruning", "epoch", -kAnyInt, kAnyInt, &pr.start_epoch));
  if (auto tb = p->find("target_bytes"); tb != p->end() && !tb->is_null()) {
    double bytes = 0;
    UNAS_RETURN_IF_ERROR(GetBytes(*p, "pruning", "target_bytes", 1e12, &bytes));
    if (bytes < 1) return Status::OutOfRange("pruning.target_bytes: must be at least 1");
    pr.target_bytes = static_cast<int64_t>(bytes);
  }
  if (!s->rungs.empty() && pr.mode == worker::PruneMode::kOneShot) {
    return Status::Invalid("pruning: one-shot pruning is not with rungs (a promotion continues from its rung's "
                           "weights, which pruning would change); use mode 'during_training' or one rung");
  }
  return Status::Ok();
}

// "quantization" into the recipe's QuantizationConfig and the error objective.
Status ParseQuantization(const json& j, JobSpec* s) {
  auto q = j.find("quantization");
  if (q == j.end() || q->is_null()) return Status::Ok();
  UNAS_RETURN_IF_ERROR(
      CheckKeys(*q, {"enabled", "calibration_images", "every_rung", "error_objective"}, "quantization"));
  UNAS_RETURN_IF_ERROR(GetBool(*q, "quantization", "every_rung", &s->quantize_every_rung));
  worker::QuantizationConfig& qc = s->training.quantization;
  UNAS_RETURN_IF_ERROR(GetBool(*q, "quantization", "enabled", &qc.enabled));
  UNAS_RETURN_IF_ERROR(GetInt(*q, "quantization", "calibration_images", -kAnyInt, kAnyInt, &qc.calibration_images));
  UNAS_RETURN_IF_ERROR(GetEnum(*q, "quantization", "error_objective", From<kErrorObjectives>(), &s->error_objective));
  return Status::Ok();
}

// "bounds", "constraints" and "board"; after the cost model (a board's
// budget depends on the accounting, its profile fills an unset "mcu").
Status ParseLimitsAndBoard(const json& j, JobSpec* s) {
  if (auto b = j.find("bounds"); b != j.end()) UNAS_RETURN_IF_ERROR(GetLimits(*b, "bounds", &s->bounds));
  if (auto c = j.find("constraints"); c != j.end()) {
    UNAS_RETURN_IF_ERROR(GetLimits(*c, "constraints", &s->constraints));
    if (s->constraints[search::Objective::kError]) {
      return Status::Invalid("constraints.val_error: error is only known after training; use bounds.val_error");
    }
  }
  // A board's memory, less the runtime's reserve, is a hard constraint (the
  // tighter of it and any given); its core and clock give the latency
  // profile unless "mcu" names one (costmodel/boards.h).
  if (auto b = j.find("board"); b != j.end() && !b->is_null()) {
    UNAS_ASSIGN_OR_RETURN(Board board, ParseBoard(*b));
    auto budget = BoardBudget(board, s->accounting);
    if (!budget.ok()) return Status(budget.status().code(), "board: " + budget.status().message());
    for (auto [objective, bytes] : {std::pair{search::Objective::kPeakSram, budget->sram_bytes},
                                    std::pair{search::Objective::kFlash, budget->flash_bytes}}) {
      auto& c = s->constraints[objective];
      c = std::min(c.value_or(static_cast<double>(bytes)), static_cast<double>(bytes));
    }
    if (!s->mcu) {
      if (auto profile = BoardProfile(board, s->accounting); profile.ok()) s->mcu = *profile;
    }
    s->board = std::move(board);
  }
  if ((s->bounds[search::Objective::kLatency] || s->constraints[search::Objective::kLatency]) && !s->mcu) {
    return Status::Invalid("mcu: a latency bound or constraint needs an MCU profile");
  }
  return Status::Ok();
}

// "objectives": distinct names; latency only with an MCU profile.
Status ParseObjectives(const json& j, JobSpec* s) {
  auto o = j.find("objectives");
  if (o == j.end()) return Status::Ok();
  if (!o->is_array() || o->empty()) return Status::Invalid("objectives: expected a non-empty array of names");
  // Distinct, so at most one of each kind: the hypervolume's cost grows
  // with the number of objectives (search/pareto.h), and a repeated one
  // adds cost and nothing else.
  if (o->size() > search::kNumObjectives) {
    return Status::Invalid("objectives: " + std::to_string(o->size()) + " names, more than the " +
                           std::to_string(search::kNumObjectives) +
                           " distinct objectives there are (error, peak_sram, flash, macs, latency)");
  }
  s->objectives.clear();
  for (const json& name : *o) {
    auto objective = name.is_string() ? search::ParseObjective(name.get<std::string>())
                                      : Result<search::Objective>(Status::Invalid("not a name"));
    if (!objective.ok()) {
      return Status::Invalid("objectives: " + QuoteJson(name) + " is not one of error, peak_sram, flash, macs, latency");
    }
    if (std::find(s->objectives.begin(), s->objectives.end(), *objective) != s->objectives.end()) {
      return Status::Invalid("objectives: " + QuoteJson(name) + " is listed twice");
    }
    s->objectives.push_back(*objective);
  }
  for (search::Objective objective : s->objectives) {
    if (objective == search::Objective::kLatency && !s->mcu) return Status::Invalid("objectives: latency needs an mcu");
  }
  return Status::Ok();
}

// "strategy", "budget", "seed", "evaluator" and "synthetic_delay_ms": how
// the search runs.
Status ParseSearchRun(const json& j, JobSpec* s) {
  if (auto st = j.find("strategy"); st != j.end()) {
    const json strategy = st->is_string() ? json{{"type", *st}} : *st;
    UNAS_RETURN_IF_ERROR(CheckKeys(strategy, {"type", "population", "sample_size"}, "strategy"));
    UNAS_RETURN_IF_ERROR(GetEnum(strategy, "strategy", "type", From<kStrategies>(), &s->strategy));
    UNAS_RETURN_IF_ERROR(GetInt(strategy, "strategy", "population", 2, 100000, &s->population));
    UNAS_RETURN_IF_ERROR(GetInt(strategy, "strategy", "sample_size", 1, 100000, &s->sample_size));
  }
  if (auto b = j.find("budget"); b != j.end()) {
    UNAS_RETURN_IF_ERROR(CheckKeys(*b, {"trials", "wall_seconds"}, "budget"));
    UNAS_RETURN_IF_ERROR(GetInt(*b, "budget", "trials", 1, 1000000, &s->max_trials));
    UNAS_RETURN_IF_ERROR(GetNumber(*b, "budget", "wall_seconds", 0, 1e8, &s->max_wall_seconds));
  }
  if (auto seed = j.find("seed"); seed != j.end()) {
    if (!seed->is_number_unsigned() && !(seed->is_number_integer() && seed->get<long long>() >= 0)) {
      return Status::Invalid("seed: expected a non-negative integer");
    }
    s->seed = seed->get<uint64_t>();
  }
  UNAS_RETURN_IF_ERROR(GetEnum(j, "", "evaluator", worker::ParseEvaluatorKind, &s->evaluator));
  UNAS_RETURN_IF_ERROR(GetInt(j, "", "synthetic_delay_ms", 0, 600000, &s->synthetic_delay_ms));
  if (s->synthetic_delay_ms > 0 && s->evaluator != worker::EvaluatorKind::kSynthetic) {
    return Status::Invalid("synthetic_delay_ms: only applies to the synthetic evaluator");
  }
  return Status::Ok();
}

}  // namespace

Result<JobSpec> ParseJobSpec(const json& j) {
  g_specs_parsed.fetch_add(1);
  if (!j.is_object()) return Status::Invalid("job: expected a JSON object");
  UNAS_RETURN_IF_ERROR(CheckKeys(j,
                                 {"name", "dataset", "training", "rungs", "promotion", "final", "accounting", "mcu", "board", "memory",
                                  "pruning", "quantization", "bounds", "constraints", "objectives", "strategy", "budget",
                                  "seed", "evaluator", "synthetic_delay_ms", "input_shape", "bad_files", "audio",
                                  "dataset_name", "dataset_sha256"},
                                 ""));
  JobSpec s;
  UNAS_RETURN_IF_ERROR(ParseNameAndDataset(j, &s));
  if (auto t = j.find("training"); t != j.end()) UNAS_RETURN_IF_ERROR(ParseTraining(*t, "training", &s.training));
  UNAS_RETURN_IF_ERROR(ParseMultiFidelity(j, &s));
  UNAS_RETURN_IF_ERROR(ParseCostModel(j, &s));
  UNAS_RETURN_IF_ERROR(ParsePruning(j, &s));
  UNAS_RETURN_IF_ERROR(ParseQuantization(j, &s));
  UNAS_RETURN_IF_ERROR(ParseLimitsAndBoard(j, &s));
  UNAS_RETURN_IF_ERROR(ParseObjectives(j, &s));
  UNAS_RETURN_IF_ERROR(ParseSearchRun(j, &s));
  UNAS_RETURN_IF_ERROR(ValidateRecipes(s));
  // The trainer's image augmentation (pixel shifts, horizontal flips) would
  // flip MFCC coefficients; keyword data is augmented as audio.
  if (s.dataset.kind == data::DatasetKind::kSpeechCommands && (s.training.augment.enabled() || s.final.training.augment.enabled())) {
    return Status::Invalid("training.augment: image augmentation does not apply to keyword features; "
                           "use audio.time_shift_ms and audio.background_frequency");
  }
  return s;
}

Result<JobSpec> ParseJobSpecText(const std::string& text) {
  auto j = ParseLimitedJson(text);
  if (!j.ok()) return j.status().WithContext("job");
  return ParseJobSpec(*j);
}

// Every field but "audio", which only a speech_commands job has (so other
// jobs' normalised JSON is unchanged).
static json JobSpecToJsonWithoutAudio(const JobSpec& s);

json JobSpecToJson(const JobSpec& s) {
  json out = JobSpecToJsonWithoutAudio(s);
  if (!s.dataset.sha256.empty()) {
    out["dataset_name"] = s.dataset_name;
    out["dataset_sha256"] = s.dataset.sha256;
  }
  if (s.dataset.kind == data::DatasetKind::kSpeechCommands) out["audio"] = AudioToJson(s.dataset.speech);
  return out;
}

static json JobSpecToJsonWithoutAudio(const JobSpec& s) {
  const worker::TrainConfig& t = s.training;
  const worker::PruneConfig& p = t.prune;
  json rungs = json::array();
  for (const Rung& r : s.rungs) rungs.push_back({{"epochs", r.epochs}, {"subset", r.subset}});
  const data::InputShape& shape = s.dataset.input_shape;
  return {{"name", s.name},
          {"dataset", data::DatasetSpecText(s.dataset)},
          {"input_shape", shape.set() ? json::array({shape.height, shape.width, shape.channels}) : json(nullptr)},
          {"bad_files", s.dataset.bad_files == data::BadFilePolicy::kSkip ? "skip" : "fail"},
          {"training", TrainingToJson(t)},
          {"rungs", std::move(rungs)},
          {"promotion", {{"reduction_factor", s.reduction_factor}}},
          {"final",
           {{"enabled", s.final.enabled},
            {"networks", s.final.networks},
            {"neighbours", s.final.neighbours},
            {"max_train_seconds", s.final.max_train_seconds},
            {"training", TrainingToJson(s.final.training)}}},
          {"accounting", NameIn(kAccountings, s.accounting)},
          {"mcu", s.mcu ? s.mcu->name : std::string()},
          {"board", s.board ? BoardToJson(*s.board) : json(nullptr)},
          {"memory", NameIn(kMemoryModels, s.memory)},
          {"pruning", p.enabled ? json{{"mode", worker::PruneModeName(p.mode)},
                                       {"target", worker::PruneTargetName(p.target)},
                                       {"fraction", p.max_fraction},
                                       {"layer_fraction", p.max_group_fraction},
                                       {"epoch", p.start_epoch},
                                       {"target_bytes", p.target_bytes ? json(*p.target_bytes) : json(nullptr)},
                                       {"target_ratio", p.target_ratio ? json(*p.target_ratio) : json(nullptr)},
                                       {"end_epoch", p.end_epoch},
                                       {"update_steps", p.update_steps}}
                                : json(nullptr)},
          {"quantization",
           {{"enabled", t.quantization.enabled},
            {"calibration_images", t.quantization.calibration_images},
            {"every_rung", s.quantize_every_rung},
            {"error_objective", ErrorObjectiveName(s.error_objective)}}},
          {"bounds", LimitsToJson(s.bounds)},
          {"constraints", LimitsToJson(s.constraints)},
          {"objectives", ObjectiveNames(s)},
          {"strategy", {{"type", StrategyKindName(s.strategy)}, {"population", s.population}, {"sample_size", s.sample_size}}},
          {"budget", {{"trials", s.max_trials}, {"wall_seconds", s.max_wall_seconds}}},
          {"seed", s.seed},
          {"evaluator", worker::EvaluatorKindName(s.evaluator)},
          {"synthetic_delay_ms", s.synthetic_delay_ms}};
}


int RungCount(const JobSpec& spec) { return spec.rungs.empty() ? 1 : static_cast<int>(spec.rungs.size()); }

int SearchEpochs(const JobSpec& spec) { return spec.rungs.empty() ? spec.training.epochs : spec.rungs.back().epochs; }

Status CheckFinalEpochs(const JobSpec& spec, int epochs, const std::string& field, const std::string& omitted) {
  if (epochs <= 0 || epochs >= SearchEpochs(spec)) return Status::Ok();
  const std::string least = std::to_string(SearchEpochs(spec));
  return Status::Invalid(field + ": " + std::to_string(epochs) + " is fewer than the " + least +
                         " the search trained its candidates for; a final round trains from scratch, so it would "
                         "retrain them worse (use at least " + least + ", or leave it out for " + omitted + ")");
}

bool AtChanceLevel(double error, int num_classes) {
  if (num_classes < 2) return false;
  const double chance = 1.0 / static_cast<double>(num_classes);
  return error >= 1.0 - std::min(1.5 * chance, chance + 0.05);
}

worker::TrainConfig RecipeFor(const JobSpec& spec, const TrialStage& stage) {
  worker::TrainConfig c = spec.training;
  const bool quantize = spec.training.quantization.enabled;
  if (stage.final_round > 0) {
    c = spec.final.training;
    c.prune = spec.training.prune;
    c.quantization = spec.training.quantization;
    const int written = c.epochs;
    if (stage.final_epochs > 0 && stage.final_epochs != written) {
      // The schedule's steps move with the length: 25 and 35 of 45 become
      // 11 and 16 of 20; steps that collapse onto an earlier one are dropped.
      std::vector<worker::LrStep> scaled;
      for (worker::LrStep step : c.lr_schedule) {
        step.epoch = static_cast<int>(std::lround(static_cast<double>(step.epoch) * stage.final_epochs / written));
        if (step.epoch >= stage.final_epochs) continue;
        if (!scaled.empty() && step.epoch <= scaled.back().epoch) {
          scaled.back().learning_rate = step.learning_rate;
          continue;
        }
        scaled.push_back(step);
      }
      c.lr_schedule = std::move(scaled);
      c.epochs = stage.final_epochs;
    }
    c.quantization.enabled = quantize;
    return c;
  }
  if (spec.rungs.empty()) return c;
  const int rung = std::clamp(stage.rung, 0, RungCount(spec) - 1);
  c.epochs = spec.rungs[rung].epochs;
  c.subset = spec.rungs[rung].subset;
  c.quantization.enabled = quantize && (spec.quantize_every_rung || rung == RungCount(spec) - 1);
  return c;
}

double ProjectedFinalSeconds(const JobSpec& spec, int rung, const worker::Metrics& metrics, int final_epochs) {
  const double trained_passes = metrics.epochs * RecipeFor(spec, TrialStage{rung, 0, 0}).subset;
  if (metrics.train_seconds <= 0 || trained_passes <= 0) return 0;
  const worker::TrainConfig final = RecipeFor(spec, TrialStage{rung, 1, final_epochs});
  return metrics.train_seconds / trained_passes * final.epochs * final.subset;
}

bool TooSlowForFinal(const JobSpec& spec, int rung, const worker::Metrics& metrics, int final_epochs) {
  return spec.final.max_train_seconds > 0 &&
         ProjectedFinalSeconds(spec, rung, metrics, final_epochs) > spec.final.max_train_seconds;
}

worker::TrialTask TrialTaskFor(const JobSpec& spec, const TrialStage& stage) {
  worker::TrialTask task;
  task.dataset = spec.dataset;
  task.training = RecipeFor(spec, stage);
  task.training.seed = spec.seed;
  task.training.prune.accounting = spec.accounting;
  task.evaluator = spec.evaluator;
  task.synthetic_delay_ms = spec.synthetic_delay_ms;
  task.partial_execution = spec.memory == search::MemoryModel::kPartialExecution;
  return task;
}

double ObjectiveError(const JobSpec& spec, const worker::Metrics& metrics) {
  if (spec.error_objective == ErrorObjective::kInt8 && metrics.int8_val_error) return *metrics.int8_val_error;
  return metrics.val_error;
}

Result<InputSpec> DatasetInput(const data::DatasetSpec& dataset) {
  UNAS_ASSIGN_OR_RETURN(data::DatasetShape shape, data::DescribeDataset(dataset));
  return InputSpec{shape.height, shape.width, shape.channels, shape.num_classes};
}

std::vector<std::string> ObjectiveNames(const JobSpec& spec) {
  std::vector<std::string> names;
  for (search::Objective o : spec.objectives) names.push_back(search::ObjectiveName(o));
  return names;
}

}  // namespace unas::server
