// The read-only REST lists the dashboard's submit form offers as choices
// (docs/api.md, "Catalogue"):
//   GET /api/v1/boards    the built-in boards (costmodel/boards.h) a job may
//                         name as "board": name, description, core,
//                         clock_mhz, sram_bytes, flash_bytes;
//   GET /api/v1/datasets  the registered data sets (`unas data add`), named
//                         in a job as "dataset": "data:NAME"; an empty list
//                         when the coordinator keeps none;
//   GET /api/v1/recipes   the example job specs (examples/jobs/*.json beside
//                         the dashboard's files: RecipesDirFor), read at each
//                         request so the form's defaults are the files' own
//                         values; a file that is not valid JSON is listed
//                         with its error instead of its spec.
// Other methods are 405. Thread safety: the coordinator's and the file
// system's; no state of their own.
#pragma once

#include <string>

#include "server/http/http_api.h"

namespace unas::server {

HttpResponse BoardsRoute(const HttpRequest& req);
HttpResponse DatasetsRoute(Coordinator& coordinator, const HttpRequest& req);
HttpResponse RecipesRoute(const std::string& recipes_dir, const HttpRequest& req);

// Where the example jobs are for a dashboard at `web_dir`: WEB_DIR/../examples/jobs
// (the checkout's layout, and the container's /usr/share/unas). Empty for an empty web_dir.
std::string RecipesDirFor(const std::string& web_dir);

}  // namespace unas::server
