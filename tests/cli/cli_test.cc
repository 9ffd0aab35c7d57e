// The `unas` binary as a user runs it: exit codes, output, the batch interface.
#include <algorithm>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/common/hostile_models.h"
#include "tests/temp_dir.h"
#include "tflite/writer.h"

namespace {

using unas::testing::CliRun;
using unas::testing::JsonOutput;

// This binary's scratch directory, removed with its files when the tests exit.
const std::string& Scratch() {
  static unas::testing::TempDir dir("cli");
  return dir.path();
}

// `unas ARGS`, with `env` ("VAR=value ...") set for it alone.
CliRun Unas(const std::string& args, const std::string& stdin_text = "", const std::string& env = "") {
  std::string command = (env.empty() ? "" : "env " + env + " ") + std::string(UNAS_BINARY) + " " + args + " 2>&1";
  if (!stdin_text.empty()) {
    const std::string path = Scratch() + "/unas_cli_stdin.txt";
    std::ofstream(path) << stdin_text;
    command += " < " + path;
  }
  return unas::testing::RunCommand(command);
}

const std::string kExample = std::string(UNAS_SOURCE_DIR) + "/examples/worked_example.json";

TEST(CliTest, CostPrintsTableWithWorkedExampleTotals) {
  const CliRun r = Unas("cost " + kExample + " --input-shape 28,28,1 --classes 10 --accounting unas");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("flash (model)     4,394 bytes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MACs              54,000"), std::string::npos);
  EXPECT_NE(r.out.find("peak SRAM         2,968 bytes (best order: 0 3 4 1 2 5 6 7 8 9)"), std::string::npos);
  EXPECT_NE(r.out.find("peak SRAM, build  4,256 bytes"), std::string::npos);
  EXPECT_NE(r.out.find("  4  conv 5x5/2 x16 relu       3       2x2x16          3,216       12,800"),
            std::string::npos);
}

TEST(CliTest, CostShowsThePartialExecutionPeakAndPlan) {
  // Partial execution is a feature of unas's firmware runtime, so under the
  // default tflm accounting it is planned in the firmware accounting: the
  // whole-tensor peak 2,968 is the 1x1 conv (968 in, 1,936 out, 64 from the
  // branch); slicing the 1x1 conv into the tie-up max-pool leaves the
  // depthwise conv as the peak: 1,352 in + 968 out + 64 = 2,384.
  const CliRun table = Unas("cost " + kExample);
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("peak SRAM, pex    2,384 bytes (1.24x below the best order's 2,968"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("segment 0: ops 2 5 in 2 slices of 8 of 16 channels"), std::string::npos) << table.out;
  const CliRun r = Unas("cost " + kExample + " --json");
  nlohmann::json j = JsonOutput(r);
  EXPECT_EQ(j["pex_peak_sram_bytes"], 2384);
  EXPECT_EQ(j["partial_execution"]["accounting"], "firmware");
  EXPECT_EQ(j["partial_execution"]["whole_peak_sram_bytes"], 2968);
  EXPECT_EQ(j["partial_execution"]["segments"][0]["ops"], nlohmann::json({2, 5}));
  EXPECT_EQ(j["partial_execution"]["macs"], 54000);
  const CliRun none = Unas("cost " + kExample + " --no-pex");
  EXPECT_EQ(none.out.find("partial execution"), std::string::npos);
}

TEST(CliTest, CostJsonHasTotalsPerLayerRowsAndLatency) {
  const CliRun r = Unas("cost " + kExample + " --json --accounting firmware --mcu cortex-m7-216mhz");
  nlohmann::json j = JsonOutput(r);
  EXPECT_EQ(j["accounting"], "firmware");
  // firmware: biases are int32: 4394 + 3 x (8 + 8 + 16 + 16 + 32 + 10) = 4664.
  EXPECT_EQ(j["flash_bytes"], 4664);
  EXPECT_EQ(j["macs"], 54000);
  EXPECT_EQ(j["tflm_total_arena_bytes"], 0);
  // firmware counts the 28x28x1 input, live until the first conv has run: 784 +
  // 1352 at the first step; the peak stays at the 1x1 conv: 2968.
  EXPECT_EQ(j["timeline_best_order"][0], 784 + 1352);
  EXPECT_EQ(j["peak_sram_bytes"], 2968);
  EXPECT_EQ(j["ops"].size(), 10u);
  EXPECT_EQ(j["ops"][4]["output_shape"], nlohmann::json({2, 2, 16}));
  EXPECT_EQ(j["mcu"], "cortex-m7-216mhz");
  EXPECT_GT(j["latency_ms"].get<double>(), 0.0);
}

// A keyword model: --audio-frontend adds the front end (costmodel/frontend_cost.h)
// to the network's figures and takes the input shape from it.
TEST(CliTest, CostWithAnAudioFrontEndCountsItsFlashScratchAndInstructions) {
  const std::string common = "cost " + kExample + " --json --accounting firmware --mcu unas-c-cortex-m4-80mhz --classes 12";
  nlohmann::json alone = JsonOutput(Unas(common + " --input-shape 49,40,1"));
  nlohmann::json kws = JsonOutput(Unas(common + " --audio-frontend default"));
  EXPECT_EQ(kws["input_shape"], nlohmann::json({49, 40, 1}));
  EXPECT_EQ(kws["flash_bytes"], alone["flash_bytes"].get<int64_t>() + 5797);
  EXPECT_EQ(kws["peak_sram_bytes"], std::max<int64_t>(alone["peak_sram_bytes"].get<int64_t>(), 6256));
  EXPECT_NEAR(kws["latency_ms"].get<double>() - alone["latency_ms"].get<double>(), 4924686 / 80e6 * 1e3, 1e-9);
  EXPECT_EQ(kws["audio_frontend"]["instructions"], 4924686);
  EXPECT_EQ(kws["audio_frontend"]["scratch_bytes"], 6256);
  EXPECT_EQ(kws["audio_frontend"]["network_flash_bytes"], alone["flash_bytes"]);
  EXPECT_GE(kws["pex_peak_sram_bytes"].get<int64_t>(), 6256);
  // MLPerf Tiny's front end: 49 x 10, 8,506,822 instructions (FrontendCost.InstructionsFollowTheParameters).
  nlohmann::json mlperf = JsonOutput(Unas(common + " --audio-frontend window_ms=40,mfcc_coefficients=10"));
  EXPECT_EQ(mlperf["input_shape"], nlohmann::json({49, 10, 1}));
  EXPECT_EQ(mlperf["audio_frontend"]["instructions"], 8506822);

  const CliRun bad = Unas(common + " --audio-frontend mel_channels=0");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("--audio-frontend: audio: audio front end: mel_channels = 0 is out of its range"), std::string::npos) << bad.out;
  const CliRun unknown = Unas(common + " --audio-frontend hop_ms=10");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("'hop_ms' is not a front-end field"), std::string::npos) << unknown.out;
  const CliRun shape = Unas(common + " --audio-frontend default --input-shape 28,28,1");
  EXPECT_EQ(shape.exit_code, 2);
  EXPECT_NE(shape.out.find("--input-shape 28,28,1 is not the front end's 49,40,1"), std::string::npos) << shape.out;
}

// The tflm accounting on the network of CostModelTest.TflmAccountingHandWorked
// (worked there by hand): planned arena 768, persistent 1,124 (TFLM's
// allocator objects and per-operator data included), total 1,892.
TEST(CliTest, CostJsonCarriesTflmArenaFigures) {
  const std::string path = ::testing::TempDir() + "/small_branched.json";
  std::ofstream(path) << R"({"conv_blocks":[
    {"is_branch":false,"layers":[{"type":"Conv2D","ker_size":3,"filters":4,"2x_stride":false,
      "has_bn":true,"has_relu":true,"has_prepool":false}]},
    {"is_branch":true,"layers":[{"type":"1x1Conv2D","filters":7,"has_bn":false,"has_relu":true,
      "has_prepool":false}]}],"pooling":null,"dense_blocks":[{"units":10}]})";
  const CliRun r = Unas("cost " + path + " --input-shape 8,8,1 --classes 10 --accounting tflm --json --no-pex");
  std::remove(path.c_str());
  nlohmann::json j = JsonOutput(r);
  EXPECT_EQ(j["accounting"], "tflm");
  EXPECT_EQ(j["tflm_arena_bytes"], 768);
  EXPECT_EQ(j["tflm_persistent_bytes"], 1124);
  EXPECT_EQ(j["tflm_total_arena_bytes"], 1892);
  EXPECT_EQ(j["peak_sram_bytes"], 1892);
  EXPECT_EQ(j["tflm_order"].size(), 6u);
}

// unas analyze on TFLM's person detection model (a MobileNet-style chain):
// the figures TFLM measured (expected.json: 55,296 live and planned), no
// saving from reordering, a reordered file and an SVG written, and partial
// execution lowering the peak.
TEST(CliTest, AnalyzeJsonReorderAndPlot) {
  const std::string model = std::string(UNAS_SHARED_DIR) + "/testdata/tflite/person_detect.tflite";
  const std::string out = ::testing::TempDir() + "/reordered_person.tflite";
  const std::string svg = ::testing::TempDir() + "/person.svg";
  const CliRun r = Unas("analyze " + model + " --json --reorder " + out + " --plot " + svg);
  std::ifstream written(out, std::ios::binary), plot(svg);
  const std::string file((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  const std::string chart((std::istreambuf_iterator<char>(plot)), std::istreambuf_iterator<char>());
  std::remove(out.c_str());
  std::remove(svg.c_str());
  nlohmann::json j = JsonOutput(r);
  EXPECT_EQ(j["model"]["operators"], 31);
  EXPECT_EQ(j["operators"].size(), 31u);
  EXPECT_EQ(j["file_order"]["peak_bytes"], 55296);
  EXPECT_EQ(j["file_order"]["tflm_arena_bytes"], 55296);
  EXPECT_EQ(j["best_order"]["peak_bytes"], 55296);
  EXPECT_EQ(j["best_order"]["saving_bytes"], 0);
  EXPECT_TRUE(j["partial_execution"]["applies"].get<bool>());
  EXPECT_LT(j["partial_execution"]["peak_bytes"].get<int64_t>(), 55296);
  EXPECT_EQ(file.substr(4, 4), "TFL3");
  EXPECT_EQ(chart.rfind("<svg", 0), 0u);
  const CliRun bad = Unas("analyze " + kExample);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("tflite: "), std::string::npos) << bad.out;
}

// Issue 23: the size limit applies before a byte is read (a sparse file of
// 300 MiB uses no disk), devices are refused (`unas analyze /dev/zero` grew
// without bound), and a pipe is read as a stream.
TEST(CliTest, AnalyzeChecksTheSizeLimitBeforeReading) {
  unas::testing::TempDir dir("cli_analyze");
  const std::string huge = dir / "huge.tflite";
  {
    std::ofstream create(huge);
  }
  ASSERT_EQ(::truncate(huge.c_str(), off_t{300} << 20), 0);
  const CliRun r = Unas("analyze " + huge);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "unas analyze: tflite: '" + huge + "' is 314572800 bytes, more than the limit of 268435456\n");
  const CliRun zero = Unas("analyze /dev/zero");
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_EQ(zero.out, "unas analyze: tflite: '/dev/zero' is a device, not a model file (a regular file or a pipe)\n");
}

TEST(CliTest, AnalyzeReadsAModelFromAFifo) {
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &previous), 0);
  unas::testing::TempDir dir("cli_analyze");
  const std::string fifo = dir / "model.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ifstream in(std::string(UNAS_SHARED_DIR) + "/testdata/tflite/person_detect.tflite", std::ios::binary);
  const std::string model((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::thread writer([&] {
    int fd = -1;  // ENXIO until unas has opened the FIFO: at most 10 s of tries
    for (int attempt = 0; attempt < 10000 && fd < 0; ++attempt) {
      fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (fd < 0) return;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    for (size_t done = 0; done < model.size();) {
      const ssize_t n = ::write(fd, model.data() + done, model.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  const CliRun r = Unas("analyze " + fifo + " --json");
  writer.join();
  ::sigaction(SIGPIPE, &previous, nullptr);
  nlohmann::json j = JsonOutput(r);
  EXPECT_EQ(j["model"]["operators"], 31);
  EXPECT_EQ(j["file_order"]["peak_bytes"], 55296);
}

// The probe's 10,000-operator chain (over 900 s before) is analysed; one
// operator more is refused while reading, naming the limit.
TEST(CliTest, AnalyzeAnswersATenThousandOperatorChainAndRefusesALongerOne) {
  unas::testing::TempDir dir("cli_analyze");
  for (int ops : {10000, 10001}) {
    auto bytes = unas::WriteTflite(unas::testing::ChainModel(ops));
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    const std::string path = dir / ("chain" + std::to_string(ops) + ".tflite");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()),
                                                static_cast<std::streamsize>(bytes->size()));
    const CliRun r = Unas("analyze " + path + " --json");
    if (ops == 10000) {
      nlohmann::json j = JsonOutput(r);
      EXPECT_EQ(j["model"]["operators"], 10000);
      EXPECT_EQ(j["file_order"]["peak_bytes"], 256);
      EXPECT_EQ(j["best_order"]["proven_optimal"], false);
    } else {
      EXPECT_EQ(r.exit_code, 1);
      EXPECT_EQ(r.out, "unas analyze: " + path +
                           ": tflite: the first subgraph has 10001 operators, more than the limit of 10000\n");
    }
  }
}

TEST(CliTest, BatchInterfaceAnswersEveryLineInOrder) {
  std::ifstream in(kExample);
  std::string arch((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : arch) c = c == '\n' ? ' ' : c;
  const std::string good = R"({"input_shape":[28,28,1],"num_classes":10,"architecture":)" + arch + "}";
  const std::string lines = good + "\n{broken\n" + good + "\n";
  const CliRun r = Unas("cost --accounting unas --jsonl", lines);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream out(r.out);
  std::string l1, l2, l3;
  std::getline(out, l1);
  std::getline(out, l2);
  std::getline(out, l3);
  const auto a = nlohmann::json::parse(l1), b = nlohmann::json::parse(l2), c = nlohmann::json::parse(l3);
  EXPECT_EQ(a["peak_memory"], 2968);
  EXPECT_EQ(a["model_size"], 4394);
  EXPECT_EQ(a["macs"], 54000);
  EXPECT_EQ(b["error"], "line is not valid JSON");
  EXPECT_EQ(c, a);
}

TEST(CliTest, HundredThousandDeepInputIsAnErrorNotACrash) {
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  const std::string path = Scratch() + "/deep.json";
  std::ofstream(path) << R"({"conv_blocks":)" << deep << "}";
  const CliRun file = Unas("cost " + path);
  std::remove(path.c_str());
  EXPECT_EQ(file.exit_code, 1) << file.out.substr(0, 300);
  EXPECT_EQ(file.out, "unas cost: " + path + ": JSON nests deeper than 64 levels (at byte 78)\n");
  const CliRun lines = Unas("cost --jsonl", R"({"input_shape":[28,28,1],"num_classes":10,"architecture":)" + deep +
                                                "}\n");
  EXPECT_EQ(lines.exit_code, 0) << lines.out.substr(0, 300);
  EXPECT_EQ(lines.out, std::string(R"x({"error":"line: JSON nests deeper than 64 levels (at byte 120)"})x") + "\n");
}

// Issue 23: `unas export JOB 9223372036854775808` exported trial ...807 (the
// number clamped); `unas cost --jsonl` took a key given twice (the last won).
TEST(CliTest, ExportRefusesATrialNumberOutOfRangeAndJsonLinesRefuseRepeatedKeys) {
  for (const std::string trial : {"9223372036854775808", "99999999999999999999999", "0", "-3", "12abc"}) {
    const CliRun r = Unas("export job-1 " + trial + " " + Scratch() + "/export-out");
    EXPECT_EQ(r.exit_code, 2) << trial;
    EXPECT_EQ(r.out, "unas export: TRIAL: '" + trial + "' is not a trial number (1..9223372036854775807)\n");
  }
  const CliRun lines = Unas("cost --jsonl", R"({"input_shape":[28,28,1],"num_classes":10,"num_classes":12})" "\n");
  EXPECT_EQ(lines.exit_code, 0) << lines.out;
  EXPECT_EQ(lines.out, std::string(R"({"error":"line: num_classes: the key appears twice in one object"})") + "\n");
}

TEST(CliTest, BadUsageExitsTwoAndSaysWhy) {
  CliRun r = Unas("cost " + kExample + " --accounting tlfm");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("accounting: 'tlfm' is not one of unas, tflm"), std::string::npos) << r.out;
  r = Unas("cost " + kExample + " --input-shape 28,x,1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--input-shape: '28,x,1' is not a comma-separated list of integers"), std::string::npos);
  r = Unas("cost " + kExample + " --frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown option --frobnicate"), std::string::npos);
  r = Unas("cost /nonexistent.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/nonexistent.json: cannot open file"), std::string::npos);
  r = Unas("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown command 'frobnicate'"), std::string::npos);
}

// Train, serve and cost check their flags as steps before they touch a file:
// each usage error names its flag and exits 2, the first in the order the
// flags are checked (the recipe, then the data set for train) wins over a
// later one and over a missing architecture file, and a refused serve
// creates no data directory. Messages as the commands printed them before
// they were split into steps.
TEST(CliTest, UsageErrorsNameTheFlagBeforeAnyFileIsRead) {
  const std::string missing = "/nonexistent.json";
  // Each case: `unas COMMAND ARGS FLAGS` exits 2 printing exactly "unas COMMAND: MESSAGE".
  const auto expect_refused = [](const std::string& command, const std::string& args,
                                 const std::vector<std::pair<std::string, std::string>>& cases) {
    for (const auto& [flags, message] : cases) {
      const CliRun r = Unas(command + " " + args + " " + flags);
      EXPECT_EQ(r.exit_code, 2) << flags;
      EXPECT_EQ(r.out, "unas " + command + ": " + message + "\n") << flags;
    }
  };
  // Each exec of unas-torch loads LibTorch (about a second): one case per step.
  expect_refused("train", missing,
                 {{"--bad-files keep --lr-schedule 3", "--lr-schedule: '3' is not EPOCH:LR"},
                  {"--prune-epoch 3", "--prune-epoch needs --prune"},
                  {"--prune-mode during_training", "--prune-mode needs --prune"},
                  {"--words yes,no", "--words needs --dataset speech_commands:DIR"}});
  const CliRun no_file = Unas("train " + missing);
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_EQ(no_file.out, "unas train: /nonexistent.json: cannot open file\n");

  const std::string data_dir = Scratch() + "/refused-serve";
  expect_refused("serve", "--data-dir " + data_dir,
                 {{"--heartbeat-ms 600 --lease-timeout-ms 1000",
                   "--heartbeat-ms must be at most half of --lease-timeout-ms"},
                  {"--no-auth --http 0.0.0.0:8080", "--no-auth is only allowed with a loopback --http address"}});
  struct stat st;
  EXPECT_NE(stat(data_dir.c_str(), &st), 0) << "a refused serve made " << data_dir;

  CliRun r = Unas("cost --jsonl " + kExample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "unas cost: --jsonl reads standard input and takes no file\n");
  r = Unas("cost " + missing + " --board nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.rfind("unas cost: --board: unknown board 'nope' (known: ", 0), 0u) << r.out;
  r = Unas("cost " + missing + " --mcu nope --board nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.rfind("unas cost: --mcu: unknown MCU profile 'nope' (known: ", 0), 0u) << r.out;
}

TEST(CliTest, InvalidArchitectureNamesTheKey) {
  const std::string path = Scratch() + "/bad_arch.json";
  std::ofstream(path) << R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":"Conv2D","ker_size":4,
    "filters":8,"2x_stride":true,"has_bn":true,"has_relu":true,"has_prepool":false}]}],"pooling":null,
    "dense_blocks":[{"units":32}]})";
  const CliRun r = Unas("cost " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("conv_blocks[0].layers[0].ker_size: 4 is not allowed (3, 5 or 7)"), std::string::npos)
      << r.out;
}

TEST(CliTest, SimulateReportsEveryFiftyTrialsAndIsDeterministic) {
  const std::string args = "simulate --strategy aging --trials 100 --seed 1 "
                           "--constraints peak_sram=64000,flash=64000,macs=30000000";
  const CliRun a = Unas(args), b = Unas(args);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);  // same seed, same synthetic results: same search
  std::istringstream lines(a.out);
  int rows = 0;
  bool final_line = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    long trials = 0;
    double hv = -1;
    if (fields >> trials >> hv && (trials == 50 || trials == 100)) {
      ++rows;
      EXPECT_GT(hv, 0.0);
      EXPECT_LE(hv, 1.0);
    }
    final_line = final_line || line.rfind("final hypervolume ", 0) == 0;
  }
  EXPECT_EQ(rows, 2);
  EXPECT_TRUE(final_line);
  EXPECT_NE(a.out.find("rejected by hard constraints"), std::string::npos);
  const CliRun bad = Unas("simulate --strategy magic");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("unknown strategy 'magic' (aging, bo or random)"), std::string::npos) << bad.out;
}

TEST(CliTest, TrainOutWritesTheInt8ModelAndBothAccuracies) {
  const std::string dir = Scratch() + "/train_out";  // removed with the scratch directory
  const CliRun r = Unas("train " + kExample + " --dataset synthetic --epochs 2 --batch-size 32 --lr 0.05 --threads 1 "
                        "--out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("int8: val_err"), std::string::npos) << r.out;
  std::ifstream model(dir + "/model.tflite", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(model)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(4, 4), "TFL3");
  std::ifstream metrics_file(dir + "/metrics.json");
  const auto metrics = nlohmann::json::parse(metrics_file);
  for (const char* key : {"test_accuracy", "int8_test_accuracy", "val_accuracy", "int8_val_accuracy"}) {
    ASSERT_TRUE(metrics.contains(key)) << key;
    EXPECT_GE(metrics[key].get<double>(), 0.0) << key;
    EXPECT_LE(metrics[key].get<double>(), 1.0) << key;
  }
  EXPECT_EQ(metrics["calibration_images"], 1000);
  EXPECT_EQ(metrics["tflite_bytes"], bytes.size());
  // The synthetic blobs are easy: float and int8 both near perfect.
  EXPECT_GE(metrics["test_accuracy"].get<double>(), 0.9);
  EXPECT_LE(std::abs(metrics["int8_test_accuracy"].get<double>() - metrics["test_accuracy"].get<double>()), 0.02);
  // The C library of the same model beside it.
  std::ifstream model_c(dir + "/c/model.c");
  const std::string source((std::istreambuf_iterator<char>(model_c)), std::istreambuf_iterator<char>());
  EXPECT_NE(source.find("void unas_model_invoke(const int8_t *input, int8_t *output, uint8_t *arena)"),
            std::string::npos) << source.substr(0, 2000);
  EXPECT_TRUE(std::ifstream(dir + "/c/model.h").good());
  EXPECT_TRUE(std::ifstream(dir + "/c/unas_kernels.c").good());
}

TEST(CliTest, EverySubcommandHasHelp) {
  const CliRun top = Unas("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("  UNAS_COORDINATOR   the coordinator's gRPC address"), std::string::npos) << top.out;
  for (const char* command : {"cost", "analyze", "simulate", "train", "serve", "worker", "submit", "jobs", "status",
                              "trials", "pareto", "cancel", "finalize", "export", "health", "backup"}) {
    const CliRun r = Unas(std::string(command) + " --help");
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.out;
    EXPECT_EQ(r.out.rfind("usage: unas " + std::string(command) + " ", 0), 0u) << r.out;
  }
  const CliRun cost = Unas("cost --help");
  EXPECT_NE(cost.out.find("--accounting unas|tflm"), std::string::npos);
  // Environment variables are named beside their flags; a default shows once.
  const CliRun jobs = Unas("jobs --help");
  EXPECT_NE(jobs.out.find("  --coordinator HOST:PORT   the coordinator's gRPC address (env UNAS_COORDINATOR, "
                          "default: 127.0.0.1:7070)\n"),
            std::string::npos)
      << jobs.out;
  EXPECT_NE(jobs.out.find("  --data-dir DIR            a local coordinator's data directory, to read its token (env "
                          "UNAS_DATA_DIR, default: unas-data)\n"),
            std::string::npos)
      << jobs.out;
  const CliRun serve = Unas("serve --help");
  EXPECT_NE(serve.out.find("  --web-dir DIR             the dashboard's files (env UNAS_WEB_DIR, default: " +
                           std::string(UNAS_SOURCE_DIR) + "/web)\n"),
            std::string::npos)
      << serve.out;
}

// unas holds the client commands without LibTorch; serve, worker and train
// run in unas-torch beside it, which does link it.
TEST(CliTest, ClientBinaryLinksNoLibTorch) {
  const std::string dir = std::string(UNAS_BINARY).substr(0, std::string(UNAS_BINARY).rfind('/') + 1);
  auto ldd = [](const std::string& binary) {
    FILE* pipe = popen(("ldd " + binary + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    pclose(pipe);
    return out;
  };
  const std::string light = ldd(UNAS_BINARY), torch = ldd(dir + "unas-torch");
  EXPECT_EQ(light.find("libtorch"), std::string::npos) << light;
  EXPECT_EQ(light.find("libc10"), std::string::npos) << light;
  EXPECT_EQ(light.find("not found"), std::string::npos) << light;
  EXPECT_NE(torch.find("libtorch"), std::string::npos) << torch;
  EXPECT_EQ(torch.find("not found"), std::string::npos) << torch;
}

// unas answers --help and bad usage of the unas-torch commands itself, and
// says what is missing when unas-torch is not beside it.
TEST(CliTest, TorchCommandsParseInUnasAndNameAMissingUnasTorch) {
  const std::string alone = Scratch() + "/alone";
  mkdir(alone.c_str(), 0755);
  ASSERT_EQ(std::system(("cp " + std::string(UNAS_BINARY) + " " + alone + "/unas").c_str()), 0);
  auto run = [&](const std::string& args) {
    FILE* pipe = popen((alone + "/unas " + args + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = pclose(pipe);
    return CliRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  };
  for (const char* command : {"serve", "worker", "train"}) {
    const CliRun help = run(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << help.out;
    EXPECT_EQ(help.out.rfind("usage: unas " + std::string(command) + " ", 0), 0u) << help.out;
    const CliRun bad = run(std::string(command) + " --frobnicate");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(bad.out, "unas " + std::string(command) + ": unknown option --frobnicate (see 'unas " + command +
                           " --help')\n");
  }
  const CliRun serve = run("serve --data-dir " + alone + "/data");
  std::remove((alone + "/unas").c_str());
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_EQ(serve.out, "unas serve: cannot run " + alone +
                           "/unas-torch: No such file or directory (serve, worker and train run in unas-torch, "
                           "which is built and installed beside unas)\n");
}

// "failed to connect to all addresses" becomes what to do about it, naming
// the address and what gave it.
TEST(CliTest, NoCoordinatorSaysWhereItLookedAndSuggestsServe) {
  const std::string advice = ": start one with 'unas serve', or point --coordinator or UNAS_COORDINATOR at a "
                             "running one [";
  CliRun r = Unas("jobs --coordinator 127.0.0.1:1 --token t0123456789abcdef0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("unas jobs: no coordinator answers at 127.0.0.1:1 (--coordinator)" + advice, 0), 0u) << r.out;
  r = Unas("status job-1 --token t0123456789abcdef0", "", "UNAS_COORDINATOR=127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("unas status: no coordinator answers at 127.0.0.1:1 (UNAS_COORDINATOR)" + advice, 0), 0u)
      << r.out;
  r = Unas("pareto job-1 --coordinator 127.0.0.1:1 --token t0123456789abcdef0", "", "UNAS_COORDINATOR=127.0.0.1:9");
  EXPECT_EQ(r.out.rfind("unas pareto: no coordinator answers at 127.0.0.1:1 (--coordinator)" + advice, 0), 0u)
      << r.out;
}

TEST(CliTest, TokenFileIsReadOrNamedInTheError) {
  const std::string dir = Scratch();
  EXPECT_EQ(Unas("jobs --token-file " + dir + "/no-such-token").out,
            "unas jobs: --token-file " + dir + "/no-such-token: cannot read a line\n");
  std::ofstream(dir + "/empty-token") << "\n";
  chmod((dir + "/empty-token").c_str(), 0600);
  const CliRun serve = Unas("serve --token-file " + dir + "/empty-token --data-dir " + dir + "/unused");
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_EQ(serve.out, "unas serve: --token-file " + dir + "/empty-token: the first line is empty\n");
  // 20 spaces is no token: trimmed to nothing.
  std::ofstream(dir + "/blank-token") << std::string(20, ' ') << "\n";
  chmod((dir + "/blank-token").c_str(), 0600);
  EXPECT_EQ(Unas("serve --token-file " + dir + "/blank-token --data-dir " + dir + "/unused").out,
            "unas serve: --token-file " + dir + "/blank-token: the first line is empty\n");
  // Our own token file readable by others: refused, with the fix.
  const std::string open_token = dir + "/open-token";
  std::ofstream(open_token) << "open-token-0123456789abcdef\n";
  chmod(open_token.c_str(), 0644);
  const CliRun open = Unas("serve --token-file " + open_token + " --data-dir " + dir + "/unused");
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_EQ(open.out, "unas serve: --token-file " + open_token + " is readable by others; run: chmod 600 " +
                          open_token + "\n");
  EXPECT_EQ(Unas("jobs --token-file " + open_token).out,
            "unas jobs: --token-file " + open_token + " is readable by others; run: chmod 600 " + open_token + "\n");
  chmod(open_token.c_str(), 0622);
  EXPECT_EQ(Unas("jobs --token-file " + open_token).out,
            "unas jobs: --token-file " + open_token + " is writable by others; run: chmod o-w " + open_token + "\n");
  // --token of spaces (20 of them pass the length check).
  const CliRun spaces = Unas("serve --token '" + std::string(20, ' ') + "' --data-dir " + dir + "/unused");
  EXPECT_EQ(spaces.exit_code, 1);
  EXPECT_EQ(spaces.out, "unas serve: token: must not contain spaces or control characters\n");
}

TEST(CliTest, HealthReportsEachCheckAndFailsIfOneFails) {
  const std::string dir = Scratch() + "/health_no_db";
  const CliRun r = Unas("health --coordinator 127.0.0.1:1 --token t0123456789abcdef0 --timeout-ms 500 --data-dir " + dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("FAIL grpc 127.0.0.1:1: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nFAIL database " + dir + "/unas.db: no such file\n"), std::string::npos) << r.out;
  EXPECT_EQ(Unas("health --no-grpc").exit_code, 2);  // nothing left to check
}

}  // namespace
