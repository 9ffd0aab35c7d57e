#include "proto/proto_convert.h"

// A field with one name in a project struct and in its proto message is
// listed once, in its message's *_FIELDS list, and the list is read both
// ways: UNAS_TO(x, f) is out->set_f(x.f), UNAS_FROM(x, f) is x.f = p.f()
// (so every ToProto writes to `out` and every FromProto reads `p`); a listed
// name that either side lacks does not compile. Fields that differ in name,
// type or presence are converted by hand beside the list.
#define UNAS_TO(x, f) out->set_##f(x.f);
#define UNAS_FROM(x, f) x.f = p.f();

namespace unas::server {

#define UNAS_COSTS_FIELDS(F, x) F(x, params) F(x, flash_bytes) F(x, macs) F(x, peak_sram_bytes)

void ToProto(const Costs& costs, v1::Costs* out) {
  UNAS_COSTS_FIELDS(UNAS_TO, costs)
  out->set_build_order_peak_sram_bytes(costs.build_order_peak_bytes);
  out->set_latency_ms(costs.latency_ms.value_or(0));
}

Costs FromProto(const v1::Costs& p) {
  Costs costs;
  UNAS_COSTS_FIELDS(UNAS_FROM, costs)
  costs.build_order_peak_bytes = p.build_order_peak_sram_bytes();
  if (p.latency_ms() > 0) costs.latency_ms = p.latency_ms();
  return costs;
}

#define UNAS_METRICS_FIELDS(F, x) \
  F(x, val_error) F(x, test_error) F(x, train_seconds) F(x, samples_per_second) F(x, epochs)

void ToProto(const Metrics& m, v1::Metrics* out) {
  UNAS_METRICS_FIELDS(UNAS_TO, m)
  if (m.int8_val_error) out->set_int8_val_error(*m.int8_val_error);
  if (m.int8_test_error) out->set_int8_test_error(*m.int8_test_error);
  if (m.c_library_flash_bytes) out->set_c_library_flash_bytes(*m.c_library_flash_bytes);
  out->set_c_library_flash_note(m.c_library_flash_note);
}

Metrics FromProto(const v1::Metrics& p) {
  Metrics m;
  UNAS_METRICS_FIELDS(UNAS_FROM, m)
  if (p.has_int8_val_error()) m.int8_val_error = p.int8_val_error();
  if (p.has_int8_test_error()) m.int8_test_error = p.int8_test_error();
  if (p.has_c_library_flash_bytes()) m.c_library_flash_bytes = p.c_library_flash_bytes();
  m.c_library_flash_note = p.c_library_flash_note();
  return m;
}

#define UNAS_DATASET_FIELDS(F, x)                                                                           \
  F(x, name) F(x, sha256) F(x, kind) F(x, entry) F(x, num_classes) F(x, input_height) F(x, input_width)   \
  F(x, input_channels) F(x, file_count) F(x, content_bytes) F(x, pack_bytes) F(x, created_unix_ms)

void ToProto(const DatasetRecord& d, v1::Dataset* out) {
  UNAS_DATASET_FIELDS(UNAS_TO, d)
  for (const std::string& c : d.class_names) out->add_class_names(c);
}

DatasetRecord FromProto(const v1::Dataset& p) {
  DatasetRecord d;
  UNAS_DATASET_FIELDS(UNAS_FROM, d)
  d.class_names.assign(p.class_names().begin(), p.class_names().end());
  return d;
}

#define UNAS_UPLOAD_FIELDS(F, x) F(x, name) F(x, sha256) F(x, kind) F(x, entry) F(x, num_classes) F(x, pack_bytes)

void ToProto(const DatasetUploadHeader& h, v1::UploadDatasetRequest* out) { UNAS_UPLOAD_FIELDS(UNAS_TO, h) }

DatasetUploadHeader FromProto(const v1::UploadDatasetRequest& p) {
  DatasetUploadHeader h;
  UNAS_UPLOAD_FIELDS(UNAS_FROM, h)
  return h;
}

// The job record's fields, then the view's.
#define UNAS_JOB_RECORD_FIELDS(F, x)                                                                           \
  F(x, job_id) F(x, name) F(x, spec_json) F(x, infeasible_rejected) F(x, error) F(x, created_unix_ms)        \
  F(x, finished_unix_ms) F(x, final_round) F(x, final_epochs)
#define UNAS_JOB_VIEW_FIELDS(F, x) F(x, best_val_error) F(x, hypervolume) F(x, finalizing)

void ToProto(const JobView& view, v1::Job* out) {
  const JobRecord& r = view.record;
  UNAS_JOB_RECORD_FIELDS(UNAS_TO, r)
  UNAS_JOB_VIEW_FIELDS(UNAS_TO, view)
  out->set_status(static_cast<v1::JobStatus>(static_cast<int>(r.status)));
  out->set_trials_completed(view.completed);
  out->set_trials_failed(view.failed);
  out->set_trials_running(view.running);
  out->set_trials_budget(view.budget);
  out->set_trials_proposed(view.proposed);
}

JobView FromProto(const v1::Job& p) {
  JobView view;
  JobRecord& r = view.record;
  UNAS_JOB_RECORD_FIELDS(UNAS_FROM, r)
  UNAS_JOB_VIEW_FIELDS(UNAS_FROM, view)
  r.status = static_cast<JobStatus>(static_cast<int>(p.status()));
  view.completed = p.trials_completed();
  view.failed = p.trials_failed();
  view.running = p.trials_running();
  view.budget = p.trials_budget();
  view.proposed = p.trials_proposed();
  return view;
}

#define UNAS_TRIAL_FIELDS(F, x)                                                                                \
  F(x, job_id) F(x, trial_id) F(x, candidate_json) F(x, candidate_hash) F(x, attempts) F(x, progress)           \
  F(x, has_tflite) F(x, worker_id) F(x, error) F(x, created_unix_ms) F(x, started_unix_ms) F(x, finished_unix_ms) \
  F(x, proposal_id) F(x, rung) F(x, promoted_from) F(x, final_round)

void ToProto(const TrialRecord& t, v1::Trial* out) {
  UNAS_TRIAL_FIELDS(UNAS_TO, t)
  out->set_status(static_cast<v1::TrialStatus>(static_cast<int>(t.status)));
  ToProto(t.costs, out->mutable_costs());
  if (t.pruned_costs) {
    out->set_pruned_candidate_json(t.pruned_candidate_json);
    ToProto(*t.pruned_costs, out->mutable_pruned_costs());
  }
  if (t.metrics) ToProto(*t.metrics, out->mutable_metrics());
  if (const auto accuracy = FinalTestAccuracy(t)) out->set_final_test_accuracy(*accuracy);
  if (t.objective_error) out->set_objective_error(*t.objective_error);
}

// final_test_accuracy is derived from the metrics (FinalTestAccuracy): not read back.
TrialRecord FromProto(const v1::Trial& p) {
  TrialRecord t;
  UNAS_TRIAL_FIELDS(UNAS_FROM, t)
  t.status = static_cast<TrialStatus>(static_cast<int>(p.status()));
  t.costs = FromProto(p.costs());
  if (!p.pruned_candidate_json().empty()) {
    t.pruned_candidate_json = p.pruned_candidate_json();
    t.pruned_costs = FromProto(p.pruned_costs());
  }
  if (p.has_metrics()) t.metrics = FromProto(p.metrics());
  if (p.has_objective_error()) t.objective_error = p.objective_error();
  return t;
}

namespace {

struct EventKinds {
  JobEvent::Kind kind;
  v1::JobEvent::Kind proto;
};
constexpr EventKinds kEventKinds[] = {
    {JobEvent::Kind::kTrialStarted, v1::JobEvent::TRIAL_STARTED},
    {JobEvent::Kind::kTrialFinished, v1::JobEvent::TRIAL_FINISHED},
    {JobEvent::Kind::kTrialFailed, v1::JobEvent::TRIAL_FAILED},
    {JobEvent::Kind::kParetoPoint, v1::JobEvent::PARETO_POINT},
    {JobEvent::Kind::kJobDone, v1::JobEvent::JOB_DONE},
};

}  // namespace

void ToProto(const JobEvent& e, v1::JobEvent* out) {
  for (const EventKinds& k : kEventKinds) {
    if (k.kind == e.kind) out->set_kind(k.proto);
  }
  ToProto(e.job, out->mutable_job());
  if (e.trial) ToProto(*e.trial, out->mutable_trial());
}

JobEvent FromProto(const v1::JobEvent& p) {
  JobEvent e;
  for (const EventKinds& k : kEventKinds) {
    if (k.proto == p.kind()) e.kind = k.kind;
  }
  e.job = FromProto(p.job());
  if (p.has_trial()) e.trial = FromProto(p.trial());
  return e;
}

void ToProto(const ParetoView& front, v1::ParetoFront* out) {
  for (const std::string& o : front.objectives) out->add_objectives(o);
  for (const TrialRecord& t : front.trials) ToProto(t, out->add_trials());
  out->set_hypervolume(front.hypervolume);
  out->set_final_round(front.final_round);
  for (const TrialRecord& t : front.final_front) ToProto(t, out->add_final_front());
  out->set_final_hypervolume(front.final_hypervolume);
}

ParetoView FromProto(const v1::ParetoFront& p) {
  ParetoView front;
  front.objectives.assign(p.objectives().begin(), p.objectives().end());
  for (const v1::Trial& t : p.trials()) front.trials.push_back(FromProto(t));
  front.hypervolume = p.hypervolume();
  front.final_round = p.final_round();
  for (const v1::Trial& t : p.final_front()) front.final_front.push_back(FromProto(t));
  front.final_hypervolume = p.final_hypervolume();
  return front;
}

namespace {

// One table per enum pair, read both ways (as base/spelling.h does for names).
template <typename E, typename P>
struct EnumPair {
  E value;
  P proto;
};
template <typename E, typename P, size_t N>
P ToProtoEnum(const EnumPair<E, P> (&pairs)[N], E value) {
  for (const auto& p : pairs) {
    if (p.value == value) return p.proto;
  }
  return P{};  // *_UNSPECIFIED
}
template <typename E, typename P, size_t N>
Result<E> FromProtoEnum(const EnumPair<E, P> (&pairs)[N], P proto, const char* field) {
  for (const auto& p : pairs) {
    if (p.proto == proto) return p.value;
  }
  return Status::Invalid(std::string("trial task: ") + field + " " + std::to_string(static_cast<int>(proto)) +
                         " is not one this worker knows (a newer coordinator?)");
}

constexpr EnumPair<data::DatasetKind, v1::DatasetKind> kDatasetKinds[] = {
    {data::DatasetKind::kFashionMnist, v1::DATASET_FASHION_MNIST},
    {data::DatasetKind::kIdx, v1::DATASET_IDX},
    {data::DatasetKind::kCifar10, v1::DATASET_CIFAR10},
    {data::DatasetKind::kSynthetic, v1::DATASET_SYNTHETIC},
    {data::DatasetKind::kFolder, v1::DATASET_FOLDER},
    {data::DatasetKind::kCsv, v1::DATASET_CSV},
    {data::DatasetKind::kSpeechCommands, v1::DATASET_SPEECH_COMMANDS}};

#define UNAS_SPEECH_FIELDS(F, x)                                                                               \
  F(x, silence_percent) F(x, unknown_percent) F(x, time_shift_ms) F(x, background_frequency)                     \
  F(x, background_volume) F(x, augment_copies) F(x, seed) F(x, window_ms) F(x, stride_ms) F(x, mel_channels)     \
  F(x, lower_hz) F(x, upper_hz) F(x, log_mel) F(x, mfcc_coefficients)

void ToProto(const data::SpeechCommandsSpec& s, v1::SpeechCommandsSpec* out) {
  for (const std::string& w : s.wanted_words) out->add_wanted_words(w);
  UNAS_SPEECH_FIELDS(UNAS_TO, s)
}

Result<data::SpeechCommandsSpec> FromProto(const v1::SpeechCommandsSpec& p) {
  data::SpeechCommandsSpec s;
  s.wanted_words.assign(p.wanted_words().begin(), p.wanted_words().end());
  UNAS_SPEECH_FIELDS(UNAS_FROM, s)
  UNAS_RETURN_IF_ERROR(data::CheckSpeechCommandsSpec(s));
  return s;
}
constexpr EnumPair<worker::Optimizer, v1::Optimizer> kOptimizers[] = {{worker::Optimizer::kSgdw, v1::OPTIMIZER_SGDW},
                                                                      {worker::Optimizer::kAdamW, v1::OPTIMIZER_ADAMW}};
constexpr EnumPair<worker::PruneTarget, v1::PruneTarget> kPruneTargets[] = {
    {worker::PruneTarget::kPeakSram, v1::PRUNE_PEAK_SRAM}, {worker::PruneTarget::kFlash, v1::PRUNE_FLASH}};
constexpr EnumPair<Accounting, v1::Accounting> kAccountings[] = {{Accounting::kUnas, v1::ACCOUNTING_UNAS},
                                                                 {Accounting::kTflm, v1::ACCOUNTING_TFLM},
                                                                 {Accounting::kFirmware, v1::ACCOUNTING_FIRMWARE}};
constexpr EnumPair<worker::EvaluatorKind, v1::EvaluatorKind> kEvaluators[] = {
    {worker::EvaluatorKind::kTrain, v1::EVALUATOR_TRAIN}, {worker::EvaluatorKind::kSynthetic, v1::EVALUATOR_SYNTHETIC}};

// Fields of PruneConfig the proto spells alike; the enums, the mode and the
// optional targets (0: none) by hand.
#define UNAS_PRUNE_FIELDS(F, x)                                                                                \
  F(x, enabled) F(x, max_fraction) F(x, max_group_fraction) F(x, start_epoch) F(x, end_epoch) F(x, update_steps)

void ToProto(const worker::PruneConfig& prune, v1::PruneConfig* out) {
  UNAS_PRUNE_FIELDS(UNAS_TO, prune)
  out->set_target(ToProtoEnum(kPruneTargets, prune.target));
  out->set_target_bytes(prune.target_bytes.value_or(0));
  out->set_accounting(ToProtoEnum(kAccountings, prune.accounting));
  out->set_mode(prune.mode == worker::PruneMode::kDuringTraining ? v1::PRUNE_DURING_TRAINING : v1::PRUNE_ONE_SHOT);
  out->set_target_ratio(prune.target_ratio.value_or(0));
}

// The enums are read only when pruning is on (a disabled config's are unset).
Result<worker::PruneConfig> FromProto(const v1::PruneConfig& p) {
  worker::PruneConfig prune;
  UNAS_PRUNE_FIELDS(UNAS_FROM, prune)
  if (prune.enabled) {
    UNAS_ASSIGN_OR_RETURN(prune.target, FromProtoEnum(kPruneTargets, p.target(), "prune target"));
    UNAS_ASSIGN_OR_RETURN(prune.accounting, FromProtoEnum(kAccountings, p.accounting(), "prune accounting"));
  }
  if (p.target_bytes() > 0) prune.target_bytes = p.target_bytes();
  prune.mode = p.mode() == v1::PRUNE_DURING_TRAINING ? worker::PruneMode::kDuringTraining : worker::PruneMode::kOneShot;
  if (p.target_ratio() > 0) prune.target_ratio = p.target_ratio();
  return prune;
}

#define UNAS_TRAIN_FIELDS(F, x)                                                                                \
  F(x, learning_rate) F(x, momentum) F(x, weight_decay) F(x, dropout) F(x, epochs) F(x, batch_size) F(x, seed)  \
  F(x, threads) F(x, subset)

void ToProto(const worker::TrainConfig& t, v1::TrainConfig* out) {
  UNAS_TRAIN_FIELDS(UNAS_TO, t)
  out->set_optimizer(ToProtoEnum(kOptimizers, t.optimizer));
  for (const worker::LrStep& s : t.lr_schedule) {
    v1::LrStep* step = out->add_lr_schedule();
    step->set_epoch(s.epoch);
    step->set_learning_rate(s.learning_rate);
  }
  out->set_augment_shift_px(t.augment.shift_px);
  out->set_augment_flip(t.augment.flip);
  out->set_augment_noise_sd(t.augment.noise_sd);
  ToProto(t.prune, out->mutable_prune());
  out->set_quantize(t.quantization.enabled);
  out->set_calibration_images(t.quantization.calibration_images);
}

Result<worker::TrainConfig> FromProto(const v1::TrainConfig& p) {
  worker::TrainConfig t;
  UNAS_TRAIN_FIELDS(UNAS_FROM, t)
  UNAS_ASSIGN_OR_RETURN(t.optimizer, FromProtoEnum(kOptimizers, p.optimizer(), "optimizer"));
  for (const v1::LrStep& s : p.lr_schedule()) t.lr_schedule.push_back({s.epoch(), s.learning_rate()});
  t.augment.shift_px = p.augment_shift_px();
  t.augment.flip = p.augment_flip();
  t.augment.noise_sd = p.augment_noise_sd();
  UNAS_ASSIGN_OR_RETURN(t.prune, FromProto(p.prune()));
  t.quantization.enabled = p.quantize();
  t.quantization.calibration_images = p.calibration_images();
  return t;
}

#define UNAS_DATASET_SPEC_FIELDS(F, x) \
  F(x, directory) F(x, num_classes) F(x, synthetic_train) F(x, synthetic_test) F(x, sha256)

void ToProto(const data::DatasetSpec& d, v1::DatasetSpec* out) {
  UNAS_DATASET_SPEC_FIELDS(UNAS_TO, d)
  out->set_kind(ToProtoEnum(kDatasetKinds, d.kind));
  out->set_input_height(d.input_shape.height);
  out->set_input_width(d.input_shape.width);
  out->set_input_channels(d.input_shape.channels);
  out->set_skip_bad_files(d.bad_files == data::BadFilePolicy::kSkip);
  if (d.kind == data::DatasetKind::kSpeechCommands) ToProto(d.speech, out->mutable_speech());
}

Result<data::DatasetSpec> FromProto(const v1::DatasetSpec& p) {
  data::DatasetSpec d;
  UNAS_DATASET_SPEC_FIELDS(UNAS_FROM, d)
  UNAS_ASSIGN_OR_RETURN(d.kind, FromProtoEnum(kDatasetKinds, p.kind(), "data set kind"));
  d.input_shape = data::InputShape{p.input_height(), p.input_width(), p.input_channels()};
  if (d.input_shape.set()) UNAS_RETURN_IF_ERROR(data::ValidateInputShape(d.input_shape));
  d.bad_files = p.skip_bad_files() ? data::BadFilePolicy::kSkip : data::BadFilePolicy::kFail;
  if (d.kind == data::DatasetKind::kSpeechCommands) {
    UNAS_ASSIGN_OR_RETURN(d.speech, FromProto(p.speech()));
  }
  return d;
}

}  // namespace

void ToProto(const worker::TrialTask& task, v1::TrialTask* out) {
  ToProto(task.dataset, out->mutable_dataset());
  ToProto(task.training, out->mutable_training());
  out->set_evaluator(ToProtoEnum(kEvaluators, task.evaluator));
  out->set_synthetic_delay_ms(task.synthetic_delay_ms);
  out->set_partial_execution(task.partial_execution);
}

Result<worker::TrialTask> FromProto(const v1::TrialTask& p) {
  worker::TrialTask task;
  UNAS_ASSIGN_OR_RETURN(task.dataset, FromProto(p.dataset()));
  UNAS_ASSIGN_OR_RETURN(task.training, FromProto(p.training()));
  UNAS_ASSIGN_OR_RETURN(task.evaluator, FromProtoEnum(kEvaluators, p.evaluator(), "evaluator"));
  task.synthetic_delay_ms = p.synthetic_delay_ms();
  task.partial_execution = p.partial_execution();
  return task;
}

#define UNAS_ASSIGNMENT_FIELDS(F, x)                                                                           \
  F(x, job_id) F(x, trial_id) F(x, lease_id) F(x, candidate_json) F(x, attempt) F(x, init_weights) F(x, init_epochs)

void ToProto(const worker::WorkAssignment& a, v1::TrialAssignment* out) {
  UNAS_ASSIGNMENT_FIELDS(UNAS_TO, a)
  ToProto(a.task, out->mutable_task());
}

Result<worker::WorkAssignment> FromProto(const v1::TrialAssignment& p) {
  worker::WorkAssignment a;
  UNAS_ASSIGNMENT_FIELDS(UNAS_FROM, a)
  if (!p.has_task()) return Status::Invalid("trial assignment without a task (an older coordinator?)");
  UNAS_ASSIGN_OR_RETURN(a.task, FromProto(p.task()));
  return a;
}

#define UNAS_RESULT_FIELDS(F, x) F(x, succeeded) F(x, released) F(x, error) F(x, weights) F(x, model_tflite)

void ToProto(const worker::TrialResult& r, v1::CompleteTrialRequest* out) {
  UNAS_RESULT_FIELDS(UNAS_TO, r)
  ToProto(r.metrics, out->mutable_metrics());
  out->set_failure(r.failure == worker::FailureKind::kWorker ? v1::FAILURE_WORKER : v1::FAILURE_TRIAL);
  if (r.pruned_costs) {
    out->set_pruned_candidate_json(r.pruned_candidate_json);
    ToProto(*r.pruned_costs, out->mutable_pruned_costs());
  }
}

worker::TrialResult FromProto(const v1::CompleteTrialRequest& p) {
  worker::TrialResult r;
  UNAS_RESULT_FIELDS(UNAS_FROM, r)
  r.metrics = FromProto(p.metrics());
  // UNSPECIFIED (a worker older than the field) counts as the trial's own failure.
  r.failure = p.failure() == v1::FAILURE_WORKER ? worker::FailureKind::kWorker : worker::FailureKind::kTrial;
  if (!p.pruned_candidate_json().empty()) {
    r.pruned_candidate_json = p.pruned_candidate_json();
    r.pruned_costs = FromProto(p.pruned_costs());
  }
  return r;
}

}  // namespace unas::server
