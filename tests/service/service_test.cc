// The search service as processes: `unas serve` and `unas worker` on
// loopback, killed with SIGKILL at awkward moments. Trials use the synthetic
// evaluator (fast, deterministic) except the last test, which trains for real.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stb/stb_image_write.h>

#include "costmodel/cost_model.h"
#include "costmodel/lowering.h"
#include "costmodel/network.h"
#include "client/grpc_client.h"
#include "data/dataset_spec.h"
#include "data/image_folder.h"
#include "tests/data/raw_images_hwc.h"
#include "tests/firmware/c_build.h"
#include "tflite/reader.h"
#include "tests/service/process.h"

namespace unas::testing {
namespace {

const std::string kToken = "test-token-0123456789abcdef";

std::string SyntheticJob(int trials, int delay_ms, int seed = 1) {
  return R"({"name":"svc","dataset":"synthetic","evaluator":"synthetic","seed":)" + std::to_string(seed) +
         R"(,"synthetic_delay_ms":)" + std::to_string(delay_ms) + R"(,"budget":{"trials":)" + std::to_string(trials) +
         R"(},"bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
         "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}})";
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    port_ = FreePort();
    address_ = "127.0.0.1:" + std::to_string(port_);
  }

  std::unique_ptr<Process> Serve(int embedded_workers, const std::string& lease_ms = "2000") {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{"serve", "--data-dir", dir_ + "/data", "--listen", address_, "--workers",
                                 std::to_string(embedded_workers), "--token", kToken, "--lease-timeout-ms", lease_ms,
                                 "--heartbeat-ms", "200"},
        dir_ + "/serve.log");
    EXPECT_TRUE(WaitFor([&] { return p->Log().find("listening on port") != std::string::npos; }, 20000))
        << p->Log();
    return p;
  }

  std::unique_ptr<Process> Worker(const std::string& name) {
    return std::make_unique<Process>(
        std::vector<std::string>{"worker", "--coordinator", address_, "--token", kToken, "--name", name},
        dir_ + "/worker_" + name + ".log");
  }

  std::unique_ptr<server::Client> Connect(const std::string& token = kToken) {
    server::ClientOptions o;
    o.address = address_;
    o.token = token;
    o.deadline_ms = 5000;
    return server::Client::Connect(o).value();
  }

  // Waits (bounded) for the job to reach a final status; returns it.
  server::JobView WaitDone(server::Client& c, const std::string& job_id, int timeout_ms) {
    server::JobView last;
    WaitFor([&] {
      auto j = c.GetJob(job_id);
      if (!j.ok()) return false;
      last = *j;
      return server::IsFinal(last.record.status);
    }, timeout_ms);
    return last;
  }

  std::vector<server::TrialRecord> AllTrials(server::Client& c, const std::string& job_id) {
    std::vector<server::TrialRecord> all;
    std::string token;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = c.ListTrials(job_id, std::nullopt, token, 1000);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) break;
      all.insert(all.end(), page->trials.begin(), page->trials.end());
      token = page->next_page_token;
      if (token.empty()) break;
    }
    return all;
  }

  void ExpectExactlyCompleted(const std::vector<server::TrialRecord>& trials, size_t n) {
    EXPECT_EQ(trials.size(), n);
    std::set<std::string> hashes;
    std::set<int64_t> ids;
    for (const server::TrialRecord& t : trials) {
      EXPECT_EQ(t.status, server::TrialStatus::kCompleted) << "trial " << t.trial_id << ": " << t.error;
      hashes.insert(t.candidate_hash);
      ids.insert(t.trial_id);
    }
    EXPECT_EQ(hashes.size(), n);  // distinct networks
    EXPECT_EQ(ids.size(), n);
  }

  std::string dir_, address_;
  int port_ = 0;
};

TEST_F(ServiceTest, TwoWorkerProcessesComplete200Trials) {
  auto serve = Serve(0);
  auto w1 = Worker("a"), w2 = Worker("b");
  // Both registered before the job starts: on a loaded machine one process
  // can otherwise finish all 200 quick trials before the other is up.
  ASSERT_TRUE(WaitFor([&] {
    return w1->Log().find("registered as") != std::string::npos && w2->Log().find("registered as") != std::string::npos;
  }, 30000)) << w1->Log() << w2->Log();
  auto c = Connect();
  auto job = c->Submit(SyntheticJob(200, 0));
  ASSERT_TRUE(job.ok()) << job.status().message();
  const server::JobView done = WaitDone(*c, job->record.job_id, 120000);
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve->Log();
  EXPECT_EQ(done.completed, 200);
  const auto trials = AllTrials(*c, job->record.job_id);
  ExpectExactlyCompleted(trials, 200);
  std::set<std::string> workers;
  for (const auto& t : trials) workers.insert(t.worker_id);
  EXPECT_EQ(workers.size(), 2u);  // both processes did work
  EXPECT_GT(done.hypervolume, 0.0);
  auto front = c->Pareto(job->record.job_id);
  ASSERT_TRUE(front.ok());
  EXPECT_GT(static_cast<int>(front->trials.size()), 0);
}

TEST_F(ServiceTest, WorkerKilledMidTrialItsTrialCompletesElsewhere) {
  auto serve = Serve(0, "1500");
  auto w1 = Worker("a"), w2 = Worker("b");
  auto c = Connect();
  auto job = c->Submit(SyntheticJob(12, 400));
  ASSERT_TRUE(job.ok());
  // Both workers are busy with 400 ms trials; kill one in the middle of one.
  ASSERT_TRUE(WaitFor([&] { return c->GetJob(job->record.job_id)->completed >= 2; }, 30000));
  w1->Kill(SIGKILL);
  const server::JobView done = WaitDone(*c, job->record.job_id, 60000);
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve->Log();
  const auto trials = AllTrials(*c, job->record.job_id);
  ExpectExactlyCompleted(trials, 12);
  int retried = 0;
  for (const auto& t : trials) retried += t.attempts >= 2;
  EXPECT_GE(retried, 1);  // the killed worker's trial was leased again and completed
}

TEST_F(ServiceTest, CoordinatorKilledMidJobRestartsAndFinishesExactly200) {
  auto serve = Serve(0);
  auto w1 = Worker("a"), w2 = Worker("b");
  auto c = Connect();
  auto job = c->Submit(SyntheticJob(200, 10));
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(WaitFor([&] {
    auto j = c->GetJob(job->record.job_id);
    return j.ok() && j->completed >= 60;
  }, 60000));
  serve->Kill(SIGKILL);
  serve = Serve(0);  // same data directory and port; workers reconnect on their own
  const server::JobView done = WaitDone(*c, job->record.job_id, 120000);
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve->Log();
  EXPECT_EQ(done.completed, 200);
  ExpectExactlyCompleted(AllTrials(*c, job->record.job_id), 200);
}

TEST_F(ServiceTest, SecondCoordinatorOnOneDataDirectoryRefusesUntilTheFirstIsKilled) {
  auto first = Serve(0);
  const std::string data = dir_ + "/data";
  auto start = [&](const std::string& log) {
    return std::make_unique<Process>(
        std::vector<std::string>{"serve", "--data-dir", data, "--listen", "127.0.0.1:" + std::to_string(FreePort()),
                                 "--http", "off", "--workers", "0", "--token", kToken},
        dir_ + "/" + log);
  };
  auto second = start("second.log");
  EXPECT_EQ(second->Wait(10000), 1) << second->Log();
  EXPECT_EQ(second->Log(), "unas serve: data directory " + data + " is in use: " + data +
                               "/lock is held by process " + std::to_string(first->pid()) +
                               "; stop that coordinator or use another --data-dir\n");
  // kill -9 leaves no stale lock: the kernel drops it with its owner.
  EXPECT_EQ(first->Kill(SIGKILL), 128 + SIGKILL);
  auto third = start("third.log");
  EXPECT_TRUE(WaitFor([&] { return third->Log().find("listening on port") != std::string::npos; }, 20000))
      << third->Log();
  EXPECT_EQ(third->Kill(SIGTERM, 15000), 0) << third->Log();
}

TEST_F(ServiceTest, CancelTwoJobsRefusalsAndAuth) {
  auto serve = Serve(2);
  auto c = Connect();
  // A refused job names the field and is not stored.
  auto refused = c->Submit(R"({"dataset":"synthetic","strategy":"genetic"})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "strategy.type: 'genetic' is not one of aging, bo, random");
  EXPECT_TRUE(c->ListJobs()->empty());
  // No token, or a wrong one: refused.
  auto anonymous = Connect("");
  auto denied = anonymous->ListJobs();
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("missing bearer token"), std::string::npos) << denied.status().message();
  EXPECT_NE(Connect("wrong-token-0123456789")->ListJobs().status().message().find("invalid bearer token"),
            std::string::npos);
  // Two concurrent jobs both finish.
  auto a = c->Submit(SyntheticJob(30, 5, 1)), b = c->Submit(SyntheticJob(30, 5, 2));
  ASSERT_TRUE(a.ok() && b.ok());
  // A third, slow one is cancelled: it stops, and its unfinished trials say so.
  auto slow = c->Submit(SyntheticJob(1000, 200, 3));
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(WaitFor([&] { return c->GetJob(slow->record.job_id)->completed >= 1; }, 30000));
  auto cancelled = c->Cancel(slow->record.job_id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->record.status, server::JobStatus::kCancelled);
  EXPECT_EQ(WaitDone(*c, a->record.job_id, 60000).record.status, server::JobStatus::kSucceeded);
  EXPECT_EQ(WaitDone(*c, b->record.job_id, 60000).record.status, server::JobStatus::kSucceeded);
  const server::JobView after = c->GetJob(slow->record.job_id).value();
  EXPECT_EQ(after.record.status, server::JobStatus::kCancelled);
  EXPECT_LT(after.completed, 1000);
  EXPECT_EQ(after.running, 0);
  // Graceful shutdown on SIGTERM.
  EXPECT_EQ(serve->Kill(SIGTERM, 15000), 0) << serve->Log();
  EXPECT_NE(serve->Log().find("msg=stopped"), std::string::npos);
}

// Final retraining on demand: gRPC FinalizeJob through the client, and
// `unas finalize`, `unas pareto --json` and `unas trials` as a user runs them.
TEST_F(ServiceTest, FinalizeOverGrpcAndTheCli) {
  auto serve = Serve(2);
  auto c = Connect();
  auto job = c->Submit(SyntheticJob(12, 0, 4));
  ASSERT_TRUE(job.ok()) << job.status().message();
  const std::string id = job->record.job_id;
  ASSERT_EQ(WaitDone(*c, id, 60000).record.status, server::JobStatus::kSucceeded) << serve->Log();
  EXPECT_EQ(c->Finalize(id, 1001).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Finalize("no-such-job", 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c->GetJob(id)->record.final_round, 0);
  auto cli = [&](std::vector<std::string> args, const std::string& log) {
    for (const std::string& a : {std::string("--coordinator"), address_, std::string("--token"), kToken}) {
      args.push_back(a);
    }
    auto p = std::make_unique<Process>(args, dir_ + "/" + log);
    const int rc = p->Wait(30000);
    return std::make_pair(rc, p->Log());
  };
  auto waitFinalized = [&] {
    server::JobView last;
    EXPECT_TRUE(WaitFor([&] {
      last = c->GetJob(id).value();
      return last.record.status == server::JobStatus::kSucceeded && !last.finalizing;
    }, 60000)) << serve->Log();
    return last;
  };

  const auto [rc, out] = cli({"finalize", id, "--epochs", "4"}, "finalize.log");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind(id + "  svc  ", 0), 0u) << out;
  EXPECT_NE(out.find("  final round 1"), std::string::npos) << out;
  EXPECT_NE(out.find(", 4 epochs"), std::string::npos) << out;
  const server::JobView first = waitFinalized();
  EXPECT_EQ(first.record.final_round, 1);
  EXPECT_EQ(first.record.final_epochs, 4);
  const server::ParetoView front = c->Pareto(id).value();
  EXPECT_EQ(front.final_round, 1);
  ASSERT_FALSE(front.final_front.empty());

  const auto [pareto_rc, pareto_out] = cli({"pareto", id, "--json"}, "pareto.log");
  ASSERT_EQ(pareto_rc, 0) << pareto_out;
  const auto j = nlohmann::json::parse(pareto_out);
  EXPECT_EQ(j["final_round"], 1);
  ASSERT_EQ(j["final"].size(), front.final_front.size());
  for (size_t i = 0; i < front.final_front.size(); ++i) {
    const server::TrialRecord& t = front.final_front[i];
    const auto& f = j["final"][i];
    EXPECT_EQ(f["trial"], t.trial_id);
    EXPECT_EQ(f["proposal_id"], t.proposal_id);
    EXPECT_EQ(f["quantized"], false);  // synthetic: never quantised
    EXPECT_DOUBLE_EQ(f["final_test_accuracy"].get<double>(), 1.0 - t.metrics->test_error);
    EXPECT_DOUBLE_EQ(f["val_error"].get<double>(), t.metrics->val_error);
    EXPECT_EQ(f["peak_sram_bytes"], t.costs.peak_sram_bytes);
    EXPECT_EQ(f["flash_bytes"], t.costs.flash_bytes);
    EXPECT_EQ(f["macs"], t.costs.macs);
    EXPECT_EQ(t.final_round, 1);
  }
  ASSERT_EQ(j["front"].size(), front.trials.size());
  for (size_t i = 0; i < front.trials.size(); ++i) {
    EXPECT_EQ(j["front"][i]["trial"], front.trials[i].trial_id);
    EXPECT_EQ(j["front"][i]["rung"], front.trials[i].rung);
  }
  const auto [table_rc, table] = cli({"pareto", id}, "pareto_table.log");
  ASSERT_EQ(table_rc, 0) << table;
  EXPECT_EQ(table.rfind("Final front (round 1): retrained from scratch", 0), 0u) << table;
  EXPECT_NE(table.find("\n\nSearch front: "), std::string::npos) << table;
  const auto [trials_rc, trials] = cli({"trials", id}, "trials.log");
  ASSERT_EQ(trials_rc, 0) << trials;
  EXPECT_NE(trials.find(" final1 "), std::string::npos) << trials;
  EXPECT_NE(trials.find(" r0 "), std::string::npos) << trials;

  // A second round over gRPC, with the job's own recipe.
  auto second = c->Finalize(id, 0);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->record.final_round, 2);
  EXPECT_EQ(waitFinalized().record.final_round, 2);
  EXPECT_EQ(c->Pareto(id)->final_round, 2);

  // A cancelled job cannot be finalised; the CLI says why and exits 1.
  auto slow = c->Submit(SyntheticJob(1000, 200, 5));
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(c->Cancel(slow->record.job_id).ok());
  EXPECT_EQ(c->Finalize(slow->record.job_id, 0).status().code(), StatusCode::kFailedPrecondition);
  const auto [refused_rc, refused] = cli({"finalize", slow->record.job_id}, "refused.log");
  EXPECT_EQ(refused_rc, 1) << refused;
  EXPECT_EQ(refused.rfind("unas finalize: ", 0), 0u) << refused;
  const auto [usage_rc, usage] = cli({"finalize", id, "--epochs", "0"}, "usage.log");
  EXPECT_EQ(usage_rc, 2) << usage;
  EXPECT_EQ(usage, "unas finalize: --epochs: 0 is outside 1..1000\n");
}

TEST_F(ServiceTest, RealTrainingWithPruningRecordsTheSmallerNetwork) {
  auto serve = Serve(1, "60000");
  auto c = Connect();
  auto job = c->Submit(R"({"name":"prune","dataset":"synthetic","seed":5,"budget":{"trials":2},
      "strategy":"random","training":{"epochs":3,"batch_size":32,"learning_rate":0.05},
      "pruning":{"target":"peak_sram","fraction":0.5,"epoch":1},
      "bounds":{"val_error":0.9,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
      "constraints":{"peak_sram_bytes":20000,"flash_bytes":20000}})");
  ASSERT_TRUE(job.ok()) << job.status().message();
  const server::JobView done = WaitDone(*c, job->record.job_id, 180000);
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve->Log();
  int pruned = 0;
  for (const auto& t : AllTrials(*c, job->record.job_id)) {
    if (t.status != server::TrialStatus::kCompleted) continue;
    ASSERT_FALSE(t.pruned_candidate_json.empty()) << "trial " << t.trial_id;
    ASSERT_TRUE(t.pruned_costs.has_value());
    EXPECT_LE(t.pruned_costs->peak_sram_bytes, t.costs.build_order_peak_bytes);
    EXPECT_LE(t.pruned_costs->params, t.costs.params);
    pruned += t.pruned_costs->params < t.costs.params;
  }
  EXPECT_GE(pruned, 1);
}

// The C library's flash the worker measured (trial.json, the export's
// summary) is what the README's "Put it on a board" commands give on the
// exported files: arm-none-eabi-gcc for Cortex-M4 at -O2, then
// arm-none-eabi-size, text + data of model.o and unas_kernels.o. Without the
// compiler the figure is null and the note says so (CI has it:
// deploy/install-deps.sh).
void ExpectCLibraryFlashAsTheReadmeMeasuresIt(const nlohmann::json& trial_json, const std::string& out_dir,
                                              const std::string& export_log) {
  using firmware::testing::RunCommand;
  if (RunCommand("arm-none-eabi-gcc --version").exit_code != 0) {
    EXPECT_TRUE(trial_json["c_library_flash_bytes"].is_null()) << trial_json.dump();
    EXPECT_EQ(trial_json["c_library_flash_note"], "arm-none-eabi-gcc not found on the worker");
    return;
  }
  const std::string cc = "arm-none-eabi-gcc -std=c99 -mcpu=cortex-m4 -mthumb -O2 -ffunction-sections -fdata-sections "
                         "-I" + out_dir + "/c -c ";
  int64_t by_hand = 0;
  for (const std::string name : {"model", "unas_kernels"}) {
    const auto built = RunCommand(cc + out_dir + "/c/" + name + ".c -o " + out_dir + "/" + name + ".o");
    ASSERT_EQ(built.exit_code, 0) << built.output;
    const Result<int64_t> bytes = firmware::testing::ObjectFlashBytes(out_dir + "/" + name + ".o");
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    by_hand += *bytes;
  }
  EXPECT_EQ(trial_json["c_library_flash_bytes"], by_hand) << trial_json.dump();
  EXPECT_EQ(trial_json["c_library_flash_note"], "");
  EXPECT_NE(export_log.find("C library's flash: " + std::to_string(by_hand) + " B (text + data"), std::string::npos)
      << export_log;
}

TEST_F(ServiceTest, SmallJobWithRealTrainingOnTheSyntheticDataSet) {
  auto serve = Serve(1, "60000");
  auto c = Connect();
  auto job = c->Submit(R"({"name":"real","dataset":"synthetic","seed":2,"budget":{"trials":3},
      "strategy":"random","training":{"epochs":2,"batch_size":32,"learning_rate":0.05},
      "bounds":{"val_error":0.9,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
      "constraints":{"peak_sram_bytes":20000,"flash_bytes":20000}})");
  ASSERT_TRUE(job.ok()) << job.status().message();
  const server::JobView done = WaitDone(*c, job->record.job_id, 180000);
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve->Log();
  const auto trials = AllTrials(*c, job->record.job_id);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    if (t.status != server::TrialStatus::kCompleted) continue;
    EXPECT_EQ(t.metrics->epochs, 2);
    EXPECT_GT(t.metrics->train_seconds, 0.0);
    EXPECT_GE(t.metrics->val_error, 0.0);
    EXPECT_LE(t.metrics->val_error, 1.0);
    EXPECT_LE(t.costs.peak_sram_bytes, 20000);
  }
  EXPECT_GE(done.completed, 1);
  // Trained weights travel back with the result and can be exported.
  for (const auto& t : trials) {
    if (t.status != server::TrialStatus::kCompleted) continue;
    auto weights = c->TrialWeights(job->record.job_id, t.trial_id);
    ASSERT_TRUE(weights.ok()) << weights.status().message();
    EXPECT_GT(weights->size(), 100u);
    break;
  }
  EXPECT_EQ(c->TrialWeights(job->record.job_id, 99).status().code(), StatusCode::kNotFound);
  // GetTrial: the trial and the server's own export document (unas export writes it).
  const server::TrialRecord& first = trials.front();
  auto detail = c->GetTrial(job->record.job_id, first.trial_id);
  ASSERT_TRUE(detail.ok()) << detail.status().message();
  EXPECT_EQ(detail->trial.trial_id, first.trial_id);
  EXPECT_EQ(detail->trial.candidate_hash, first.candidate_hash);
  const auto document = nlohmann::json::parse(detail->export_json);
  EXPECT_EQ(document["format"], "unas-trial-export/1");
  EXPECT_EQ(document["architecture"], nlohmann::json::parse(first.candidate_json));
  EXPECT_EQ(document["costs"]["peak_sram_bytes"], first.costs.peak_sram_bytes);
  EXPECT_EQ(document["cost_report"]["flash_bytes"], first.costs.flash_bytes);
  EXPECT_EQ(c->GetTrial(job->record.job_id, 99).status().code(), StatusCode::kNotFound);
  // Quantisation is on by default: every completed trial has int8 errors and
  // its .tflite, which reads back with one operator per lowered operator.
  const InputSpec input{document["input"]["shape"][0].get<int>(), document["input"]["shape"][1].get<int>(),
                        document["input"]["shape"][2].get<int>(), document["input"]["num_classes"].get<int>()};
  int quantised = 0;
  for (const auto& t : trials) {
    if (t.status != server::TrialStatus::kCompleted) continue;
    ASSERT_TRUE(t.metrics->int8_val_error.has_value()) << "trial " << t.trial_id << "\n" << serve->Log();
    ASSERT_TRUE(t.metrics->int8_test_error.has_value());
    EXPECT_GE(*t.metrics->int8_val_error, 0.0);
    EXPECT_LE(*t.metrics->int8_val_error, 1.0);
    EXPECT_GE(*t.metrics->int8_test_error, 0.0);
    EXPECT_LE(*t.metrics->int8_test_error, 1.0);
    EXPECT_TRUE(t.has_tflite);
    auto model = c->TrialModelTflite(job->record.job_id, t.trial_id);
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto graph = ReadTflite(reinterpret_cast<const uint8_t*>(model->data()), model->size());
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto network = BuildNetwork(ParseCandidate(t.candidate_json).value(), input);
    ASSERT_TRUE(network.ok()) << network.status().message();
    const ModelGraph lowered = LowerNetwork(*network).value();
    ASSERT_EQ(graph->ops.size(), lowered.ops.size());
    // Stored in the tflm accounting's planned order: file op k is lowered op tflm_order[k].
    const std::vector<int> order = CostNetwork(*network, Accounting::kTflm).value().tflm_order;
    ASSERT_EQ(order.size(), lowered.ops.size());
    for (size_t k = 0; k < order.size(); ++k) {
      EXPECT_EQ(graph->ops[k].builtin_code, lowered.ops[order[k]].builtin_code) << "op " << k;
      EXPECT_EQ(graph->ops[k].outputs, lowered.ops[order[k]].outputs) << "op " << k;
    }
    ++quantised;
  }
  EXPECT_EQ(quantised, done.completed);
  EXPECT_EQ(c->TrialModelTflite(job->record.job_id, 99).status().code(), StatusCode::kNotFound);

  // `unas export` writes the served model and its C library beside the JSON files.
  int64_t exported = 0;
  for (const auto& t : trials) {
    if (t.status == server::TrialStatus::kCompleted) exported = t.trial_id;
  }
  ASSERT_GT(exported, 0);
  const std::string out_dir = dir_ + "/export";
  Process run({"export", job->record.job_id, std::to_string(exported), out_dir, "--coordinator", address_, "--token",
               kToken},
              dir_ + "/export.log");
  ASSERT_EQ(run.Wait(60000), 0) << run.Log();
  std::ifstream model_file(out_dir + "/model.tflite", std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, c->TrialModelTflite(job->record.job_id, exported).value());
  std::ifstream header(out_dir + "/c/model.h");
  const std::string model_h((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  EXPECT_NE(model_h.find("UNAS_MODEL_ARENA_BYTES"), std::string::npos) << run.Log();
  EXPECT_TRUE(std::ifstream(out_dir + "/c/model.c").good());
  const auto trial_json = nlohmann::json::parse(std::ifstream(out_dir + "/trial.json"));
  EXPECT_TRUE(trial_json["int8_val_error"].is_number());
  // The input contract travels: the model's metadata, the export document,
  // trial.json and model.h all say what a device must feed it.
  const auto export_json = nlohmann::json::parse(std::ifstream(out_dir + "/export.json"));
  const nlohmann::json& contract = export_json["input_contract"];
  ASSERT_TRUE(contract.is_object()) << export_json.dump();
  EXPECT_EQ(contract["shape"], nlohmann::json({8, 8, 1}));
  EXPECT_EQ(contract["value"], "pixel8");
  EXPECT_EQ(contract["class_names"].size(), 10u);
  EXPECT_EQ(contract["normalization"]["mean"].size(), 1u);
  EXPECT_EQ(trial_json["input"], contract);
  EXPECT_NE(model_h.find("void unas_model_quantize_pixels(const uint8_t *pixels, int8_t *input);"), std::string::npos);
  EXPECT_NE(model_h.find("#define UNAS_MODEL_CLASSES 10\n"), std::string::npos);
  ExpectCLibraryFlashAsTheReadmeMeasuresIt(trial_json, out_dir, run.Log());
}

// Users' own data (docs/data.md): an image folder the test draws (several
// sizes, PNG and JPEG, RGB and grey; two classes a small network tells apart:
// a bright left half or a bright right half) and CSV sensor windows, each
// through the service's embedded workers to a final front.
void DrawImageFolder(const std::string& root) {
  namespace fs = std::filesystem;
  const int sizes[][2] = {{12, 12}, {16, 10}, {8, 8}, {20, 14}};
  for (int cls = 0; cls < 2; ++cls) {
    const std::string dir = root + (cls == 0 ? "/left" : "/right");
    fs::create_directories(dir);
    for (int i = 0; i < 40; ++i) {
      const int w = sizes[i % 4][0], h = sizes[i % 4][1], comp = i % 3 == 0 ? 1 : 3;
      std::vector<uint8_t> px(static_cast<size_t>(w * h * comp));
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const bool bright = (x < w / 2) == (cls == 0);
          for (int c = 0; c < comp; ++c) {
            px[(y * w + x) * comp + c] = static_cast<uint8_t>((bright ? 180 : 40) + (x * 7 + y * 13 + i * 5 + c) % 30);
          }
        }
      }
      const std::string path = dir + "/" + std::to_string(i) + (i % 2 == 0 ? ".png" : ".jpg");
      const int ok = i % 2 == 0 ? stbi_write_png(path.c_str(), w, h, comp, px.data(), w * comp)
                                : stbi_write_jpg(path.c_str(), w, h, comp, px.data(), 90);
      ASSERT_EQ(ok, 1) << path;
    }
  }
}

TEST_F(ServiceTest, ImageFolderAndSensorWindowJobsReachAFinalFront) {
  DrawImageFolder(dir_ + "/images");
  {
    std::ofstream csv(dir_ + "/windows.csv");
    csv << "label";
    for (int t = 0; t < 16; ++t) csv << ",x" << t << ",y" << t;
    csv << "\n";
    for (int i = 0; i < 60; ++i) {
      const bool shake = i % 2 == 1;
      csv << (shake ? "shake" : "still");
      for (int t = 0; t < 16; ++t) {
        const double wave = shake ? ((t + i) % 4 < 2 ? 2.0 : -2.0) : 0.0;
        csv << "," << wave + 0.01 * (i % 7) << "," << 9.8 - 0.02 * (i % 5);
      }
      csv << "\n";
    }
  }
  auto serve = Serve(1, "60000");
  auto c = Connect();
  const std::string common = R"("seed":4,"budget":{"trials":2},"strategy":"random",
      "training":{"epochs":2,"batch_size":16,"learning_rate":0.05,"augment":{"shift_px":1,"noise_sd":0.05}},
      "final":{"enabled":true,"networks":1,"neighbours":0,"training":{"epochs":2,"batch_size":16,"learning_rate":0.05}},
      "bounds":{"val_error":0.9,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
      "constraints":{"peak_sram_bytes":20000,"flash_bytes":20000})";
  auto images = c->Submit(R"({"name":"folder","dataset":"folder:)" + dir_ + R"(/images","input_shape":[8,8,3],)" + common + "}");
  ASSERT_TRUE(images.ok()) << images.status().message();
  auto windows = c->Submit(R"({"name":"csv","dataset":"csv:)" + dir_ + R"(/windows.csv","input_shape":[16,1,2],)" + common + "}");
  ASSERT_TRUE(windows.ok()) << windows.status().message();
  server::TrialRecord best_image_trial;
  for (const auto* job : {&*images, &*windows}) {
    const std::string id = job->record.job_id;
    server::JobView last;
    WaitFor([&] {
      auto j = c->GetJob(id);
      if (!j.ok()) return false;
      last = *j;
      return server::IsFinal(last.record.status) && !last.finalizing && last.record.final_round >= 1;
    }, 240000);
    ASSERT_EQ(last.record.status, server::JobStatus::kSucceeded) << serve->Log();
    ASSERT_EQ(last.record.final_round, 1) << serve->Log();
    auto front = c->Pareto(id);
    ASSERT_TRUE(front.ok());
    ASSERT_FALSE(front->final_front.empty()) << serve->Log();
    const server::TrialRecord& best = front->final_front.front();
    ASSERT_TRUE(best.metrics.has_value());
    EXPECT_TRUE(best.metrics->int8_test_error.has_value());
    // The exported document states the input the network was built for.
    auto detail = c->GetTrial(id, best.trial_id);
    ASSERT_TRUE(detail.ok()) << detail.status().message();
    const auto document = nlohmann::json::parse(detail->export_json);
    const std::vector<int> want = job == &*images ? std::vector<int>{8, 8, 3} : std::vector<int>{16, 1, 2};
    EXPECT_EQ(document["input"]["shape"].get<std::vector<int>>(), want);
    EXPECT_EQ(document["input"]["num_classes"], 2);
    if (job == &*images) best_image_trial = best;
  }
  // The image job's best network as a device gets it: `unas export`, its C
  // built on the host (ASan, exact arena), fed the test images' raw 8-bit
  // pixels (as the data layer converted them to 8x8x3) through
  // unas_model_quantize_pixels: its accuracy is the reported int8 accuracy.
  {
    const std::string out_dir = dir_ + "/export-images";
    Process run({"export", images->record.job_id, std::to_string(best_image_trial.trial_id), out_dir, "--coordinator",
                 address_, "--token", kToken},
                dir_ + "/export-images.log");
    ASSERT_EQ(run.Wait(60000), 0) << run.Log();
    const Status built = firmware::testing::BuildPixelHost(out_dir);
    ASSERT_TRUE(built.ok()) << built.message();
    data::DatasetSpec spec;
    spec.kind = data::DatasetKind::kFolder;
    spec.directory = dir_ + "/images";
    spec.input_shape = data::InputShape{8, 8, 3};
    auto loaded = data::ReadImageFolder(spec);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    const data::RawImages& test = loaded->test;
    const std::vector<uint8_t> hwc = RawImagesHwc(test);  // CHW -> HWC, as a camera delivers them
    auto out = firmware::testing::RunPixelHost(out_dir, hwc);
    ASSERT_TRUE(out.ok()) << out.status().message();
    std::ifstream model(out_dir + "/model.tflite", std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(model)), std::istreambuf_iterator<char>());
    auto graph = ReadTflite(bytes.data(), bytes.size());
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    const int64_t logits = graph->tensors[graph->outputs[0]].elements();
    const int64_t zero_point = graph->tensors[graph->outputs[0]].quant.zero_point[0];
    ASSERT_EQ(static_cast<int64_t>(out->outputs.size()), test.count * logits);
    int correct = 0;
    for (int64_t n = 0; n < test.count; ++n) {
      const int8_t* l = out->outputs.data() + n * logits;
      const int predicted = logits == 1 ? (l[0] > zero_point ? 1 : 0)
                                        : static_cast<int>(std::max_element(l, l + logits) - l);
      correct += predicted == test.labels[n];
    }
    ASSERT_TRUE(best_image_trial.metrics && best_image_trial.metrics->int8_test_error);
    std::printf("[figures] image folder, exported trial %lld from raw pixels: %d of %lld correct, int8 test "
                "accuracy reported %.4f\n",
                static_cast<long long>(best_image_trial.trial_id), correct, static_cast<long long>(test.count),
                1.0 - *best_image_trial.metrics->int8_test_error);
    EXPECT_EQ(correct, static_cast<int>(std::lround((1.0 - *best_image_trial.metrics->int8_test_error) * test.count)));
  }
  // A folder that is not there is refused at submission, naming it.
  auto missing = c->Submit(R"({"name":"x","dataset":"folder:)" + dir_ + R"(/nowhere",)" + common + "}");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir_ + "/nowhere: no such directory"), std::string::npos)
      << missing.status().message();
}

// `unas train` on an image folder with --input-shape, and on a CSV.
TEST_F(ServiceTest, TrainCommandOnAnImageFolderAndOnSensorWindows) {
  DrawImageFolder(dir_ + "/images");
  Process run({"train", std::string(UNAS_SOURCE_DIR) + "/examples/worked_example.json", "--dataset",
               "folder:" + dir_ + "/images", "--input-shape", "16,16,1", "--epochs", "1", "--out", dir_ + "/out"},
              dir_ + "/train.log");
  ASSERT_EQ(run.Wait(120000), 0) << run.Log();
  EXPECT_NE(run.Log().find("folder:" + dir_ + "/images: 58 train / 6 validation / 16 test images of 16x16x1, 2 classes"),
            std::string::npos)
      << run.Log();
  EXPECT_TRUE(std::ifstream(dir_ + "/out/model.tflite").good());
  Process bad({"train", std::string(UNAS_SOURCE_DIR) + "/examples/worked_example.json", "--dataset",
               "folder:" + dir_ + "/images", "--input-shape", "16,16"},
              dir_ + "/bad.log");
  EXPECT_EQ(bad.Wait(20000), 2);
  EXPECT_EQ(bad.Log(), "unas train: --input-shape: '16,16' is not H,W,C (three integers)\n");
}

TEST_F(ServiceTest, ExportOfAPartialExecutionJobWritesThePlannedArena) {
  auto serve = Serve(1, "60000");
  auto c = Connect();
  auto job = c->Submit(R"({"name":"pex","dataset":"synthetic","seed":3,"budget":{"trials":1},
      "strategy":"random","accounting":"firmware","memory":"partial_execution",
      "training":{"epochs":1,"batch_size":32,"learning_rate":0.05},
      "bounds":{"val_error":0.9,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
      "constraints":{"peak_sram_bytes":20000,"flash_bytes":20000}})");
  ASSERT_TRUE(job.ok()) << job.status().message();
  const server::JobView done = WaitDone(*c, job->record.job_id, 180000);
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve->Log();
  ASSERT_EQ(done.completed, 1) << serve->Log();
  const std::string out_dir = dir_ + "/export";
  Process run({"export", job->record.job_id, "1", out_dir, "--coordinator", address_, "--token", kToken},
              dir_ + "/export.log");
  ASSERT_EQ(run.Wait(60000), 0) << run.Log();
  // The C library follows the partial-execution plan the server reports.
  const auto document = nlohmann::json::parse(std::ifstream(out_dir + "/export.json"));
  const int64_t arena = document["partial_execution"]["arena_bytes"].get<int64_t>();
  std::ifstream header(out_dir + "/c/model.h");
  const std::string model_h((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  EXPECT_NE(model_h.find("#define UNAS_MODEL_ARENA_BYTES " + std::to_string(arena) + "\n"), std::string::npos)
      << model_h.substr(0, 1500);
}

// Minimal IDX files: what an idx:DIR job needs to resolve its input (the
// headers; one 8x8 image), here enough for the synthetic evaluator.
void WriteIdx(const std::string& dir) {
  mkdir(dir.c_str(), 0700);
  const std::string images("\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00\x00\x08", 16);
  const std::string labels("\x00\x00\x08\x01\x00\x00\x00\x01\x03", 9);
  for (const char* prefix : {"train", "t10k"}) {
    std::ofstream(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary) << images << std::string(64, '\x10');
    std::ofstream(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary) << labels;
  }
}

// Issue 23, finding 3's repro: an idx:DIR job and a worker whose DIR is
// missing. Every trial used to fail at its first attempt and the job ended
// "succeeded" with nothing. Now the worker is told to stop (exit 4, saying
// why), no trial fails, and a worker that has the data finishes the job.
TEST_F(ServiceTest, AWorkerWithoutTheDataSetIsToldToStopAndAnotherFinishesTheJob) {
  const std::string data = dir_ + "/idx";
  WriteIdx(data);
  auto serve = Serve(0);
  auto c = Connect();
  auto job = c->Submit(R"({"name":"idx","dataset":"idx:)" + data + R"(","evaluator":"synthetic","seed":2,
      "budget":{"trials":5},
      "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000}})");
  ASSERT_TRUE(job.ok()) << job.status().message();
  // The worker's machine has no copy of DIR.
  ASSERT_EQ(rename(data.c_str(), (data + ".elsewhere").c_str()), 0);
  auto lacking = Worker("lacking");
  EXPECT_EQ(lacking->Wait(60000), 4) << lacking->Log();
  const std::string log = lacking->Log();
  EXPECT_NE(log.find("level=error msg=\"worker exits: the coordinator told it to stop\""), std::string::npos) << log;
  EXPECT_NE(log.find("its last 3 trials failed because it cannot run them (the last: dataset: " + data +
                     "/train-images-idx3-ubyte[.gz]: no such file)"),
            std::string::npos)
      << log;
  server::JobView view = c->GetJob(job->record.job_id).value();
  EXPECT_EQ(view.record.status, server::JobStatus::kRunning);
  EXPECT_EQ(view.failed, 0);
  EXPECT_EQ(view.completed, 0);
  EXPECT_NE(serve->Log().find("msg=\"worker told to stop\""), std::string::npos) << serve->Log();
  // A worker that has the data.
  ASSERT_EQ(rename((data + ".elsewhere").c_str(), data.c_str()), 0);
  auto able = Worker("able");
  view = WaitDone(*c, job->record.job_id, 60000);
  EXPECT_EQ(view.record.status, server::JobStatus::kSucceeded) << serve->Log();
  EXPECT_EQ(view.completed, 5);
  EXPECT_EQ(view.failed, 0);
}

// Issue 23, finding 5: a worker with a wrong token retried forever.
TEST_F(ServiceTest, AWorkerWithAWrongTokenExitsWithThreeSayingWhy) {
  auto serve = Serve(0);
  Process worker({"worker", "--coordinator", address_, "--token", "wrong-token-0123456789abcdef", "--name", "bad"},
                 dir_ + "/worker_bad.log");
  EXPECT_EQ(worker.Wait(30000), 3) << worker.Log();
  EXPECT_NE(worker.Log().find("level=error msg=\"worker exits: the coordinator refuses its token; check --token or "
                              "UNAS_TOKEN\" reason=\"the coordinator refused the credentials 3 times in a row "
                              "(authentication failed: invalid bearer token)\""),
            std::string::npos)
      << worker.Log();
  // The coordinator said so, once for the three calls.
  const std::string line = "level=warn msg=\"call refused\" protocol=grpc source=127.0.0.1 call=RegisterWorker "
                           "reason=\"invalid bearer token\" suppressed=0";
  ASSERT_TRUE(WaitFor([&] { return serve->Log().find(line) != std::string::npos; }, 10000)) << serve->Log();
  EXPECT_EQ(serve->Log().find("call refused"), serve->Log().rfind("call refused")) << serve->Log();
}

}  // namespace
}  // namespace unas::testing
