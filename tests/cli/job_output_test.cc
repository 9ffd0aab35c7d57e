// What `unas pareto`, `unas trials`, `unas jobs` and the job line print, from
// records made by hand: exact text, CSV and JSON. Accuracies are 1 - the
// errors given (0.125 -> 87.50 %); what was not measured is "-", empty or null.
#include "cli/job_output.h"

#include <optional>

#include <gtest/gtest.h>

#include "server/store/job_json.h"
#include "tests/server/trial_records.h"

namespace unas::cli {
namespace {

using server::test_records::MakeCosts;
using server::test_records::MakeMetrics;
using server::test_records::MakeTrial;

// Trial 12 of final round 1: quantised, and pruned (its measured costs are
// the pruned network's).
server::TrialRecord FinalQuantisedPruned() {
  server::TrialRecord t = MakeTrial(12, 4, 0, 0, 1);
  t.costs = MakeCosts(9000, 20000, 300000);
  t.pruned_costs = MakeCosts(6000, 15000, 200000);
  t.metrics = MakeMetrics(0.125, 0.25, std::nullopt, 0.375);
  return t;
}

// Trial 13 of final round 1: float only.
server::TrialRecord FinalFloat() {
  server::TrialRecord t = MakeTrial(13, 7, 0, 0, 1);
  t.costs = MakeCosts(4000, 10000, 100000);
  t.metrics = MakeMetrics(0.5, 0.0625, std::nullopt, std::nullopt);
  return t;
}

// Trial 9: a rung-2 promotion of trial 5, with a latency estimate, ranked by its
// int8 error.
server::TrialRecord Promoted() {
  server::TrialRecord t = MakeTrial(9, 4, 2, 5, 0);
  t.costs = MakeCosts(9000, 20000, 300000);
  t.costs.latency_ms = 1.5;
  t.metrics = MakeMetrics(0.25, 0.5, 0.3125, std::nullopt);
  t.objective_error = 0.3125;
  return t;
}

// Trial 10: rung 0, no test error measured (-1), no latency.
server::TrialRecord Untested() {
  server::TrialRecord t = MakeTrial(10, 5, 0, 0, 0);
  t.costs = MakeCosts(5000, 8000, 90000);
  t.costs.params = 700;
  t.metrics = MakeMetrics(0.4, -1, std::nullopt, std::nullopt);
  return t;
}

server::ParetoView Front() {
  server::ParetoView front;
  front.objectives = {"error", "peak_sram"};
  front.hypervolume = 0.5;
  front.trials = {Promoted(), Untested()};
  front.final_round = 1;
  front.final_front = {FinalQuantisedPruned(), FinalFloat()};
  front.final_hypervolume = 0.125;
  return front;
}

TEST(JobOutputTest, RungLabelsSearchRungsAndFinalRounds) {
  EXPECT_EQ(RungLabel(Promoted()), "r2");
  EXPECT_EQ(RungLabel(server::TrialRecord()), "r0");
  EXPECT_EQ(RungLabel(FinalFloat()), "final1");
}

TEST(JobOutputTest, ParetoTextShowsBothFrontsWithTheSameColumns) {
  const std::string header =
      " trial  rung    val acc % test acc % int8 test %  peak SRAM B      flash B         MACs  latency ms\n";
  const std::string search =
      "Search front: trials as trained at their rung, ranked by validation accuracy (val acc %, int8 when the job "
      "measures it); test accuracy for reference\n" +
      header +
      "     9  r2          68.75      50.00           -         9000        20000       300000        1.50\n"
      "    10  r0          60.00          -           -         5000         8000        90000           -\n"
      "hypervolume 0.5000\n";
  EXPECT_EQ(ParetoText(Front(), false),
            "Final front (round 1): retrained from scratch with the final recipe; accuracies on the test set, "
            "int8 for the quantised .tflite\n" +
                header +
                "    12  final1      87.50      75.00       62.50         6000        15000       200000           -\n"
                "    13  final1      50.00      93.75           -         4000        10000       100000           -\n"
                "hypervolume 0.1250\n"
                "\n" +
                search);
  server::ParetoView search_only = Front();
  search_only.final_front.clear();
  EXPECT_EQ(ParetoText(search_only, false), search);
}

TEST(JobOutputTest, ParetoCsvLeavesWhatWasNotMeasuredEmpty) {
  EXPECT_EQ(ParetoText(Front(), true),
            "trial,error,val_error,test_error,peak_sram_bytes,flash_bytes,macs,latency_ms,params\n"
            "9,0.3125,0.25,0.5,9000,20000,300000,1.5,0\n"
            "10,0.4,0.4,,5000,8000,90000,,700\n");
}

TEST(JobOutputTest, ParetoJsonHasBothFronts) {
  const nlohmann::json j = ParetoJson(Front());
  EXPECT_EQ(j["objectives"], nlohmann::json({"error", "peak_sram"}));
  EXPECT_EQ(j["hypervolume"], 0.5);
  EXPECT_EQ(j["final_round"], 1);
  EXPECT_EQ(j["final_hypervolume"], 0.125);
  EXPECT_EQ(j["final"], nlohmann::json::parse(R"([
    {"trial":12,"final_test_accuracy":0.625,"quantized":true,"test_accuracy":0.75,"int8_test_accuracy":0.625,
     "peak_sram_bytes":6000,"flash_bytes":15000,"macs":200000,"latency_ms":null,"proposal_id":4,"val_error":0.125},
    {"trial":13,"final_test_accuracy":0.9375,"quantized":false,"test_accuracy":0.9375,"int8_test_accuracy":null,
     "peak_sram_bytes":4000,"flash_bytes":10000,"macs":100000,"latency_ms":null,"proposal_id":7,"val_error":0.5}])"));
  EXPECT_EQ(j["front"], nlohmann::json::parse(R"([
    {"trial":9,"rung":2,"error":0.3125,"val_error":0.25,"int8_val_error":0.3125,"test_error":0.5,"int8_test_error":null,
     "peak_sram_bytes":9000,"flash_bytes":20000,"macs":300000,"latency_ms":1.5},
    {"trial":10,"rung":0,"error":0.4,"val_error":0.4,"int8_val_error":null,"test_error":null,"int8_test_error":null,
     "peak_sram_bytes":5000,"flash_bytes":8000,"macs":90000,"latency_ms":null}])"));
  const nlohmann::json empty = ParetoJson(server::ParetoView());
  EXPECT_EQ(empty["final"], nlohmann::json::array());
  EXPECT_EQ(empty["front"], nlohmann::json::array());
  EXPECT_EQ(empty["final_round"], 0);
}

TEST(JobOutputTest, TrialLinesShowMeasuredCostsAndDashesForTheUnmeasured) {
  EXPECT_EQ(TrialsHeader(), " trial status     rung      from   val err   test err  int8 val  int8 test    peak SRAM"
                            "        flash         MACs attempts  C library  error\n");
  // Pruned: the pruned network's costs.
  EXPECT_EQ(TrialLine(FinalQuantisedPruned()),
            "    12 completed  final1       -    0.1250     0.2500         -     0.3750         6000        15000"
            "       200000        0          -  \n");
  server::TrialRecord failed = Promoted();
  failed.status = server::TrialStatus::kFailed;
  failed.metrics.reset();
  failed.attempts = 3;
  failed.error = "out of memory";
  EXPECT_EQ(TrialLine(failed), "     9 failed     r2           5         -          -         -          -         9000"
                               "        20000       300000        3          -  out of memory\n");
  // Measured: the C library's text + data in bytes.
  server::TrialRecord measured = FinalQuantisedPruned();
  measured.metrics->c_library_flash_bytes = 97331;
  EXPECT_EQ(TrialLine(measured),
            "    12 completed  final1       -    0.1250     0.2500         -     0.3750         6000        15000"
            "       200000        0      97331  \n");
}

TEST(JobOutputTest, TrialJsonHasNullsForWhatWasNotMeasured) {
  server::TrialRecord t = FinalQuantisedPruned();
  t.has_tflite = true;
  t.attempts = 1;
  t.worker_id = "w1";
  t.metrics->epochs = 3;
  t.metrics->train_seconds = 2.5;
  t.metrics->c_library_flash_note = "arm-none-eabi-gcc not found on the worker";
  EXPECT_EQ(TrialJson(t), nlohmann::json::parse(R"({"trial":12,"status":"completed","rung":0,"final_round":1,
    "promoted_from":null,"proposal_id":4,"val_error":0.125,"test_error":0.25,"int8_val_error":null,
    "int8_test_error":0.375,"epochs":3,"train_seconds":2.5,"peak_sram_bytes":6000,"flash_bytes":15000,
    "macs":200000,"params":0,"latency_ms":null,"pruned":true,"quantized":true,"c_library_flash_bytes":null,
    "c_library_flash_note":"arm-none-eabi-gcc not found on the worker","attempts":1,"worker_id":"w1",
    "error":""})"));
  t.metrics->c_library_flash_bytes = 97331;
  t.metrics->c_library_flash_note.clear();
  EXPECT_EQ(TrialJson(t)["c_library_flash_bytes"], 97331);
  EXPECT_EQ(TrialJson(t)["c_library_flash_note"], "");
  server::TrialRecord pending = MakeTrial(14, 8, 1, 9, 0);
  pending.status = server::TrialStatus::kPending;
  pending.costs = MakeCosts(100, 200, 300);
  pending.costs.latency_ms = 0.25;
  EXPECT_EQ(TrialJson(pending), nlohmann::json::parse(R"({"trial":14,"status":"pending","rung":1,"final_round":0,
    "promoted_from":9,"proposal_id":8,"val_error":null,"test_error":null,"int8_val_error":null,
    "int8_test_error":null,"epochs":null,"train_seconds":null,"peak_sram_bytes":100,"flash_bytes":200,
    "macs":300,"params":0,"latency_ms":0.25,"pruned":false,"quantized":false,"c_library_flash_bytes":null,
    "c_library_flash_note":"","attempts":0,"worker_id":"","error":""})"));
}

// The job both listings below show: running, 3 of a budget of 10 trials
// completed and 1 failed.
server::JobView RunningJob() {
  server::JobView job;
  job.record.job_id = "job-1";
  job.record.name = "fashion";
  job.record.status = server::JobStatus::kRunning;
  job.completed = 3;
  job.failed = 1;
  job.budget = 10;
  job.hypervolume = 0.5;
  return job;
}

// server/store/job_json.h: what `unas status --json` and `unas jobs --json`
// print (and REST answers).
TEST(JobOutputTest, JobViewJsonIsStatusWithoutTheSpecForListings) {
  server::JobView job = RunningJob();
  job.record.spec_json = R"({"name":"fashion"})";
  job.record.created_unix_ms = 1700000000000;
  job.running = 2;
  job.proposed = 4;
  const nlohmann::json listed = server::JobViewJson(job, false);
  EXPECT_EQ(listed, nlohmann::json::parse(R"({"job_id":"job-1","name":"fashion","status":"running",
    "trials_completed":3,"trials_failed":1,"trials_running":2,"trials_proposed":4,"trials_budget":10,
    "infeasible_rejected":0,"best_val_error":null,"hypervolume":0.5,"error":"","created_unix_ms":1700000000000,
    "finished_unix_ms":null,"final_round":0,"final_epochs":0,"finalizing":false})"));
  nlohmann::json with_spec = server::JobViewJson(job, true);
  EXPECT_EQ(with_spec["spec"], nlohmann::json::parse(R"({"name":"fashion"})"));
  with_spec.erase("spec");
  EXPECT_EQ(with_spec, listed);
  job.record.spec_json = "not json";
  job.record.finished_unix_ms = 1700000060000;
  job.best_val_error = 0.25;
  EXPECT_EQ(server::JobViewJson(job, true)["spec"], "not json");
  EXPECT_EQ(server::JobViewJson(job, false)["best_val_error"], 0.25);
  EXPECT_EQ(server::JobViewJson(job, false)["finished_unix_ms"], 1700000060000);
  job.record.spec_json.clear();
  EXPECT_TRUE(server::JobViewJson(job, true)["spec"].is_null());
}

TEST(JobOutputTest, JobLineNamesTheFinalRound) {
  server::JobView job = RunningJob();
  job.proposed = 3;
  job.best_val_error = 0.25;
  const std::string plain = "job-1  fashion  running  proposed 3/10, trials 4 finished (1 failed, 0 running)  rejected by constraints 0"
                            "  best error 0.2500  hypervolume 0.5000";
  EXPECT_EQ(JobLine(job), plain + "\n");
  job.record.final_round = 2;
  job.record.final_epochs = 30;
  job.finalizing = true;
  EXPECT_EQ(JobLine(job), plain + "  final round 2 (running), 30 epochs\n");
  job.record.final_epochs = 1;
  EXPECT_EQ(JobLine(job), plain + "  final round 2 (running), 1 epoch\n");
  job.finalizing = false;
  job.record.final_epochs = 0;
  EXPECT_EQ(JobLine(job), plain + "  final round 2\n");
}

TEST(JobOutputTest, JobLineExplainsAZeroHypervolumeOnceTrialsFinished) {
  server::JobView job;
  job.record.job_id = "job-1";
  job.record.name = "fashion";
  job.record.status = server::JobStatus::kRunning;
  job.budget = 10;
  const std::string start = "job-1  fashion  running  proposed 0/10, trials 0 finished (0 failed, 0 running)  rejected by constraints 0"
                            "  best error -  hypervolume 0.0000\n";
  EXPECT_EQ(JobLine(job), start);  // nothing finished: nothing to explain
  job.proposed = 2;
  job.completed = 2;
  job.best_val_error = 0.9;
  EXPECT_EQ(JobLine(job), "job-1  fashion  running  proposed 2/10, trials 2 finished (0 failed, 0 running)  rejected by constraints 0"
                          "  best error 0.9000  hypervolume 0.0000 (no feasible trial within every bound yet)\n");
  job.hypervolume = 0.0001;
  EXPECT_EQ(JobLine(job), "job-1  fashion  running  proposed 2/10, trials 2 finished (0 failed, 0 running)  rejected by constraints 0"
                          "  best error 0.9000  hypervolume 0.0001\n");
}

}  // namespace
}  // namespace unas::cli
