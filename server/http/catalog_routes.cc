#include "server/http/catalog_routes.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "costmodel/boards.h"
#include "server/core/coordinator.h"
#include "server/store/dataset_json.h"

namespace unas::server {
namespace {

// An example job is a page of JSON; anything far larger is not one.
constexpr std::uintmax_t kMaxRecipeBytes = 1 << 20;
// A bound on the files read per request (the folder is the project's own).
constexpr size_t kMaxRecipes = 100;

HttpResponse Json(const nlohmann::json& j) {
  HttpResponse r;
  r.body = j.dump();
  return r;
}

HttpResponse OnlyGet() {
  HttpResponse r = JsonError(405, "method not allowed; use GET");
  r.headers.emplace_back("Allow", "GET");
  return r;
}

// One example file as JSON text: {"name", "spec"} or {"name", "error"}. The
// spec is the file's own text once it has parsed as an object, so its keys
// keep the file's order (the form's JSON editor shows them as written).
std::string ReadRecipe(const std::filesystem::path& file) {
  nlohmann::json out = {{"name", file.stem().string()}};
  auto failed = [&](const std::string& why) {
    out["error"] = why;
    return out.dump();
  };
  std::error_code ec;
  const std::uintmax_t bytes = std::filesystem::file_size(file, ec);
  if (ec) return failed("cannot read it: " + ec.message());
  if (bytes > kMaxRecipeBytes) return failed("larger than 1 MiB");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return failed("cannot read it");
  auto parsed = ParseLimitedJson(text.str());
  if (!parsed.ok()) return failed(parsed.status().message());
  if (!parsed->is_object()) return failed("not a JSON object");
  std::string head = out.dump();
  head.pop_back();  // the closing brace: the spec follows
  return head + ",\"spec\":" + text.str() + "}";
}

}  // namespace

HttpResponse BoardsRoute(const HttpRequest& req) {
  if (req.method != "GET") return OnlyGet();
  nlohmann::json boards = nlohmann::json::array();
  for (const Board& b : Boards()) {
    boards.push_back({{"name", b.name},
                      {"description", b.description},
                      {"core", b.core},
                      {"clock_mhz", b.clock_hz / 1e6},
                      {"sram_bytes", b.sram_bytes},
                      {"flash_bytes", b.flash_bytes}});
  }
  return Json({{"boards", std::move(boards)}});
}

HttpResponse DatasetsRoute(Coordinator& coordinator, const HttpRequest& req) {
  if (req.method != "GET") return OnlyGet();
  nlohmann::json datasets = nlohmann::json::array();
  if (DatasetRegistry* registry = coordinator.datasets()) {
    auto all = registry->List();
    if (!all.ok()) return JsonError(500, "registered data sets: " + all.status().message());
    for (const DatasetRecord& d : *all) datasets.push_back(DatasetRecordJson(d));
  }
  return Json({{"datasets", std::move(datasets)}, {"registry", coordinator.datasets() != nullptr}});
}

HttpResponse RecipesRoute(const std::string& recipes_dir, const HttpRequest& req) {
  if (req.method != "GET") return OnlyGet();
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!recipes_dir.empty()) {
    for (std::filesystem::directory_iterator it(recipes_dir, ec), end; !ec && it != end && files.size() < kMaxRecipes;
         it.increment(ec)) {
      if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  std::string body = "{\"recipes\":[";
  for (size_t i = 0; i < files.size(); ++i) body += (i ? "," : "") + ReadRecipe(files[i]);
  HttpResponse r;
  r.body = body + "]}";
  return r;
}

std::string RecipesDirFor(const std::string& web_dir) {
  if (web_dir.empty()) return "";
  return (std::filesystem::path(web_dir) / ".." / "examples" / "jobs").lexically_normal().string();
}

}  // namespace unas::server
