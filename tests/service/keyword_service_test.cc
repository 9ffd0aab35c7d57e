// A keyword job through the service (issue 25): `unas serve` with one
// embedded worker trains on a generated Speech Commands-layout set
// (make_keywords.sh: espeak-ng and sox), the search finishes with a final
// round, and `unas export` writes the C library with the audio front end.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/grpc_client.h"
#include "tests/service/process.h"

namespace unas::testing {
namespace {

const std::string kToken = "test-token-0123456789abcdef";

TEST(KeywordService, AKeywordJobRunsToAFinalFrontAndExportsTheFrontEnd) {
  if (std::system("command -v espeak-ng >/dev/null && command -v sox >/dev/null") != 0) {
    GTEST_SKIP() << "espeak-ng or sox not installed";
  }
  const std::string dir = FreshDir("keyword_service");
  const std::string words = dir + "/keywords";
  ASSERT_EQ(std::system(("bash " UNAS_SOURCE_DIR "/tests/data/audio/make_keywords.sh " + words +
                         " --words 'yes no' --others cat --speakers 10 --split-period 5 --noise-seconds 3"
                         " >" + dir + "/make.log 2>&1")
                            .c_str()),
            0);
  const std::string address = "127.0.0.1:" + std::to_string(FreePort());
  Process serve({"serve", "--data-dir", dir + "/data", "--listen", address, "--workers", "1", "--token", kToken,
                 "--lease-timeout-ms", "60000", "--heartbeat-ms", "200"},
                dir + "/serve.log");
  ASSERT_TRUE(WaitFor([&] { return serve.Log().find("listening on port") != std::string::npos; }, 20000))
      << serve.Log();
  server::ClientOptions o;
  o.address = address;
  o.token = kToken;
  o.deadline_ms = 5000;
  auto c = server::Client::Connect(o).value();
  auto job = c->Submit(R"({"name":"kws","dataset":"speech_commands:)" + words + R"(","seed":1,
      "audio":{"wanted_words":["yes","no"]},"accounting":"firmware","strategy":"random","budget":{"trials":3},
      "training":{"epochs":2,"batch_size":16,"learning_rate":0.01,"optimizer":"adamw"},
      "final":{"enabled":true,"networks":1,"neighbours":0,"training":{"epochs":2,"batch_size":16,
               "learning_rate":0.01,"optimizer":"adamw"}},
      "bounds":{"val_error":0.9,"peak_sram_bytes":60000,"flash_bytes":40000,"macs":20000000},
      "constraints":{"peak_sram_bytes":60000,"flash_bytes":40000,"macs":20000000}})");
  ASSERT_TRUE(job.ok()) << job.status().message();
  const std::string id = job->record.job_id;
  server::JobView done;
  ASSERT_TRUE(WaitFor([&] {
    auto j = c->GetJob(id);
    if (!j.ok()) return false;
    done = *j;
    return server::IsFinal(done.record.status) && !done.finalizing;
  }, 240000)) << serve.Log();
  ASSERT_EQ(done.record.status, server::JobStatus::kSucceeded) << serve.Log();
  EXPECT_EQ(done.record.final_round, 1) << serve.Log();

  auto page = c->ListTrials(id, std::nullopt, "", 100);
  ASSERT_TRUE(page.ok()) << page.status().message();
  int64_t final_trial = 0;
  for (const server::TrialRecord& t : page->trials) {
    if (t.final_round > 0 && t.status == server::TrialStatus::kCompleted) final_trial = t.trial_id;
  }
  std::string trials;
  for (const server::TrialRecord& t : page->trials) {
    trials += "trial " + std::to_string(t.trial_id) + " " + server::TrialStatusName(t.status) +
              (t.metrics ? " val_error " + std::to_string(t.metrics->val_error) +
                               " int8_val_error " + std::to_string(t.metrics->int8_val_error.value_or(-1))
                         : std::string()) +
              "\n";
  }
  ASSERT_GT(final_trial, 0) << trials << serve.Log();
  const std::string out_dir = dir + "/export";
  Process run({"export", id, std::to_string(final_trial), out_dir, "--coordinator", address, "--token", kToken},
              dir + "/export.log");
  ASSERT_EQ(run.Wait(60000), 0) << run.Log();
  std::ifstream header(out_dir + "/c/model.h");
  const std::string model_h((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  EXPECT_NE(model_h.find("#define UNAS_MODEL_PCM_SAMPLES 16000\n"), std::string::npos) << model_h;
  EXPECT_NE(model_h.find("void unas_model_features(const int16_t *pcm, int8_t *input, uint8_t *arena);"),
            std::string::npos);
  EXPECT_TRUE(std::ifstream(out_dir + "/c/frontend.c").good());
  EXPECT_TRUE(std::ifstream(out_dir + "/c/frontend.h").good());
  const auto document = nlohmann::json::parse(std::ifstream(out_dir + "/export.json"));
  EXPECT_EQ(document["input"]["shape"], nlohmann::json({49, 40, 1}));
  EXPECT_EQ(document["input"]["num_classes"], 4);
  EXPECT_EQ(document["input"]["class_names"], nlohmann::json({"_silence_", "_unknown_", "yes", "no"}));
  // The cost report and the trial's stored costs include the audio front end
  // (firmware accounting: flash + 5,797 B, peak SRAM max(network, 6,256 B)).
  const auto& report = document["cost_report"];
  ASSERT_TRUE(report.contains("audio_frontend")) << report.dump();
  EXPECT_EQ(report["audio_frontend"]["flash_bytes"], 5797);
  EXPECT_EQ(report["audio_frontend"]["scratch_bytes"], 6256);
  EXPECT_EQ(report["audio_frontend"]["instructions"], 4924686);
  EXPECT_EQ(report["flash_bytes"], report["audio_frontend"]["network_flash_bytes"].get<int64_t>() + 5797);
  EXPECT_EQ(report["peak_sram_bytes"],
            std::max<int64_t>(report["audio_frontend"]["network_peak_sram_bytes"].get<int64_t>(), 6256));
  EXPECT_EQ(document["costs"]["flash_bytes"], report["flash_bytes"]);
  EXPECT_EQ(document["costs"]["peak_sram_bytes"], report["peak_sram_bytes"]);
}

}  // namespace
}  // namespace unas::testing
