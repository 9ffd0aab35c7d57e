#include "server/job_spec.h"

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

namespace unas::server {
namespace {

using nlohmann::json;

Status CheckKeys(const json& j, const std::set<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) return Status::Invalid(where + ": expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      const std::string path = where.empty() ? it.key() : where + "." + it.key();
      return Status::Invalid(path + ": unknown field (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

std::string Path(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

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
    return Status::OutOfRange(Path(where, key) + ": " + std::to_string(v) + " is outside " + std::to_string(lo) +
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

Status GetLimits(const json& j, const std::string& where, LimitsSpec* limits) {
  if (j.is_null()) return Status::Ok();
  UNAS_RETURN_IF_ERROR(CheckKeys(j, {"val_error", "peak_sram_bytes", "flash_bytes", "macs", "latency_ms"}, where));
  struct Field {
    const char* key;
    std::optional<double>* value;
    double hi;
  } fields[] = {{"val_error", &limits->val_error, 1.0},
                {"peak_sram_bytes", &limits->peak_sram_bytes, 1e12},
                {"flash_bytes", &limits->flash_bytes, 1e12},
                {"macs", &limits->macs, 1e15},
                {"latency_ms", &limits->latency_ms, 1e9}};
  for (const Field& f : fields) {
    auto it = j.find(f.key);
    if (it == j.end() || it->is_null()) continue;
    double v = 0;
    UNAS_RETURN_IF_ERROR(GetNumber(j, where, f.key, 0, f.hi, &v));
    if (v <= 0) return Status::OutOfRange(Path(where, f.key) + ": must be positive");
    *f.value = v;
  }
  return Status::Ok();
}

json LimitsToJson(const LimitsSpec& l) {
  json j = json::object();
  auto put = [&](const char* key, const std::optional<double>& v) {
    if (v) j[key] = *v;
  };
  put("val_error", l.val_error);
  put("peak_sram_bytes", l.peak_sram_bytes);
  put("flash_bytes", l.flash_bytes);
  put("macs", l.macs);
  put("latency_ms", l.latency_ms);
  return j;
}

}  // namespace

const char* StrategyKindName(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::kAging: return "aging";
    case StrategyKind::kBayesian: return "bo";
    case StrategyKind::kRandom: return "random";
  }
  return "?";
}

Result<JobSpec> ParseJobSpec(const json& j) {
  if (!j.is_object()) return Status::Invalid("job: expected a JSON object");
  UNAS_RETURN_IF_ERROR(CheckKeys(j,
                                 {"name", "dataset", "training", "accounting", "mcu", "memory", "pruning", "bounds", "constraints",
                                  "objectives", "strategy", "budget", "seed", "evaluator", "synthetic_delay_ms"},
                                 ""));
  JobSpec s;
  UNAS_RETURN_IF_ERROR(GetString(j, "", "name", &s.name));
  if (s.name.empty() || s.name.size() > 100) return Status::Invalid("name: must be 1 to 100 characters");
  UNAS_RETURN_IF_ERROR(GetString(j, "", "dataset", &s.dataset));
  const bool known_dataset = s.dataset == "fashion-mnist" || s.dataset == "synthetic" ||
                             s.dataset.rfind("idx:", 0) == 0 || s.dataset.rfind("cifar10:", 0) == 0;
  if (!known_dataset) {
    return Status::Invalid("dataset: '" + s.dataset +
                           "' is not one of fashion-mnist, synthetic, idx:DIR[:CLASSES], cifar10:DIR");
  }
  if (auto t = j.find("training"); t != j.end()) {
    UNAS_RETURN_IF_ERROR(CheckKeys(*t,
                                   {"epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule", "momentum",
                                    "weight_decay", "dropout", "subset", "augment", "threads"},
                                   "training"));
    TrainingSpec& tr = s.training;
    UNAS_RETURN_IF_ERROR(GetInt(*t, "training", "epochs", 1, 1000, &tr.epochs));
    UNAS_RETURN_IF_ERROR(GetInt(*t, "training", "batch_size", 1, 65536, &tr.batch_size));
    UNAS_RETURN_IF_ERROR(GetString(*t, "training", "optimizer", &tr.optimizer));
    if (tr.optimizer != "sgdw" && tr.optimizer != "adamw") {
      return Status::Invalid("training.optimizer: '" + tr.optimizer + "' is not one of sgdw, adamw");
    }
    UNAS_RETURN_IF_ERROR(GetNumber(*t, "training", "learning_rate", 1e-9, 10, &tr.learning_rate));
    UNAS_RETURN_IF_ERROR(GetNumber(*t, "training", "momentum", 0, 0.9999, &tr.momentum));
    UNAS_RETURN_IF_ERROR(GetNumber(*t, "training", "weight_decay", 0, 1, &tr.weight_decay));
    UNAS_RETURN_IF_ERROR(GetNumber(*t, "training", "dropout", 0, 0.95, &tr.dropout));
    UNAS_RETURN_IF_ERROR(GetNumber(*t, "training", "subset", 1e-4, 1, &tr.subset));
    UNAS_RETURN_IF_ERROR(GetInt(*t, "training", "threads", 1, 256, &tr.threads));
    if (auto a = t->find("augment"); a != t->end()) {
      if (!a->is_boolean()) return Status::Invalid("training.augment: expected true or false");
      tr.augment = a->get<bool>();
    }
    if (auto sched = t->find("lr_schedule"); sched != t->end()) {
      if (!sched->is_array()) return Status::Invalid("training.lr_schedule: expected [[epoch, lr], ...]");
      int previous = -1;
      for (size_t i = 0; i < sched->size(); ++i) {
        const json& step = (*sched)[i];
        const std::string where = "training.lr_schedule[" + std::to_string(i) + "]";
        if (!step.is_array() || step.size() != 2 || !step[0].is_number_integer() || !step[1].is_number()) {
          return Status::Invalid(where + ": expected [epoch, learning_rate]");
        }
        LrStepSpec ls{step[0].get<int>(), step[1].get<double>()};
        if (ls.epoch <= previous || ls.epoch < 0) return Status::Invalid(where + ": epochs must increase");
        if (!(ls.learning_rate > 0 && ls.learning_rate <= 10)) {
          return Status::OutOfRange(where + ": learning rate must be in (0, 10]");
        }
        previous = ls.epoch;
        tr.lr_schedule.push_back(ls);
      }
    }
  }
  UNAS_RETURN_IF_ERROR(GetString(j, "", "accounting", &s.accounting));
  if (s.accounting != "tflm" && s.accounting != "unas" && s.accounting != "firmware") {
    return Status::Invalid("accounting: '" + s.accounting + "' is not one of tflm, unas, firmware");
  }
  UNAS_RETURN_IF_ERROR(GetString(j, "", "mcu", &s.mcu));
  UNAS_RETURN_IF_ERROR(GetString(j, "", "memory", &s.memory));
  if (s.memory != "whole" && s.memory != "partial_execution") {
    return Status::Invalid("memory: '" + s.memory + "' is not one of whole, partial_execution");
  }
  // TFLM runs whole operators only: a Pex peak would bound memory TFLM never
  // gets, so the job must name the runtime that slices (docs/cost-model.md).
  if (s.memory == "partial_execution" && s.accounting == "tflm") {
    return Status::Invalid("memory: partial_execution needs accounting 'firmware' (or 'unas'): "
                           "TFLM runs whole operators only");
  }
  if (auto p = j.find("pruning"); p != j.end() && !p->is_null()) {
    UNAS_RETURN_IF_ERROR(CheckKeys(*p, {"target", "fraction", "layer_fraction", "epoch", "target_bytes"}, "pruning"));
    PruningSpec pr;
    UNAS_RETURN_IF_ERROR(GetString(*p, "pruning", "target", &pr.target));
    if (pr.target != "peak_sram" && pr.target != "flash") {
      return Status::Invalid("pruning.target: '" + pr.target + "' is not one of peak_sram, flash");
    }
    UNAS_RETURN_IF_ERROR(GetNumber(*p, "pruning", "fraction", 0.001, 0.99, &pr.fraction));
    UNAS_RETURN_IF_ERROR(GetNumber(*p, "pruning", "layer_fraction", 0.001, 1, &pr.layer_fraction));
    UNAS_RETURN_IF_ERROR(GetInt(*p, "pruning", "epoch", -1, 999, &pr.epoch));
    if (auto tb = p->find("target_bytes"); tb != p->end() && !tb->is_null()) {
      double bytes = 0;
      UNAS_RETURN_IF_ERROR(GetNumber(*p, "pruning", "target_bytes", 1, 1e12, &bytes));
      pr.target_bytes = static_cast<int64_t>(bytes);
    }
    if (s.training.epochs < 2) {
      return Status::Invalid("pruning: needs training.epochs >= 2 (train, prune, then fine-tune)");
    }
    const int at = pr.epoch < 0 ? s.training.epochs - 1 : pr.epoch;
    if (at < 1 || at >= s.training.epochs) {
      return Status::OutOfRange("pruning.epoch: must leave at least one epoch before and one after (1.." +
                                std::to_string(s.training.epochs - 1) + ")");
    }
    s.pruning = pr;
  }
  if (auto b = j.find("bounds"); b != j.end()) UNAS_RETURN_IF_ERROR(GetLimits(*b, "bounds", &s.bounds));
  if (auto c = j.find("constraints"); c != j.end()) {
    UNAS_RETURN_IF_ERROR(GetLimits(*c, "constraints", &s.constraints));
    if (s.constraints.val_error) {
      return Status::Invalid("constraints.val_error: error is only known after training; use bounds.val_error");
    }
  }
  if ((s.bounds.latency_ms || s.constraints.latency_ms) && s.mcu.empty()) {
    return Status::Invalid("mcu: a latency bound or constraint needs an MCU profile");
  }
  if (auto o = j.find("objectives"); o != j.end()) {
    if (!o->is_array() || o->empty()) return Status::Invalid("objectives: expected a non-empty array of names");
    s.objectives.clear();
    for (const json& name : *o) {
      static const std::set<std::string> known = {"error", "peak_sram", "flash", "macs", "latency"};
      if (!name.is_string() || !known.count(name.get<std::string>())) {
        return Status::Invalid("objectives: " + name.dump() + " is not one of error, peak_sram, flash, macs, latency");
      }
      s.objectives.push_back(name.get<std::string>());
    }
    for (const auto& name : s.objectives) {
      if (name == "latency" && s.mcu.empty()) return Status::Invalid("objectives: latency needs an mcu");
    }
  }
  if (auto st = j.find("strategy"); st != j.end()) {
    const json strategy = st->is_string() ? json{{"type", *st}} : *st;
    UNAS_RETURN_IF_ERROR(CheckKeys(strategy, {"type", "population", "sample_size"}, "strategy"));
    std::string type = "aging";
    UNAS_RETURN_IF_ERROR(GetString(strategy, "strategy", "type", &type));
    if (type == "aging") {
      s.strategy = StrategyKind::kAging;
    } else if (type == "bo") {
      s.strategy = StrategyKind::kBayesian;
    } else if (type == "random") {
      s.strategy = StrategyKind::kRandom;
    } else {
      return Status::Invalid("strategy.type: '" + type + "' is not one of aging, bo, random");
    }
    UNAS_RETURN_IF_ERROR(GetInt(strategy, "strategy", "population", 2, 100000, &s.population));
    UNAS_RETURN_IF_ERROR(GetInt(strategy, "strategy", "sample_size", 1, 100000, &s.sample_size));
  }
  if (auto b = j.find("budget"); b != j.end()) {
    UNAS_RETURN_IF_ERROR(CheckKeys(*b, {"trials", "wall_seconds"}, "budget"));
    UNAS_RETURN_IF_ERROR(GetInt(*b, "budget", "trials", 1, 1000000, &s.max_trials));
    UNAS_RETURN_IF_ERROR(GetNumber(*b, "budget", "wall_seconds", 0, 1e8, &s.max_wall_seconds));
  }
  if (auto seed = j.find("seed"); seed != j.end()) {
    if (!seed->is_number_unsigned() && !(seed->is_number_integer() && seed->get<long long>() >= 0)) {
      return Status::Invalid("seed: expected a non-negative integer");
    }
    s.seed = seed->get<uint64_t>();
  }
  std::string evaluator = "train";
  UNAS_RETURN_IF_ERROR(GetString(j, "", "evaluator", &evaluator));
  if (evaluator == "train") {
    s.evaluator = EvaluatorKind::kTrain;
  } else if (evaluator == "synthetic") {
    s.evaluator = EvaluatorKind::kSynthetic;
  } else {
    return Status::Invalid("evaluator: '" + evaluator + "' is not one of train, synthetic");
  }
  UNAS_RETURN_IF_ERROR(GetInt(j, "", "synthetic_delay_ms", 0, 600000, &s.synthetic_delay_ms));
  if (s.synthetic_delay_ms > 0 && s.evaluator != EvaluatorKind::kSynthetic) {
    return Status::Invalid("synthetic_delay_ms: only applies to the synthetic evaluator");
  }
  return s;
}

Result<JobSpec> ParseJobSpecText(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid("job: not valid JSON");
  return ParseJobSpec(j);
}

json JobSpecToJson(const JobSpec& s) {
  json schedule = json::array();
  for (const LrStepSpec& step : s.training.lr_schedule) schedule.push_back({step.epoch, step.learning_rate});
  const TrainingSpec& t = s.training;
  return {{"name", s.name},
          {"dataset", s.dataset},
          {"training",
           {{"epochs", t.epochs},
            {"batch_size", t.batch_size},
            {"optimizer", t.optimizer},
            {"learning_rate", t.learning_rate},
            {"lr_schedule", schedule},
            {"momentum", t.momentum},
            {"weight_decay", t.weight_decay},
            {"dropout", t.dropout},
            {"subset", t.subset},
            {"augment", t.augment},
            {"threads", t.threads}}},
          {"accounting", s.accounting},
          {"mcu", s.mcu},
          {"memory", s.memory},
          {"pruning", s.pruning ? json{{"target", s.pruning->target},
                                       {"fraction", s.pruning->fraction},
                                       {"layer_fraction", s.pruning->layer_fraction},
                                       {"epoch", s.pruning->epoch},
                                       {"target_bytes", s.pruning->target_bytes ? json(*s.pruning->target_bytes)
                                                                               : json(nullptr)}}
                                : json(nullptr)},
          {"bounds", LimitsToJson(s.bounds)},
          {"constraints", LimitsToJson(s.constraints)},
          {"objectives", s.objectives},
          {"strategy", {{"type", StrategyKindName(s.strategy)}, {"population", s.population}, {"sample_size", s.sample_size}}},
          {"budget", {{"trials", s.max_trials}, {"wall_seconds", s.max_wall_seconds}}},
          {"seed", s.seed},
          {"evaluator", s.evaluator == EvaluatorKind::kTrain ? "train" : "synthetic"},
          {"synthetic_delay_ms", s.synthetic_delay_ms}};
}

}  // namespace unas::server
