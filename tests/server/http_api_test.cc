// The REST API, the probes, server-sent events and static files through real
// HTTP over loopback against a real `unas serve` process (synthetic
// evaluator, 2 embedded workers). The client is plain sockets, so what is
// tested is exactly the bytes a browser or curl would see.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/common/loopback.h"
#include "tests/service/process.h"

namespace unas::testing {
namespace {

const std::string kToken = "http-test-token-0123456789";

struct Reply {
  int status = 0;
  std::string headers;  // raw, lower-cased names
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  bool HasHeader(const std::string& lower_line_prefix) const {
    return headers.find(lower_line_prefix) != std::string::npos;
  }
};

int Connect(int port) { return ConnectLoopback(port); }

// Reads until the peer closes, `stop` appears in what was read, or the
// deadline passes.
std::string ReadUntil(int fd, int timeout_ms, const std::string& stop = "") {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (!stop.empty() && out.find(stop) != std::string::npos) break;
  }
  return out;
}

Reply Parse(const std::string& raw) {
  Reply r;
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, end);
  for (char& c : r.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  r.body = raw.substr(end + 4);
  return r;
}

// One request on its own connection ("Connection: close").
Reply Http(int port, const std::string& method, const std::string& target, const std::string& body = "",
           const std::string& token = kToken, const std::string& type = "application/json") {
  const int fd = Connect(port);
  if (fd < 0) return {};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  Reply r = Parse(ReadUntil(fd, 20000));
  close(fd);
  return r;
}

// GET `target`: 200 and a JSON object; its `key` into `list`.
void GetList(int port, const std::string& target, const char* key, nlohmann::json* list) {
  Reply reply = Http(port, "GET", target);
  ASSERT_EQ(reply.status, 200) << reply.body;
  *list = reply.Json()[key];
}

std::string SyntheticJob(int trials, int delay_ms) {
  return R"({"name":"rest","dataset":"synthetic","evaluator":"synthetic","seed":3,"synthetic_delay_ms":)" +
         std::to_string(delay_ms) + R"(,"budget":{"trials":)" + std::to_string(trials) +
         R"(},"bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
         "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}})";
}

class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(FreshDir("http_api"));
    // A web directory with a page, a script, a symlink pointing outside it,
    // and a secret beside it that must never be served.
    const std::string web = *dir_ + "/web";
    mkdir(web.c_str(), 0700);
    mkdir((*dir_ + "/outside").c_str(), 0700);
    std::ofstream(web + "/index.html") << "<!doctype html><title>unas</title>";
    std::ofstream(web + "/app.js") << "export const x = 1;";
    std::ofstream(*dir_ + "/secret.txt") << "TOP-SECRET";
    std::ofstream(*dir_ + "/outside/secret.txt") << "TOP-SECRET";
    symlink((*dir_ + "/outside").c_str(), (web + "/link-out").c_str());
    symlink("/etc/passwd", (web + "/passwd").c_str());
    // The example jobs GET /api/v1/recipes lists: beside the web directory,
    // as examples/jobs is beside web/ in the checkout.
    mkdir((*dir_ + "/examples").c_str(), 0700);
    mkdir((*dir_ + "/examples/jobs").c_str(), 0700);
    std::ofstream(*dir_ + "/examples/jobs/small.json") << R"({"name": "small", "budget": {"trials": 7}})";
    std::ofstream(*dir_ + "/examples/jobs/broken.json") << "{\"name\": ";
    std::ofstream(*dir_ + "/examples/jobs/notes.txt") << "not a recipe";
    port_ = FreePort();
    server_ = new Process({"serve", "--data-dir", *dir_ + "/data", "--listen", "127.0.0.1:" + std::to_string(FreePort()),
                           "--http", "127.0.0.1:" + std::to_string(port_), "--web-dir", web, "--workers", "2",
                           "--token", kToken},
                          *dir_ + "/serve.log");
    ASSERT_TRUE(WaitFor([] { return server_->Log().find("listening on port") != std::string::npos; }, 20000))
        << server_->Log();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Kill(SIGTERM), 0) << server_->Log();
    delete server_;
    delete dir_;
  }

  // Submits and waits (bounded) for the job to finish; returns its id.
  std::string RunJob(int trials) {
    Reply r = Http(port_, "POST", "/api/v1/jobs", SyntheticJob(trials, 0));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.Json().value("job_id", "");
    EXPECT_TRUE(WaitFor([&] { return Http(port_, "GET", "/api/v1/jobs/" + id).Json().value("status", "") == "succeeded"; },
                        60000));
    return id;
  }

  static std::string* dir_;
  static Process* server_;
  static int port_;
};
std::string* HttpApiTest::dir_ = nullptr;
Process* HttpApiTest::server_ = nullptr;
int HttpApiTest::port_ = 0;

TEST_F(HttpApiTest, ProbesAnswerWithoutToken) {
  Reply health = Http(port_, "GET", "/healthz", "", "");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.Json()["status"], "ok");
  Reply ready = Http(port_, "GET", "/readyz", "", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.Json()["status"], "ready");
  EXPECT_EQ(Http(port_, "POST", "/healthz", "", "").status, 405);
}

TEST_F(HttpApiTest, ApiRefusesMissingOrWrongToken) {
  Reply none = Http(port_, "GET", "/api/v1/jobs", "", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(none.Json().contains("error")) << none.body;
  EXPECT_TRUE(none.HasHeader("www-authenticate: bearer"));
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs", "", "wrong-token-0123456789").status, 401);
  EXPECT_EQ(Http(port_, "POST", "/api/v1/jobs", SyntheticJob(1, 0), "").status, 401);
  Reply ok = Http(port_, "GET", "/api/v1/jobs");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(ok.Json()["jobs"].is_array());
  EXPECT_TRUE(ok.HasHeader("content-type: application/json"));
}

TEST_F(HttpApiTest, InvalidRequestsGetStatusCodesAndJsonErrors) {
  Reply bad_field = Http(port_, "POST", "/api/v1/jobs", R"({"dataset":"synthetic","strategy":"annealing"})");
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_NE(bad_field.Json().value("error", "").find("strategy"), std::string::npos) << bad_field.body;
  Reply not_json = Http(port_, "POST", "/api/v1/jobs", "{not json");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_TRUE(not_json.Json().contains("error"));
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/no-such-job").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/no-such-job/trials").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/nothing").status, 404);
  Reply put = Http(port_, "PUT", "/api/v1/jobs", "{}");
  EXPECT_EQ(put.status, 405);
  EXPECT_TRUE(put.HasHeader("allow: get, post"));
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/x/cancel").status, 405);
}

TEST_F(HttpApiTest, BodyOverOneMebibyteGets413) {
  // Announce 2 MiB, send a little: the server answers from the headers.
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  const std::string req = "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                          "\r\nContent-Length: 2097152\r\n\r\n{\"name\":\"";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  Reply r = Parse(ReadUntil(fd, 10000));
  close(fd);
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(r.Json().contains("error")) << r.body;
  // Just under the limit is read (and refused for what it says, not its size).
  Reply under = Http(port_, "POST", "/api/v1/jobs", R"({"padding":")" + std::string(1000000, 'a') + R"("})");
  EXPECT_EQ(under.status, 400) << under.body.substr(0, 200);
}

TEST_F(HttpApiTest, MissingDataSetIsA400SayingWhy) {
  Reply r = Http(port_, "POST", "/api/v1/jobs", R"({"dataset":"idx:/nonexistent-unas-data"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json()["error"], "dataset: /nonexistent-unas-data/train-images-idx3-ubyte[.gz]: no such file");
}

TEST_F(HttpApiTest, HundredThousandDeepJsonIsA400NotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Reply r = Http(port_, "POST", "/api/v1/jobs", R"({"objectives":)" + deep + "}");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_EQ(r.Json()["error"], "job: JSON nests deeper than 64 levels (at byte 77)");
  EXPECT_EQ(Http(port_, "GET", "/healthz", "", "").status, 200);  // still up
}

TEST_F(HttpApiTest, TrialsArePagedSortedAndFiltered) {
  const std::string id = RunJob(30);
  std::set<int64_t> seen;
  std::string token;
  int pages = 0;
  do {
    Reply r = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?page_size=7&page_token=" + token);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto j = r.Json();
    EXPECT_EQ(j["total"], 30);
    for (const auto& t : j["trials"]) seen.insert(t["trial_id"].get<int64_t>());
    token = j["next_page_token"];
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 5);  // 7 + 7 + 7 + 7 + 2
  EXPECT_EQ(seen.size(), 30u);

  Reply sorted = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?sort=peak_sram_bytes&order=desc&page_size=1000");
  ASSERT_EQ(sorted.status, 200);
  int64_t last = INT64_MAX;
  for (const auto& t : sorted.Json()["trials"]) {
    const int64_t v = t["costs"]["peak_sram_bytes"];
    EXPECT_LE(v, last);
    last = v;
  }
  Reply by_error = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?sort=val_error&status=completed");
  ASSERT_EQ(by_error.status, 200);
  double last_error = -1;
  for (const auto& t : by_error.Json()["trials"]) {
    EXPECT_EQ(t["status"], "completed");
    EXPECT_GE(t["metrics"]["val_error"].get<double>(), last_error);
    EXPECT_TRUE(t["metrics"]["int8_val_error"].is_null());  // no worker quantises yet
    EXPECT_TRUE(t["metrics"]["int8_test_error"].is_null());
    last_error = t["metrics"]["val_error"];
  }
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?sort=colour").status, 400);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?order=sideways").status, 400);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?page_size=0").status, 400);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?page_size=1001").status, 400);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?page_token=abc").status, 400);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?status=sleeping").status, 400);
}

// The lists the submit form offers: the built-in boards (costmodel/boards.cc's
// table), the registered data sets (none yet on a fresh data directory) and
// the example jobs read from their files, a broken one with its error.
TEST_F(HttpApiTest, CatalogueListsBoardsDatasetsAndRecipes) {
  nlohmann::json list;
  ASSERT_NO_FATAL_FAILURE(GetList(port_, "/api/v1/boards", "boards", &list));
  ASSERT_EQ(list.size(), 4u) << list;
  EXPECT_EQ(list[0]["name"], "stm32f746");
  EXPECT_EQ(list[0]["core"], "cortex-m7");
  EXPECT_DOUBLE_EQ(list[0]["clock_mhz"].get<double>(), 216.0);
  EXPECT_EQ(list[0]["sram_bytes"], 320 * 1024);
  EXPECT_EQ(list[0]["flash_bytes"], 1024 * 1024);
  EXPECT_EQ(list[3]["name"], "rp2040");

  Reply datasets = Http(port_, "GET", "/api/v1/datasets");
  ASSERT_EQ(datasets.status, 200) << datasets.body;
  EXPECT_EQ(datasets.Json(), nlohmann::json::parse(R"({"datasets": [], "registry": true})"));

  nlohmann::json r;
  ASSERT_NO_FATAL_FAILURE(GetList(port_, "/api/v1/recipes", "recipes", &r));
  ASSERT_EQ(r.size(), 2u) << r;
  EXPECT_EQ(r[0]["name"], "broken");
  EXPECT_FALSE(r[0]["error"].get<std::string>().empty());
  EXPECT_FALSE(r[0].contains("spec"));
  EXPECT_EQ(r[1], nlohmann::json::parse(R"({"name": "small", "spec": {"name": "small", "budget": {"trials": 7}}})"));

  for (const char* path : {"/api/v1/boards", "/api/v1/datasets", "/api/v1/recipes"}) {
    Reply post = Http(port_, "POST", path, "{}");
    EXPECT_EQ(post.status, 405) << path;
    EXPECT_TRUE(post.HasHeader("allow: get")) << path;
    EXPECT_EQ(Http(port_, "GET", path, "", "").status, 401) << path;
  }
}

TEST_F(HttpApiTest, ParetoHypervolumeAndTrialCostReport) {
  const std::string id = RunJob(12);
  Reply front = Http(port_, "GET", "/api/v1/jobs/" + id + "/pareto");
  ASSERT_EQ(front.status, 200) << front.body;
  ASSERT_FALSE(front.Json()["trials"].empty());
  EXPECT_GT(front.Json()["hypervolume"].get<double>(), 0);
  Reply hv = Http(port_, "GET", "/api/v1/jobs/" + id + "/hypervolume");
  ASSERT_EQ(hv.status, 200);
  ASSERT_FALSE(hv.Json()["points"].empty());
  EXPECT_DOUBLE_EQ(hv.Json()["points"].back()["hypervolume"].get<double>(), front.Json()["hypervolume"].get<double>());

  const int64_t trial_id = front.Json()["trials"][0]["trial_id"];
  Reply detail = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials/" + std::to_string(trial_id));
  ASSERT_EQ(detail.status, 200) << detail.body;
  const auto d = detail.Json();
  // The rebuilt report agrees with what the search recorded for this trial,
  // and its timelines peak exactly at the recorded peaks.
  const auto& report = d["cost_report"];
  EXPECT_EQ(report["peak_sram_bytes"], d["costs"]["peak_sram_bytes"]);
  EXPECT_EQ(report["flash_bytes"], d["costs"]["flash_bytes"]);
  EXPECT_EQ(report["macs"], d["costs"]["macs"]);
  int64_t best_peak = 0, build_peak = 0, macs = 0;
  for (const auto& v : report["timeline_best_order"]) best_peak = std::max<int64_t>(best_peak, v);
  for (const auto& v : report["timeline_build_order"]) build_peak = std::max<int64_t>(build_peak, v);
  for (const auto& op : report["ops"]) macs += op["macs"].get<int64_t>();
  // The job's accounting is tflm: peak SRAM is TFLM's whole arena (planned +
  // persistent), and the timelines are live bytes, which the planned arena
  // of the same order covers.
  EXPECT_EQ(report["peak_sram_bytes"], report["tflm_total_arena_bytes"]);
  EXPECT_EQ(report["tflm_total_arena_bytes"].get<int64_t>(),
            report["tflm_arena_bytes"].get<int64_t>() + report["tflm_persistent_bytes"].get<int64_t>());
  EXPECT_LE(best_peak, report["tflm_arena_bytes"].get<int64_t>());
  EXPECT_LE(build_peak, d["costs"]["build_order_peak_sram_bytes"].get<int64_t>());
  EXPECT_EQ(macs, d["costs"]["macs"]);
  // Partial execution is planned in the firmware accounting.
  EXPECT_LE(d["partial_execution"]["peak_sram_bytes"].get<int64_t>(),
            d["partial_execution"]["whole_peak_sram_bytes"].get<int64_t>());

  Reply download = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials/" + std::to_string(trial_id) + "/export");
  ASSERT_EQ(download.status, 200);
  EXPECT_TRUE(download.HasHeader("content-disposition: attachment; filename=\"" + id + "-trial-"));
  EXPECT_EQ(download.Json()["architecture"], d["candidate"]);
  EXPECT_EQ(download.Json()["cost_report"]["peak_sram_bytes"], report["peak_sram_bytes"]);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials/99999").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials/x1").status, 400);

  // A synthetic-evaluator trial is never quantised: no model, a JSON 404.
  EXPECT_EQ(d["has_tflite"], false);
  EXPECT_TRUE(d["tflite_bytes"].is_null());
  Reply model = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials/" + std::to_string(trial_id) + "/model.tflite");
  EXPECT_EQ(model.status, 404);
  EXPECT_NE(model.Json()["error"].get<std::string>().find("has no int8 model"), std::string::npos) << model.body;
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id + "/trials/99999/model.tflite").status, 404);
}

TEST_F(HttpApiTest, FinalizeRetrainsTheFrontAndParetoShowsItFirst) {
  const std::string id = RunJob(12);
  const std::string finalize = "/api/v1/jobs/" + id + "/finalize";
  auto error_of = [&](const std::string& body) {
    Reply r = Http(port_, "POST", finalize, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    return r.Json().value("error", "");
  };
  EXPECT_EQ(error_of(R"({"epochs":2,"rounds":1})"), "rounds: unknown field (allowed: epochs)");
  EXPECT_EQ(error_of(R"({"epochs":2.5})"), "epochs: 2.5 is not an integer");
  EXPECT_EQ(error_of(R"({"epochs":"3"})"), "epochs: \"3\" is not an integer");
  EXPECT_EQ(error_of(R"({"epochs":18446744073709551615})"), "epochs: 18446744073709551615 is outside 1..1000");
  EXPECT_EQ(error_of("[2]"), "finalize body: expected an object such as {\"epochs\": 30}");
  EXPECT_EQ(error_of(R"({"epochs":1001})"), "epochs: 1001 is outside 1..1000");  // the coordinator's check
  EXPECT_EQ(Http(port_, "POST", "/api/v1/jobs/no-such-job/finalize", "").status, 404);
  EXPECT_EQ(Http(port_, "GET", finalize).status, 405);
  EXPECT_EQ(Http(port_, "POST", finalize, "{}", kToken, "text/plain").status, 415);
  EXPECT_EQ(Http(port_, "POST", finalize, "", "").status, 401);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/jobs/" + id).Json()["final_round"], 0);  // refused: nothing started

  Reply started = Http(port_, "POST", finalize, "");
  ASSERT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(started.Json()["job_id"], id);
  EXPECT_EQ(started.Json()["final_round"], 1);
  EXPECT_EQ(started.Json()["final_epochs"], 0);
  ASSERT_TRUE(WaitFor([&] {
    const auto j = Http(port_, "GET", "/api/v1/jobs/" + id).Json();
    return j.value("status", "") == "succeeded" && j.value("finalizing", true) == false;
  }, 60000));
  const auto pareto = Http(port_, "GET", "/api/v1/jobs/" + id + "/pareto").Json();
  EXPECT_EQ(pareto["final_round"], 1);
  ASSERT_FALSE(pareto["final"].empty()) << pareto.dump();
  ASSERT_FALSE(pareto["trials"].empty());
  // Every final trial retrained a search trial's network: promoted_from
  // names that trial, with the same proposal id and candidate. The synthetic
  // evaluator reports test = validation error and never quantises, so the
  // final accuracy is 1 - the error.
  std::map<int64_t, std::pair<int64_t, std::string>> search_trials;  // trial id -> proposal id, candidate hash
  std::string token;
  do {
    const auto page = Http(port_, "GET", "/api/v1/jobs/" + id + "/trials?page_size=1000&page_token=" + token).Json();
    for (const auto& t : page["trials"]) {
      if (t["final_round"] == 0) search_trials[t["trial_id"]] = {t["proposal_id"], t["candidate_hash"]};
    }
    token = page.value("next_page_token", "");
  } while (!token.empty());
  EXPECT_EQ(search_trials.size(), 12u);
  for (const auto& t : pareto["final"]) {
    EXPECT_EQ(t["final_round"], 1);
    EXPECT_EQ(t["status"], "completed");
    EXPECT_EQ(t["rung"], 0);
    EXPECT_DOUBLE_EQ(t["final_test_accuracy"].get<double>(), 1.0 - t["metrics"]["val_error"].get<double>());
    EXPECT_TRUE(t["metrics"]["int8_test_error"].is_null());
    const int64_t source = t["promoted_from"];
    ASSERT_EQ(search_trials.count(source), 1u) << t.dump();
    EXPECT_EQ(search_trials[source].first, t["proposal_id"]);
    EXPECT_EQ(search_trials[source].second, t["candidate_hash"]);
  }
  for (const auto& t : pareto["trials"]) EXPECT_EQ(t["final_round"], 0);
}

TEST_F(HttpApiTest, FinalizeOfACancelledJobIs409) {
  Reply r = Http(port_, "POST", "/api/v1/jobs", SyntheticJob(1000, 200));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.Json()["job_id"];
  ASSERT_EQ(Http(port_, "POST", "/api/v1/jobs/" + id + "/cancel").status, 200);
  Reply refused = Http(port_, "POST", "/api/v1/jobs/" + id + "/finalize", R"({"epochs":3})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_TRUE(refused.Json().contains("error"));
}

TEST_F(HttpApiTest, EventsStreamTrialsLiveAndCancelEndsThem) {
  Reply submitted = Http(port_, "POST", "/api/v1/jobs", SyntheticJob(200, 100));
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  const std::string id = submitted.Json()["job_id"];
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  const std::string req = "GET /api/v1/jobs/" + id + "/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          kToken + "\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  const std::string live = ReadUntil(fd, 20000, "event: trial_finished\ndata: ");
  EXPECT_NE(live.find("Content-Type: text/event-stream"), std::string::npos) << live.substr(0, 300);
  ASSERT_NE(live.find("event: trial_finished\ndata: "), std::string::npos) << live.substr(0, 300);
  Reply cancelled = Http(port_, "POST", "/api/v1/jobs/" + id + "/cancel");
  EXPECT_EQ(cancelled.status, 200);
  EXPECT_EQ(cancelled.Json()["status"], "cancelled");
  // The stream ends with job_done and the server closes it.
  const std::string rest = ReadUntil(fd, 10000);
  close(fd);
  EXPECT_NE(rest.find("event: job_done"), std::string::npos) << rest.substr(0, 300);
  Reply unauth = Http(port_, "GET", "/api/v1/jobs/" + id + "/events", "", "");
  EXPECT_EQ(unauth.status, 401);
}

TEST_F(HttpApiTest, StaticFilesServedWithTypesAndNeverOutsideWebDir) {
  Reply index = Http(port_, "GET", "/", "", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(index.HasHeader("content-type: text/html"));
  EXPECT_NE(index.body.find("<title>unas</title>"), std::string::npos);
  Reply js = Http(port_, "GET", "/app.js?v=1", "", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_TRUE(js.HasHeader("content-type: text/javascript"));
  for (const std::string& path :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/a/../../secret.txt", "/..%2fsecret.txt",
        "/..%5csecret.txt", "/..\\secret.txt", "/link-out/secret.txt", "/passwd", "//etc/passwd", "/%00",
        "/%2fetc%2fpasswd", "/./../secret.txt", "/missing.html", "/%zz"}) {
    Reply r = Http(port_, "GET", path, "", "");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("TOP-SECRET"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << path;
  }
  EXPECT_EQ(Http(port_, "POST", "/index.html", "{}", "").status, 405);
}

// A browser on another site posting to a --no-auth coordinator: refused by
// Origin; a same-origin post that is not JSON: refused by type.
TEST(HttpServeFlags, NoAuthRefusesCrossSiteAndNonJsonPosts) {
  const std::string dir = FreshDir("http_csrf");
  const int port = FreePort();
  Process p({"serve", "--data-dir", dir + "/data", "--listen", "127.0.0.1:" + std::to_string(FreePort()), "--http",
             "127.0.0.1:" + std::to_string(port), "--no-auth", "--workers", "0"},
            dir + "/serve.log");
  ASSERT_TRUE(WaitFor([&] { return p.Log().find("listening on port") != std::string::npos; }, 20000)) << p.Log();
  auto post = [&](const std::string& origin, const std::string& type) {
    const int fd = Connect(port);
    const std::string body = SyntheticJob(1, 0);
    std::string req = "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                      "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!origin.empty()) req += "Origin: " + origin + "\r\n";
    if (!type.empty()) req += "Content-Type: " + type + "\r\n";
    req += "\r\n" + body;
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    Reply r = Parse(ReadUntil(fd, 10000));
    close(fd);
    return r;
  };
  const Reply evil = post("http://evil.example", "text/plain");
  EXPECT_EQ(evil.status, 403) << evil.body;
  EXPECT_EQ(evil.Json()["error"], "cross-origin request refused: Origin 'http://evil.example' is not this server's "
                                  "own (http://127.0.0.1:" + std::to_string(port) + ")");
  EXPECT_EQ(post("http://127.0.0.1:" + std::to_string(port), "text/plain").status, 415);
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs", "", "").Json()["jobs"].size(), 0u);
  EXPECT_EQ(post("http://127.0.0.1:" + std::to_string(port), "application/json").status, 201);
  EXPECT_EQ(Http(port, "GET", "/api/v1/jobs", "", "").Json()["jobs"].size(), 1u);
  EXPECT_EQ(p.Kill(SIGTERM), 0) << p.Log();
}

TEST(HttpServeFlags, NoAuthRefusedOnNonLoopbackHttp) {
  const std::string dir = FreshDir("http_noauth");
  Process p({"serve", "--data-dir", dir + "/data", "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0", "--no-auth",
             "--workers", "0"},
            dir + "/serve.log");
  EXPECT_EQ(p.Wait(10000), 2) << p.Log();
  EXPECT_NE(p.Log().find("--no-auth is only allowed with a loopback --http"), std::string::npos) << p.Log();
}

// POST /api/v1/analyze: the model as the body; the Analyze JSON back, or the
// reordered model with ?reorder=best. micro_speech's figures are TFLM's
// measured ones (../shared/testdata/tflite/expected.json): 5,960 live bytes
// in file order, 5,968 planned.
TEST_F(HttpApiTest, AnalyzeTakesATfliteBodyAndReturnsTheAnalysisOrTheReorderedModel) {
  const std::string kOctets = "application/octet-stream";
  std::ifstream in(std::string(UNAS_SHARED_DIR) + "/testdata/tflite/micro_speech_quantized.tflite", std::ios::binary);
  const std::string model((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(model.size(), 1000u);
  Reply r = Http(port_, "POST", "/api/v1/analyze", model, kToken, kOctets);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = r.Json();
  EXPECT_EQ(j["model"]["operators"], 4);
  EXPECT_EQ(j["file_order"]["peak_bytes"], 5960);
  EXPECT_EQ(j["file_order"]["tflm_arena_bytes"], 5968);
  EXPECT_EQ(j["best_order"]["saving_bytes"], 0);
  EXPECT_EQ(j["operators"][1]["name"], "DEPTHWISE_CONV_2D");
  Reply file = Http(port_, "POST", "/api/v1/analyze?reorder=best", model, kToken, kOctets);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_TRUE(file.HasHeader("content-type: application/octet-stream")) << file.headers;
  EXPECT_EQ(file.body.size(), model.size());
  EXPECT_EQ(file.body.substr(4, 4), "TFL3");
  EXPECT_EQ(Http(port_, "POST", "/api/v1/analyze", model, "", kOctets).status, 401);
  Reply bad = Http(port_, "POST", "/api/v1/analyze", "not a model", kToken, kOctets);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["error"].get<std::string>().rfind("tflite: ", 0), 0u) << bad.body;
  EXPECT_EQ(Http(port_, "POST", "/api/v1/analyze?reorder=worst", model, kToken, kOctets).status, 400);
  EXPECT_EQ(Http(port_, "GET", "/api/v1/analyze").status, 405);
  // A model is octet-stream: the JSON type (or any other) is refused like any wrong body type.
  EXPECT_EQ(Http(port_, "POST", "/api/v1/analyze", model).status, 415);
}

}  // namespace
}  // namespace unas::testing
