// The converters at the coordinator's edges (proto/proto_convert.h,
// server/core/json_convert.h) for the multi-fidelity and final-retraining fields:
// each travels through the proto both ways and appears in the REST JSON.
#include <tuple>

#include <google/protobuf/text_format.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/core/json_convert.h"
#include "proto/proto_convert.h"
#include "tests/server/trial_records.h"

namespace unas::server {
namespace {

using test_records::MakeMetrics;
using test_records::MakeTrial;

// FromProto's answer as a value: a Result must be ok.
template <typename T>
T Unwrap(T value) {
  return value;
}
template <typename T>
T Unwrap(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? std::move(result).value() : T{};
}

TrialRecord FinalTrial() {
  TrialRecord t = MakeTrial(12, 4, 0, 0, 2);
  t.metrics = MakeMetrics(0.125, 0.25, std::nullopt, 0.375);
  return t;
}

TrialRecord Promoted() {
  TrialRecord t = MakeTrial(9, 3, 2, 5, 0);
  t.metrics = MakeMetrics(0.5, 0.0625, std::nullopt, std::nullopt);  // no int8 error: the float one counts
  return t;
}

// `text` (protobuf text format, every field of the message set to a value
// that is not its default) read back through FromProto and written again
// with ToProto: the same message, so no field is dropped or crossed either
// way (proto_convert.cc's field lists).
template <typename Message>
void ExpectRoundTrip(const std::string& text) {
  Message p;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  Message again;
  ToProto(Unwrap(FromProto(p)), &again);
  EXPECT_EQ(again.DebugString(), p.DebugString());
}

TEST(ConvertTest, EveryFieldOfEveryMessageSurvivesTheProtoBothWays) {
  const std::string costs = R"(params: 1 flash_bytes: 2 macs: 3 peak_sram_bytes: 4 build_order_peak_sram_bytes: 5
                               latency_ms: 6.5)";
  const std::string metrics = R"(val_error: 0.25 test_error: 0.5 train_seconds: 7.5 samples_per_second: 8.5
                                 epochs: 9 int8_val_error: 0.125 int8_test_error: 0.375)";
  ExpectRoundTrip<v1::Trial>(R"(job_id: "j" trial_id: 3 status: TRIAL_COMPLETED candidate_json: "{}"
      candidate_hash: "h" costs {)" + costs + R"(} metrics {)" + metrics + R"(} attempts: 2 worker_id: "w"
      error: "e" created_unix_ms: 11 started_unix_ms: 12 finished_unix_ms: 13 pruned_candidate_json: "{\"p\":1}"
      pruned_costs {)" + costs + R"(} progress: 0.75 has_tflite: true proposal_id: 19 rung: 20 promoted_from: 21
      final_round: 22 final_test_accuracy: 0.625 objective_error: 0.125)");
  ExpectRoundTrip<v1::Job>(R"(job_id: "j" name: "n" status: JOB_RUNNING spec_json: "{}" trials_completed: 5
      trials_failed: 6 trials_running: 7 trials_budget: 8 infeasible_rejected: 9 best_val_error: 0.25
      hypervolume: 0.5 error: "e" created_unix_ms: 13 finished_unix_ms: 14 final_round: 15 final_epochs: 16
      finalizing: true trials_proposed: 18)");
  ExpectRoundTrip<v1::Dataset>(R"(name: "d" sha256: "s" kind: "folder" entry: "e" num_classes: 5
      class_names: "a" class_names: "b" input_height: 7 input_width: 8 input_channels: 3 file_count: 10
      content_bytes: 11 pack_bytes: 12 created_unix_ms: 13)");
  ExpectRoundTrip<v1::UploadDatasetRequest>(
      R"(name: "d" sha256: "s" kind: "idx" entry: "e" num_classes: 5 pack_bytes: 6)");
  const std::string training = R"(optimizer: OPTIMIZER_ADAMW learning_rate: 0.5 lr_schedule { epoch: 3
      learning_rate: 0.25 } momentum: 0.75 weight_decay: 0.125 dropout: 0.0625 epochs: 7 batch_size: 8 seed: 9
      threads: 10 subset: 0.5 prune { enabled: true target: PRUNE_FLASH max_fraction: 0.25
      max_group_fraction: 0.5 start_epoch: 5 target_bytes: 6 accounting: ACCOUNTING_FIRMWARE
      mode: PRUNE_DURING_TRAINING target_ratio: 0.75 end_epoch: 10 update_steps: 11 } quantize: true
      calibration_images: 15 augment_shift_px: 16 augment_flip: true augment_noise_sd: 0.25)";
  const std::string speech = R"(wanted_words: "on" wanted_words: "off" silence_percent: 2 unknown_percent: 3
      time_shift_ms: 4 background_frequency: 0.5 background_volume: 0.25 augment_copies: 7 seed: 8
      window_ms: 30 stride_ms: 10 mel_channels: 11 lower_hz: 12 upper_hz: 4000 log_mel: true
      mfcc_coefficients: 11)";
  ExpectRoundTrip<v1::TrialAssignment>(R"(job_id: "j" trial_id: 2 lease_id: "l" candidate_json: "{}" task {
      dataset { kind: DATASET_SPEECH_COMMANDS directory: "/d" num_classes: 3 synthetic_train: 4
      synthetic_test: 5 input_height: 20 input_width: 21 input_channels: 1 skip_bad_files: true speech {)" +
      speech + R"(} sha256: "s" } training {)" + training + R"(} evaluator: EVALUATOR_TRAIN
      synthetic_delay_ms: 4 } attempt: 6 init_weights: "w" init_epochs: 8)");
  ExpectRoundTrip<v1::CompleteTrialRequest>(R"(succeeded: true metrics {)" + metrics + R"(} error: "e"
      released: true weights: "w" pruned_candidate_json: "{}" pruned_costs {)" + costs + R"(}
      model_tflite: "m" failure: FAILURE_WORKER)");
}

TEST(ConvertTest, TrialRungPromotionAndFinalRoundTravelThroughTheProto) {
  for (const TrialRecord& t : {FinalTrial(), Promoted()}) {
    v1::Trial p;
    ToProto(t, &p);
    EXPECT_EQ(p.proposal_id(), t.proposal_id);
    EXPECT_EQ(p.rung(), t.rung);
    EXPECT_EQ(p.promoted_from(), t.promoted_from);
    EXPECT_EQ(p.final_round(), t.final_round);
    ASSERT_TRUE(p.has_final_test_accuracy());
    const TrialRecord back = FromProto(p);
    EXPECT_EQ(back.proposal_id, t.proposal_id);
    EXPECT_EQ(back.rung, t.rung);
    EXPECT_EQ(back.promoted_from, t.promoted_from);
    EXPECT_EQ(back.final_round, t.final_round);
  }
  v1::Trial p;
  ToProto(FinalTrial(), &p);
  EXPECT_DOUBLE_EQ(p.final_test_accuracy(), 0.625);  // 1 - the int8 test error
  ToProto(Promoted(), &p);
  EXPECT_DOUBLE_EQ(p.final_test_accuracy(), 0.9375);  // 1 - the float test error
  TrialRecord pending;
  pending.trial_id = 1;
  v1::Trial none;
  ToProto(pending, &none);
  EXPECT_FALSE(none.has_final_test_accuracy());
}

// The upload's header: mapped in proto_convert, not in the gRPC handler.
TEST(ConvertTest, DatasetUploadHeaderTravelsThroughTheProtoFieldByField) {
  const std::string sha256(64, 'c');
  const DatasetUploadHeader sent{"walk", sha256, "csv", "walk.csv", 7, 4096};
  v1::UploadDatasetRequest p;
  ToProto(sent, &p);
  EXPECT_EQ(std::make_tuple(p.name(), p.sha256(), p.kind(), p.entry(), p.num_classes(), p.pack_bytes()),
            std::make_tuple(std::string("walk"), sha256, std::string("csv"), std::string("walk.csv"), 7, int64_t{4096}));
  EXPECT_TRUE(p.chunk().empty());
  p.set_chunk("bytes");  // the first message may carry bytes too; they are not the header's
  const DatasetUploadHeader back = FromProto(p);
  EXPECT_EQ(std::make_tuple(back.name, back.sha256, back.kind, back.entry, back.num_classes, back.pack_bytes),
            std::make_tuple(sent.name, sent.sha256, sent.kind, sent.entry, sent.num_classes, sent.pack_bytes));
}

TEST(ConvertTest, JobFinalRoundAndFinalizingTravelThroughTheProto) {
  JobView view;
  view.record.job_id = "j";
  view.record.final_round = 3;
  view.record.final_epochs = 40;
  view.finalizing = true;
  v1::Job p;
  ToProto(view, &p);
  EXPECT_EQ(p.final_round(), 3);
  EXPECT_EQ(p.final_epochs(), 40);
  EXPECT_TRUE(p.finalizing());
  const JobView back = FromProto(p);
  EXPECT_EQ(back.record.final_round, 3);
  EXPECT_EQ(back.record.final_epochs, 40);
  EXPECT_TRUE(back.finalizing);
}

TEST(ConvertTest, ParetoFinalFrontTravelsThroughTheProtoInOrder) {
  ParetoView front;
  front.objectives = {"error", "peak_sram"};
  front.trials = {Promoted()};
  front.final_round = 2;
  front.final_front = {FinalTrial(), Promoted()};
  front.final_hypervolume = 0.375;
  v1::ParetoFront p;
  ToProto(front, &p);
  EXPECT_EQ(p.final_round(), 2);
  ASSERT_EQ(p.final_front_size(), 2);
  const ParetoView back = FromProto(p);
  EXPECT_EQ(back.final_round, 2);
  EXPECT_EQ(back.final_hypervolume, 0.375);
  ASSERT_EQ(back.final_front.size(), 2u);
  EXPECT_EQ(back.final_front[0].trial_id, 12);
  EXPECT_EQ(back.final_front[1].trial_id, 9);
  ASSERT_EQ(back.trials.size(), 1u);
  EXPECT_EQ(back.trials[0].rung, 2);
}

TEST(ConvertTest, RestJsonCarriesTheNewTrialJobAndParetoFields) {
  const nlohmann::json trial = ToJson(FinalTrial());
  EXPECT_EQ(trial["proposal_id"], 4);
  EXPECT_EQ(trial["rung"], 0);
  EXPECT_EQ(trial["promoted_from"], 0);
  EXPECT_EQ(trial["final_round"], 2);
  EXPECT_DOUBLE_EQ(trial["final_test_accuracy"].get<double>(), 0.625);
  const nlohmann::json promoted = ToJson(Promoted());
  EXPECT_EQ(promoted["rung"], 2);
  EXPECT_EQ(promoted["promoted_from"], 5);
  EXPECT_DOUBLE_EQ(promoted["final_test_accuracy"].get<double>(), 0.9375);
  TrialRecord pending;
  EXPECT_TRUE(ToJson(pending)["final_test_accuracy"].is_null());

  JobView view;
  view.record.final_round = 1;
  view.record.final_epochs = 0;
  view.finalizing = true;
  const nlohmann::json job = ToJson(view);
  EXPECT_EQ(job["final_round"], 1);
  EXPECT_EQ(job["final_epochs"], 0);
  EXPECT_EQ(job["finalizing"], true);

  ParetoView front;
  front.trials = {Promoted()};
  front.final_round = 2;
  front.final_front = {FinalTrial(), Promoted()};
  front.final_hypervolume = 0.25;
  const nlohmann::json pareto = ToJson(front);
  EXPECT_EQ(pareto["final_round"], 2);
  EXPECT_EQ(pareto["final_hypervolume"], 0.25);
  ASSERT_EQ(pareto["final"].size(), 2u);
  EXPECT_EQ(pareto["final"][0], ToJson(FinalTrial()));
  EXPECT_EQ(pareto["final"][1]["trial_id"], 9);
  EXPECT_EQ(pareto["trials"][0]["trial_id"], 9);
  EXPECT_TRUE(ToJson(ParetoView())["final"].empty());
  EXPECT_EQ(ToJson(ParetoView())["final_round"], 0);
}

// Users' data sets cross to the worker with their shape and bad-file policy.
TEST(ConvertTest, FolderAndCsvDataSetsTravelWithShapeAndPolicy) {
  for (const char* text : {"folder:/data/pets", "csv:/data/imu.csv"}) {
    worker::TrialTask task;
    task.dataset = *data::ParseDatasetSpec(text);
    task.dataset.input_shape = data::InputShape{32, 1, 3};
    task.dataset.bad_files = data::BadFilePolicy::kSkip;
    v1::TrialTask p;
    ToProto(task, &p);
    auto back = FromProto(p);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->dataset.Key(), task.dataset.Key());
    EXPECT_EQ(back->dataset.input_shape.channels, 3);
  }
  v1::TrialTask bad;
  ToProto(worker::TrialTask{}, &bad);
  bad.mutable_dataset()->set_input_height(32);
  bad.mutable_dataset()->set_input_width(32);
  bad.mutable_dataset()->set_input_channels(0);
  EXPECT_EQ(FromProto(bad).status().message(),
            "input_shape [32, 32, 0]: height must be 1..65536, width 1..4096, channels 1..256");
}

// The C library's measured flash and its note, and the task's memory model
// (which C library the worker measures), both ways and in the REST JSON.
TEST(ConvertTest, CLibraryFlashAndPartialExecutionTravelThroughTheProto) {
  TrialRecord measured = FinalTrial();
  measured.metrics->c_library_flash_bytes = 97331;
  TrialRecord missing = Promoted();
  missing.metrics->c_library_flash_note = "arm-none-eabi-gcc not found on the worker";
  for (const TrialRecord& t : {measured, missing}) {
    v1::Trial p;
    ToProto(t, &p);
    const TrialRecord back = FromProto(p);
    EXPECT_EQ(back.metrics->c_library_flash_bytes, t.metrics->c_library_flash_bytes);
    EXPECT_EQ(back.metrics->c_library_flash_note, t.metrics->c_library_flash_note);
  }
  EXPECT_EQ(ToJson(measured)["metrics"]["c_library_flash_bytes"], 97331);
  EXPECT_EQ(ToJson(measured)["metrics"]["c_library_flash_note"], "");
  EXPECT_TRUE(ToJson(missing)["metrics"]["c_library_flash_bytes"].is_null());
  EXPECT_EQ(ToJson(missing)["metrics"]["c_library_flash_note"], "arm-none-eabi-gcc not found on the worker");
  for (const bool partial : {false, true}) {
    worker::TrialTask task;
    task.dataset = *data::ParseDatasetSpec("synthetic");
    task.partial_execution = partial;
    v1::TrialTask p;
    ToProto(task, &p);
    EXPECT_EQ(FromProto(p).value().partial_execution, partial);
  }
}

}  // namespace
}  // namespace unas::server
