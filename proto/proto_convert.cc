#include "proto/proto_convert.h"

namespace unas::server {

void ToProto(const Costs& costs, v1::Costs* c) {
  c->set_params(costs.params);
  c->set_flash_bytes(costs.flash_bytes);
  c->set_macs(costs.macs);
  c->set_peak_sram_bytes(costs.peak_sram_bytes);
  c->set_build_order_peak_sram_bytes(costs.build_order_peak_bytes);
  c->set_latency_ms(costs.latency_ms.value_or(0));
}

Costs FromProto(const v1::Costs& c) {
  Costs costs;
  costs.params = c.params();
  costs.flash_bytes = c.flash_bytes();
  costs.macs = c.macs();
  costs.peak_sram_bytes = c.peak_sram_bytes();
  costs.build_order_peak_bytes = c.build_order_peak_sram_bytes();
  if (c.latency_ms() > 0) costs.latency_ms = c.latency_ms();
  return costs;
}

void ToProto(const Metrics& m, v1::Metrics* out) {
  out->set_val_error(m.val_error);
  out->set_test_error(m.test_error);
  out->set_train_seconds(m.train_seconds);
  out->set_samples_per_second(m.samples_per_second);
  out->set_epochs(m.epochs);
  if (m.int8_val_error) out->set_int8_val_error(*m.int8_val_error);
  if (m.int8_test_error) out->set_int8_test_error(*m.int8_test_error);
  if (m.c_library_flash_bytes) out->set_c_library_flash_bytes(*m.c_library_flash_bytes);
  out->set_c_library_flash_note(m.c_library_flash_note);
}

Metrics FromProto(const v1::Metrics& p) {
  Metrics m;
  m.val_error = p.val_error();
  m.test_error = p.test_error();
  m.train_seconds = p.train_seconds();
  m.samples_per_second = p.samples_per_second();
  m.epochs = p.epochs();
  if (p.has_int8_val_error()) m.int8_val_error = p.int8_val_error();
  if (p.has_int8_test_error()) m.int8_test_error = p.int8_test_error();
  if (p.has_c_library_flash_bytes()) m.c_library_flash_bytes = p.c_library_flash_bytes();
  m.c_library_flash_note = p.c_library_flash_note();
  return m;
}

void ToProto(const DatasetRecord& d, v1::Dataset* out) {
  out->set_name(d.name);
  out->set_sha256(d.sha256);
  out->set_kind(d.kind);
  out->set_entry(d.entry);
  out->set_num_classes(d.num_classes);
  for (const std::string& c : d.class_names) out->add_class_names(c);
  out->set_input_height(d.input_height);
  out->set_input_width(d.input_width);
  out->set_input_channels(d.input_channels);
  out->set_file_count(d.file_count);
  out->set_content_bytes(d.content_bytes);
  out->set_pack_bytes(d.pack_bytes);
  out->set_created_unix_ms(d.created_unix_ms);
}

DatasetRecord FromProto(const v1::Dataset& p) {
  DatasetRecord d;
  d.name = p.name();
  d.sha256 = p.sha256();
  d.kind = p.kind();
  d.entry = p.entry();
  d.num_classes = p.num_classes();
  d.class_names.assign(p.class_names().begin(), p.class_names().end());
  d.input_height = p.input_height();
  d.input_width = p.input_width();
  d.input_channels = p.input_channels();
  d.file_count = p.file_count();
  d.content_bytes = p.content_bytes();
  d.pack_bytes = p.pack_bytes();
  d.created_unix_ms = p.created_unix_ms();
  return d;
}

void ToProto(const DatasetUploadHeader& h, v1::UploadDatasetRequest* out) {
  out->set_name(h.name);
  out->set_sha256(h.sha256);
  out->set_kind(h.kind);
  out->set_entry(h.entry);
  out->set_num_classes(h.num_classes);
  out->set_pack_bytes(h.pack_bytes);
}

DatasetUploadHeader FromProto(const v1::UploadDatasetRequest& p) {
  DatasetUploadHeader h;
  h.name = p.name();
  h.sha256 = p.sha256();
  h.kind = p.kind();
  h.entry = p.entry();
  h.num_classes = p.num_classes();
  h.pack_bytes = p.pack_bytes();
  return h;
}

void ToProto(const JobView& view, v1::Job* out) {
  const JobRecord& r = view.record;
  out->set_job_id(r.job_id);
  out->set_name(r.name);
  out->set_status(static_cast<v1::JobStatus>(static_cast<int>(r.status)));
  out->set_spec_json(r.spec_json);
  out->set_trials_completed(view.completed);
  out->set_trials_failed(view.failed);
  out->set_trials_running(view.running);
  out->set_trials_budget(view.budget);
  out->set_trials_proposed(view.proposed);
  out->set_infeasible_rejected(r.infeasible_rejected);
  out->set_best_val_error(view.best_val_error);
  out->set_hypervolume(view.hypervolume);
  out->set_error(r.error);
  out->set_created_unix_ms(r.created_unix_ms);
  out->set_finished_unix_ms(r.finished_unix_ms);
  out->set_final_round(r.final_round);
  out->set_final_epochs(r.final_epochs);
  out->set_finalizing(view.finalizing);
}

JobView FromProto(const v1::Job& p) {
  JobView view;
  JobRecord& r = view.record;
  r.job_id = p.job_id();
  r.name = p.name();
  r.status = static_cast<JobStatus>(static_cast<int>(p.status()));
  r.spec_json = p.spec_json();
  view.completed = p.trials_completed();
  view.failed = p.trials_failed();
  view.running = p.trials_running();
  view.budget = p.trials_budget();
  view.proposed = p.trials_proposed();
  r.infeasible_rejected = p.infeasible_rejected();
  view.best_val_error = p.best_val_error();
  view.hypervolume = p.hypervolume();
  r.error = p.error();
  r.created_unix_ms = p.created_unix_ms();
  r.finished_unix_ms = p.finished_unix_ms();
  r.final_round = p.final_round();
  r.final_epochs = p.final_epochs();
  view.finalizing = p.finalizing();
  return view;
}

void ToProto(const TrialRecord& t, v1::Trial* out) {
  out->set_job_id(t.job_id);
  out->set_trial_id(t.trial_id);
  out->set_status(static_cast<v1::TrialStatus>(static_cast<int>(t.status)));
  out->set_candidate_json(t.candidate_json);
  out->set_candidate_hash(t.candidate_hash);
  ToProto(t.costs, out->mutable_costs());
  if (t.pruned_costs) {
    out->set_pruned_candidate_json(t.pruned_candidate_json);
    ToProto(*t.pruned_costs, out->mutable_pruned_costs());
  }
  if (t.metrics) ToProto(*t.metrics, out->mutable_metrics());
  out->set_attempts(t.attempts);
  out->set_progress(t.progress);
  out->set_has_tflite(t.has_tflite);
  out->set_worker_id(t.worker_id);
  out->set_error(t.error);
  out->set_created_unix_ms(t.created_unix_ms);
  out->set_started_unix_ms(t.started_unix_ms);
  out->set_finished_unix_ms(t.finished_unix_ms);
  out->set_proposal_id(t.proposal_id);
  out->set_rung(t.rung);
  out->set_promoted_from(t.promoted_from);
  out->set_final_round(t.final_round);
  if (const auto accuracy = FinalTestAccuracy(t)) out->set_final_test_accuracy(*accuracy);
  if (t.objective_error) out->set_objective_error(*t.objective_error);
}

// final_test_accuracy is derived from the metrics (FinalTestAccuracy): not read back.
TrialRecord FromProto(const v1::Trial& p) {
  TrialRecord t;
  t.job_id = p.job_id();
  t.trial_id = p.trial_id();
  t.status = static_cast<TrialStatus>(static_cast<int>(p.status()));
  t.candidate_json = p.candidate_json();
  t.candidate_hash = p.candidate_hash();
  t.costs = FromProto(p.costs());
  if (!p.pruned_candidate_json().empty()) {
    t.pruned_candidate_json = p.pruned_candidate_json();
    t.pruned_costs = FromProto(p.pruned_costs());
  }
  if (p.has_metrics()) t.metrics = FromProto(p.metrics());
  if (p.has_objective_error()) t.objective_error = p.objective_error();
  t.attempts = p.attempts();
  t.progress = p.progress();
  t.has_tflite = p.has_tflite();
  t.worker_id = p.worker_id();
  t.error = p.error();
  t.created_unix_ms = p.created_unix_ms();
  t.started_unix_ms = p.started_unix_ms();
  t.finished_unix_ms = p.finished_unix_ms();
  t.proposal_id = p.proposal_id();
  t.rung = p.rung();
  t.promoted_from = p.promoted_from();
  t.final_round = p.final_round();
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

void ToProto(const data::SpeechCommandsSpec& s, v1::SpeechCommandsSpec* out) {
  for (const std::string& w : s.wanted_words) out->add_wanted_words(w);
  out->set_silence_percent(s.silence_percent);
  out->set_unknown_percent(s.unknown_percent);
  out->set_time_shift_ms(s.time_shift_ms);
  out->set_background_frequency(s.background_frequency);
  out->set_background_volume(s.background_volume);
  out->set_augment_copies(s.augment_copies);
  out->set_seed(s.seed);
  out->set_window_ms(s.window_ms);
  out->set_stride_ms(s.stride_ms);
  out->set_mel_channels(s.mel_channels);
  out->set_lower_hz(s.lower_hz);
  out->set_upper_hz(s.upper_hz);
  out->set_log_mel(s.log_mel);
  out->set_mfcc_coefficients(s.mfcc_coefficients);
}

Result<data::SpeechCommandsSpec> FromProto(const v1::SpeechCommandsSpec& p) {
  data::SpeechCommandsSpec s;
  s.wanted_words.assign(p.wanted_words().begin(), p.wanted_words().end());
  s.silence_percent = p.silence_percent();
  s.unknown_percent = p.unknown_percent();
  s.time_shift_ms = p.time_shift_ms();
  s.background_frequency = p.background_frequency();
  s.background_volume = p.background_volume();
  s.augment_copies = p.augment_copies();
  s.seed = p.seed();
  s.window_ms = p.window_ms();
  s.stride_ms = p.stride_ms();
  s.mel_channels = p.mel_channels();
  s.lower_hz = p.lower_hz();
  s.upper_hz = p.upper_hz();
  s.log_mel = p.log_mel();
  s.mfcc_coefficients = p.mfcc_coefficients();
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

void ToProto(const worker::TrainConfig& t, v1::TrainConfig* out) {
  out->set_optimizer(ToProtoEnum(kOptimizers, t.optimizer));
  out->set_learning_rate(t.learning_rate);
  for (const worker::LrStep& s : t.lr_schedule) {
    v1::LrStep* step = out->add_lr_schedule();
    step->set_epoch(s.epoch);
    step->set_learning_rate(s.learning_rate);
  }
  out->set_momentum(t.momentum);
  out->set_weight_decay(t.weight_decay);
  out->set_dropout(t.dropout);
  out->set_epochs(t.epochs);
  out->set_batch_size(t.batch_size);
  out->set_seed(t.seed);
  out->set_threads(t.threads);
  out->set_subset(t.subset);
  out->set_augment_shift_px(t.augment.shift_px);
  out->set_augment_flip(t.augment.flip);
  out->set_augment_noise_sd(t.augment.noise_sd);
  v1::PruneConfig* p = out->mutable_prune();
  p->set_enabled(t.prune.enabled);
  p->set_target(ToProtoEnum(kPruneTargets, t.prune.target));
  p->set_max_fraction(t.prune.max_fraction);
  p->set_max_group_fraction(t.prune.max_group_fraction);
  p->set_start_epoch(t.prune.start_epoch);
  p->set_target_bytes(t.prune.target_bytes.value_or(0));
  p->set_accounting(ToProtoEnum(kAccountings, t.prune.accounting));
  p->set_mode(t.prune.mode == worker::PruneMode::kDuringTraining ? v1::PRUNE_DURING_TRAINING : v1::PRUNE_ONE_SHOT);
  p->set_target_ratio(t.prune.target_ratio.value_or(0));
  p->set_end_epoch(t.prune.end_epoch);
  p->set_update_steps(t.prune.update_steps);
  out->set_quantize(t.quantization.enabled);
  out->set_calibration_images(t.quantization.calibration_images);
}

Result<worker::TrainConfig> FromProto(const v1::TrainConfig& p) {
  worker::TrainConfig t;
  UNAS_ASSIGN_OR_RETURN(t.optimizer, FromProtoEnum(kOptimizers, p.optimizer(), "optimizer"));
  t.learning_rate = p.learning_rate();
  for (const v1::LrStep& s : p.lr_schedule()) t.lr_schedule.push_back({s.epoch(), s.learning_rate()});
  t.momentum = p.momentum();
  t.weight_decay = p.weight_decay();
  t.dropout = p.dropout();
  t.epochs = p.epochs();
  t.batch_size = p.batch_size();
  t.seed = p.seed();
  t.threads = p.threads();
  t.subset = p.subset();
  t.augment.shift_px = p.augment_shift_px();
  t.augment.flip = p.augment_flip();
  t.augment.noise_sd = p.augment_noise_sd();
  const v1::PruneConfig& pr = p.prune();
  t.prune.enabled = pr.enabled();
  if (t.prune.enabled) {
    UNAS_ASSIGN_OR_RETURN(t.prune.target, FromProtoEnum(kPruneTargets, pr.target(), "prune target"));
    UNAS_ASSIGN_OR_RETURN(t.prune.accounting, FromProtoEnum(kAccountings, pr.accounting(), "prune accounting"));
  }
  t.prune.max_fraction = pr.max_fraction();
  t.prune.max_group_fraction = pr.max_group_fraction();
  t.prune.start_epoch = pr.start_epoch();
  if (pr.target_bytes() > 0) t.prune.target_bytes = pr.target_bytes();
  t.prune.mode = pr.mode() == v1::PRUNE_DURING_TRAINING ? worker::PruneMode::kDuringTraining : worker::PruneMode::kOneShot;
  if (pr.target_ratio() > 0) t.prune.target_ratio = pr.target_ratio();
  t.prune.end_epoch = pr.end_epoch();
  t.prune.update_steps = pr.update_steps();
  t.quantization.enabled = p.quantize();
  t.quantization.calibration_images = p.calibration_images();
  return t;
}

}  // namespace

void ToProto(const worker::TrialTask& task, v1::TrialTask* out) {
  v1::DatasetSpec* d = out->mutable_dataset();
  d->set_kind(ToProtoEnum(kDatasetKinds, task.dataset.kind));
  d->set_directory(task.dataset.directory);
  d->set_num_classes(task.dataset.num_classes);
  d->set_synthetic_train(task.dataset.synthetic_train);
  d->set_synthetic_test(task.dataset.synthetic_test);
  d->set_input_height(task.dataset.input_shape.height);
  d->set_input_width(task.dataset.input_shape.width);
  d->set_input_channels(task.dataset.input_shape.channels);
  d->set_skip_bad_files(task.dataset.bad_files == data::BadFilePolicy::kSkip);
  d->set_sha256(task.dataset.sha256);
  if (task.dataset.kind == data::DatasetKind::kSpeechCommands) ToProto(task.dataset.speech, d->mutable_speech());
  ToProto(task.training, out->mutable_training());
  out->set_evaluator(ToProtoEnum(kEvaluators, task.evaluator));
  out->set_synthetic_delay_ms(task.synthetic_delay_ms);
  out->set_partial_execution(task.partial_execution);
}

Result<worker::TrialTask> FromProto(const v1::TrialTask& p) {
  worker::TrialTask task;
  const v1::DatasetSpec& d = p.dataset();
  UNAS_ASSIGN_OR_RETURN(task.dataset.kind, FromProtoEnum(kDatasetKinds, d.kind(), "data set kind"));
  task.dataset.directory = d.directory();
  task.dataset.num_classes = d.num_classes();
  task.dataset.synthetic_train = d.synthetic_train();
  task.dataset.synthetic_test = d.synthetic_test();
  task.dataset.input_shape = data::InputShape{d.input_height(), d.input_width(), d.input_channels()};
  if (task.dataset.input_shape.set()) UNAS_RETURN_IF_ERROR(data::ValidateInputShape(task.dataset.input_shape));
  task.dataset.bad_files = d.skip_bad_files() ? data::BadFilePolicy::kSkip : data::BadFilePolicy::kFail;
  task.dataset.sha256 = d.sha256();
  if (task.dataset.kind == data::DatasetKind::kSpeechCommands) {
    UNAS_ASSIGN_OR_RETURN(task.dataset.speech, FromProto(d.speech()));
  }
  UNAS_ASSIGN_OR_RETURN(task.training, FromProto(p.training()));
  UNAS_ASSIGN_OR_RETURN(task.evaluator, FromProtoEnum(kEvaluators, p.evaluator(), "evaluator"));
  task.synthetic_delay_ms = p.synthetic_delay_ms();
  task.partial_execution = p.partial_execution();
  return task;
}

void ToProto(const worker::WorkAssignment& a, v1::TrialAssignment* out) {
  out->set_job_id(a.job_id);
  out->set_trial_id(a.trial_id);
  out->set_lease_id(a.lease_id);
  out->set_candidate_json(a.candidate_json);
  ToProto(a.task, out->mutable_task());
  out->set_attempt(a.attempt);
  out->set_init_weights(a.init_weights);
  out->set_init_epochs(a.init_epochs);
}

Result<worker::WorkAssignment> FromProto(const v1::TrialAssignment& p) {
  worker::WorkAssignment a;
  a.job_id = p.job_id();
  a.trial_id = p.trial_id();
  a.lease_id = p.lease_id();
  a.candidate_json = p.candidate_json();
  if (!p.has_task()) return Status::Invalid("trial assignment without a task (an older coordinator?)");
  UNAS_ASSIGN_OR_RETURN(a.task, FromProto(p.task()));
  a.attempt = p.attempt();
  a.init_weights = p.init_weights();
  a.init_epochs = p.init_epochs();
  return a;
}

void ToProto(const worker::TrialResult& r, v1::CompleteTrialRequest* out) {
  out->set_succeeded(r.succeeded);
  out->set_released(r.released);
  ToProto(r.metrics, out->mutable_metrics());
  out->set_error(r.error);
  out->set_failure(r.failure == worker::FailureKind::kWorker ? v1::FAILURE_WORKER : v1::FAILURE_TRIAL);
  out->set_weights(r.weights);
  out->set_model_tflite(r.model_tflite);
  if (r.pruned_costs) {
    out->set_pruned_candidate_json(r.pruned_candidate_json);
    ToProto(*r.pruned_costs, out->mutable_pruned_costs());
  }
}

worker::TrialResult FromProto(const v1::CompleteTrialRequest& p) {
  worker::TrialResult r;
  r.succeeded = p.succeeded();
  r.released = p.released();
  r.metrics = FromProto(p.metrics());
  r.error = p.error();
  // UNSPECIFIED (a worker older than the field) counts as the trial's own failure.
  r.failure = p.failure() == v1::FAILURE_WORKER ? worker::FailureKind::kWorker : worker::FailureKind::kTrial;
  r.weights = p.weights();
  r.model_tflite = p.model_tflite();
  if (!p.pruned_candidate_json().empty()) {
    r.pruned_candidate_json = p.pruned_candidate_json();
    r.pruned_costs = FromProto(p.pruned_costs());
  }
  return r;
}

}  // namespace unas::server
