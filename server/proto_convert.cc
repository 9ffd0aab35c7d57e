#include "server/proto_convert.h"

namespace unas::server {

void ToProto(const Metrics& m, v1::Metrics* out) {
  out->set_val_error(m.val_error);
  out->set_test_error(m.test_error);
  out->set_train_seconds(m.train_seconds);
  out->set_samples_per_second(m.samples_per_second);
  out->set_epochs(m.epochs);
}

Metrics FromProto(const v1::Metrics& m) {
  return {m.val_error(), m.test_error(), m.train_seconds(), m.samples_per_second(), m.epochs()};
}

void ToProto(const Costs& costs, v1::Costs* c) {
  c->set_params(costs.params);
  c->set_flash_bytes(costs.flash_bytes);
  c->set_macs(costs.macs);
  c->set_peak_sram_bytes(costs.peak_sram_bytes);
  c->set_build_order_peak_sram_bytes(costs.build_order_peak_sram_bytes);
  c->set_latency_ms(costs.latency_ms);
}

Costs FromProto(const v1::Costs& c) {
  return {c.params(), c.flash_bytes(), c.macs(), c.peak_sram_bytes(), c.build_order_peak_sram_bytes(), c.latency_ms()};
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
  out->set_infeasible_rejected(r.infeasible_rejected);
  out->set_best_val_error(view.best_val_error);
  out->set_hypervolume(view.hypervolume);
  out->set_error(r.error);
  out->set_created_unix_ms(r.created_unix_ms);
  out->set_finished_unix_ms(r.finished_unix_ms);
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
  out->set_worker_id(t.worker_id);
  out->set_error(t.error);
  out->set_created_unix_ms(t.created_unix_ms);
  out->set_started_unix_ms(t.started_unix_ms);
  out->set_finished_unix_ms(t.finished_unix_ms);
  out->set_reused(t.reused);
}

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
  t.attempts = p.attempts();
  t.worker_id = p.worker_id();
  t.error = p.error();
  t.created_unix_ms = p.created_unix_ms();
  t.started_unix_ms = p.started_unix_ms();
  t.finished_unix_ms = p.finished_unix_ms();
  t.reused = p.reused();
  return t;
}

void ToProto(const JobEvent& e, v1::JobEvent* out) {
  switch (e.kind) {
    case JobEvent::Kind::kTrialStarted: out->set_kind(v1::JobEvent::TRIAL_STARTED); break;
    case JobEvent::Kind::kTrialFinished: out->set_kind(v1::JobEvent::TRIAL_FINISHED); break;
    case JobEvent::Kind::kTrialFailed: out->set_kind(v1::JobEvent::TRIAL_FAILED); break;
    case JobEvent::Kind::kParetoPoint: out->set_kind(v1::JobEvent::PARETO_POINT); break;
    case JobEvent::Kind::kJobDone: out->set_kind(v1::JobEvent::JOB_DONE); break;
  }
  ToProto(e.job, out->mutable_job());
  if (e.trial) ToProto(*e.trial, out->mutable_trial());
}

}  // namespace unas::server
