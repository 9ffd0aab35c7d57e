// What `unas pareto`, `unas trials` and the job line print, from records made
// by hand: exact text and JSON.
#include "cli/job_output.h"

#include <optional>

#include <gtest/gtest.h>

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

// Trial 9: a rung-2 promotion of trial 5, ranked by its int8 error.
server::TrialRecord Promoted() {
  server::TrialRecord t = MakeTrial(9, 4, 2, 5, 0);
  t.costs = MakeCosts(9000, 20000, 300000);
  t.metrics = MakeMetrics(0.25, 0.5, 0.3125, std::nullopt);
  t.objective_error = 0.3125;
  return t;
}

server::ParetoView Front() {
  server::ParetoView front;
  front.objectives = {"error", "peak_sram"};
  front.hypervolume = 0.5;
  front.trials = {Promoted()};
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

TEST(JobOutputTest, ParetoTextShowsTheFinalFrontFirstWithMeasuredCosts) {
  EXPECT_EQ(ParetoText(Front(), false),
            "Final front (round 1, retrained from scratch):\n"
            " trial   test acc %    peak SRAM        flash         MACs  \n"
            "    12        62.50         6000        15000       200000  int8\n"
            "    13        93.75         4000        10000       100000  float\n"
            "\n"
            "Search front:\n"
            " trial     error   test err    peak SRAM        flash         MACs  latency ms    params\n"
            "     9    0.3125     0.5000         9000        20000       300000        0.00         0\n"
            "hypervolume 0.5000\n");
  server::ParetoView search_only = Front();
  search_only.final_front.clear();
  EXPECT_EQ(ParetoText(search_only, false).rfind(" trial     error", 0), 0u);
  EXPECT_EQ(ParetoText(Front(), true),
            "trial,error,val_error,test_error,peak_sram_bytes,flash_bytes,macs,latency_ms,params\n"
            "9,0.3125,0.25,0.5,9000,20000,300000,0,0\n");
}

TEST(JobOutputTest, ParetoJsonHasBothFronts) {
  const nlohmann::json j = ParetoJson(Front());
  EXPECT_EQ(j["objectives"], nlohmann::json({"error", "peak_sram"}));
  EXPECT_EQ(j["hypervolume"], 0.5);
  EXPECT_EQ(j["final_round"], 1);
  EXPECT_EQ(j["final_hypervolume"], 0.125);
  EXPECT_EQ(j["final"], nlohmann::json::parse(R"([
    {"trial":12,"final_test_accuracy":0.625,"quantized":true,"peak_sram_bytes":6000,"flash_bytes":15000,
     "macs":200000,"proposal_id":4,"val_error":0.125},
    {"trial":13,"final_test_accuracy":0.9375,"quantized":false,"peak_sram_bytes":4000,"flash_bytes":10000,
     "macs":100000,"proposal_id":7,"val_error":0.5}])"));
  EXPECT_EQ(j["front"], nlohmann::json::parse(R"([
    {"trial":9,"rung":2,"error":0.3125,"val_error":0.25,"int8_val_error":0.3125,"peak_sram_bytes":9000,"flash_bytes":20000,
     "macs":300000}])"));
  const nlohmann::json empty = ParetoJson(server::ParetoView());
  EXPECT_EQ(empty["final"], nlohmann::json::array());
  EXPECT_EQ(empty["front"], nlohmann::json::array());
  EXPECT_EQ(empty["final_round"], 0);
}

TEST(JobOutputTest, JobLineNamesTheFinalRound) {
  server::JobView job;
  job.record.job_id = "job-1";
  job.record.name = "fashion";
  job.record.status = server::JobStatus::kRunning;
  job.completed = 3;
  job.failed = 1;
  job.budget = 10;
  job.proposed = 3;
  job.best_val_error = 0.25;
  job.hypervolume = 0.5;
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

}  // namespace
}  // namespace unas::cli
