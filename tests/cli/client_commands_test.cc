// The client commands against a real `unas serve` (unas-torch, exec'd by
// unas) on loopback, configured the way a user does it: through
// UNAS_COORDINATOR and UNAS_DATA_DIR, flags winning over them. Exact output
// where the output is fixed (start-up lines, errors, health, headers), and
// listings checked against each other where the search decides the values.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.h"
#include "tests/service/process.h"

namespace unas::testing {
namespace {

// `unas ARGS` with the environment assignments `env` ("VAR=value ..."),
// through the shell.
CliRun Unas(const std::string& env, const std::string& args) {
  const std::string command = "env " + env + " " + std::string(UNAS_BINARY) + " " + args + " 2>&1";
  return RunCommand(command);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class ClientCommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(FreshDir("client_commands"));
    grpc_port_ = FreePort();
    http_port_ = FreePort();
    serve_ = new Process({"serve", "--data-dir", *dir_ + "/data", "--listen", "127.0.0.1:" + std::to_string(grpc_port_),
                          "--http", "127.0.0.1:" + std::to_string(http_port_), "--workers", "1"},
                         *dir_ + "/serve.log");
    ASSERT_TRUE(WaitFor([] { return serve_->Log().find("unas serve: token: ") != std::string::npos; }, 60000))
        << serve_->Log();
    // A finished synthetic job for the listings.
    const std::string job = *dir_ + "/job.json";
    std::ofstream(job) << R"({"name":"cli","dataset":"synthetic","evaluator":"synthetic","seed":3,"budget":{"trials":6},
      "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000}})";
    const CliRun submitted = Unas(Env(), "submit " + job);
    ASSERT_EQ(submitted.exit_code, 0) << submitted.out;
    ASSERT_EQ(submitted.out.rfind("submitted ", 0), 0u) << submitted.out;
    job_id_ = new std::string(submitted.out.substr(10, submitted.out.find('\n') - 10));
    ASSERT_TRUE(WaitFor([] {
      const CliRun r = Unas(Env(), "status " + *job_id_ + " --json");
      return r.exit_code == 0 && r.out.find("\"status\": \"succeeded\"") != std::string::npos;
    }, 60000)) << serve_->Log();
  }
  static void TearDownTestSuite() {
    if (serve_) EXPECT_EQ(serve_->Kill(SIGTERM, 15000), 0);
    delete serve_;
    delete job_id_;
    delete dir_;
  }

  // The environment a user on this machine sets once instead of flags.
  static std::string Env() {
    return "UNAS_COORDINATOR=127.0.0.1:" + std::to_string(grpc_port_) + " UNAS_DATA_DIR=" + *dir_ + "/data";
  }
  static std::string Address() { return "127.0.0.1:" + std::to_string(grpc_port_); }

  static std::string* dir_;
  static std::string* job_id_;
  static int grpc_port_, http_port_;
  static Process* serve_;
};

std::string* ClientCommandsTest::dir_ = nullptr;
std::string* ClientCommandsTest::job_id_ = nullptr;
int ClientCommandsTest::grpc_port_ = 0;
int ClientCommandsTest::http_port_ = 0;
Process* ClientCommandsTest::serve_ = nullptr;

TEST_F(ClientCommandsTest, ServePrintsTheDashboardUrlTheGrpcAddressAndWhereTheTokenIs) {
  const std::string log = serve_->Log();
  std::ifstream token_file(*dir_ + "/data/token");
  std::string token;
  std::getline(token_file, token);
  ASSERT_EQ(token.size(), 64u);
  for (const std::string& line :
       {"unas serve: generated an access token (stored in " + *dir_ + "/data/token, shown once):\n  " + token + "\n",
        "unas serve: dashboard at http://127.0.0.1:" + std::to_string(http_port_) + "/\n",
        "unas serve: listening on port " + std::to_string(grpc_port_) +
            " for gRPC (clients and workers: --coordinator " + Address() + " or UNAS_COORDINATOR)\n",
        "unas serve: token: in " + *dir_ + "/data/token (clients on this machine read it there: --data-dir or "
            "UNAS_DATA_DIR)\n"}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << "\nnot in:\n" << log;
  }
}

TEST_F(ClientCommandsTest, EnvironmentReplacesTheFlagsAndFlagsWin) {
  const CliRun jobs = Unas(Env(), "jobs");
  ASSERT_EQ(jobs.exit_code, 0) << jobs.out;
  EXPECT_EQ(jobs.out.rfind(*job_id_ + "  cli  succeeded  proposed 6/6, trials 6 finished (0 failed, 0 running)", 0),
            0u)
      << jobs.out;
  // A wrong address in the environment, the right one as a flag.
  const CliRun flag = Unas("UNAS_COORDINATOR=127.0.0.1:1 UNAS_DATA_DIR=" + *dir_ + "/data",
                           "jobs --coordinator " + Address());
  EXPECT_EQ(flag.exit_code, 0) << flag.out;
  EXPECT_EQ(flag.out, jobs.out);
}

TEST_F(ClientCommandsTest, MissingTokenSaysWhereItLookedAndWhatToDo) {
  const CliRun r = Unas("UNAS_COORDINATOR=" + Address() + " UNAS_DATA_DIR=" + *dir_ + "/nowhere", "jobs");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "unas jobs: the coordinator at " + Address() +
                       " wants a token and none was found: no --token or --token-file, UNAS_TOKEN is not set, and " +
                       *dir_ + "/nowhere/token does not exist (DATA_DIR is --data-dir, else UNAS_DATA_DIR, else "
                       "./unas-data). Give the token 'unas serve' printed at its first start (--token, --token-file "
                       "or UNAS_TOKEN), or its data directory (--data-dir or UNAS_DATA_DIR) [missing bearer token "
                       "(authorization metadata)]\n");
}

TEST_F(ClientCommandsTest, RefusedTokenNamesWhereItCameFrom) {
  const CliRun r = Unas(Env() + " UNAS_TOKEN=not-the-token-0123456789", "status " + *job_id_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "unas status: the coordinator at " + Address() +
                       " refused the token from UNAS_TOKEN: give the one in its DATA_DIR/token or the one it was "
                       "started with [invalid bearer token]\n");
  // --token wins over UNAS_TOKEN, UNAS_TOKEN over DATA_DIR/token.
  std::ifstream token_file(*dir_ + "/data/token");
  std::string token;
  std::getline(token_file, token);
  EXPECT_EQ(Unas(Env() + " UNAS_TOKEN=not-the-token-0123456789", "status " + *job_id_ + " --token " + token).exit_code,
            0);
}

TEST_F(ClientCommandsTest, JobsAndStatusJsonAgree) {
  const nlohmann::json jobs = JsonOutput(Unas(Env(), "jobs --json"));
  ASSERT_TRUE(jobs.is_array());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["job_id"], *job_id_);
  EXPECT_EQ(jobs[0]["status"], "succeeded");
  EXPECT_EQ(jobs[0]["trials_completed"], 6);
  EXPECT_EQ(jobs[0]["trials_budget"], 6);
  EXPECT_FALSE(jobs[0].contains("spec"));
  nlohmann::json status = JsonOutput(Unas(Env(), "status " + *job_id_ + " --json"));
  EXPECT_EQ(status["spec"]["name"], "cli");
  status.erase("spec");
  EXPECT_EQ(status, jobs[0]);
}

TEST_F(ClientCommandsTest, TrialsJsonListsWhatTheTableLists) {
  const nlohmann::json trials = JsonOutput(Unas(Env(), "trials " + *job_id_ + " --json"));
  ASSERT_TRUE(trials.is_array());
  ASSERT_EQ(trials.size(), 6u);
  const std::vector<std::string> table = Lines(Unas(Env(), "trials " + *job_id_).out);
  ASSERT_EQ(table.size(), 7u);
  for (size_t i = 0; i < trials.size(); ++i) {
    const nlohmann::json& t = trials[i];
    EXPECT_EQ(t["trial"], static_cast<int>(i) + 1);
    EXPECT_EQ(t["status"], "completed");
    EXPECT_TRUE(t["latency_ms"].is_null()) << "no MCU in the job: no latency, never 0";
    EXPECT_TRUE(t["int8_test_error"].is_null()) << "synthetic trials are not quantised";
    std::istringstream row(table[i + 1]);
    long long id = 0, sram = 0, flash = 0, macs = 0;
    std::string status, rung, from, val, test, int8_val, int8_test;
    row >> id >> status >> rung >> from >> val >> test >> int8_val >> int8_test >> sram >> flash >> macs;
    EXPECT_EQ(id, t["trial"].get<long long>());
    EXPECT_EQ(int8_test, "-");
    EXPECT_EQ(sram, t["peak_sram_bytes"].get<long long>());
    EXPECT_EQ(flash, t["flash_bytes"].get<long long>());
    EXPECT_EQ(macs, t["macs"].get<long long>());
  }
  const nlohmann::json two = JsonOutput(Unas(Env(), "trials " + *job_id_ + " --json --limit 2"));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1], trials[1]);
}

TEST_F(ClientCommandsTest, ParetoShowsUnknownLatencyAsDashEmptyAndNull) {
  const CliRun table = Unas(Env(), "pareto " + *job_id_);
  ASSERT_EQ(table.exit_code, 0) << table.out;
  const std::vector<std::string> lines = Lines(table.out);
  ASSERT_GE(lines.size(), 4u) << table.out;
  EXPECT_EQ(lines[0], "Search front: trials as trained at their rung, ranked by validation accuracy (val acc %, int8 "
                      "when the job measures it); test accuracy for reference");
  EXPECT_EQ(lines[1],
            " trial  rung    val acc % test acc % int8 test %  peak SRAM B      flash B         MACs  latency ms");
  for (size_t i = 2; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i].substr(lines[i].size() - 12), "           -") << lines[i];
  }
  EXPECT_EQ(lines.back().rfind("hypervolume ", 0), 0u);
  const nlohmann::json json = JsonOutput(Unas(Env(), "pareto " + *job_id_ + " --json"));
  ASSERT_EQ(json["front"].size(), lines.size() - 3);
  for (const nlohmann::json& t : json["front"]) EXPECT_TRUE(t["latency_ms"].is_null());
  const std::vector<std::string> csv = Lines(Unas(Env(), "pareto " + *job_id_ + " --csv").out);
  ASSERT_EQ(csv.size(), lines.size() - 2);
  for (size_t i = 1; i < csv.size(); ++i) {
    // trial,error,val_error,test_error,sram,flash,macs,latency_ms,params: latency empty.
    const std::string before_params = csv[i].substr(0, csv[i].rfind(','));
    EXPECT_EQ(before_params.back(), ',') << csv[i];
  }
}

TEST_F(ClientCommandsTest, HealthJsonReportsEachCheck) {
  const CliRun r = Unas(Env(), "health --json");
  EXPECT_EQ(JsonOutput(r), nlohmann::json::parse(R"({"ok":true,"checks":[
      {"check":"grpc","target":")" + Address() + R"js(","ok":true,"detail":"serving, token accepted (1 jobs)"},
      {"check":"database","target":")js" + *dir_ + R"(/data/unas.db","ok":true,"detail":"writable"}]})"));
}

}  // namespace
}  // namespace unas::testing
