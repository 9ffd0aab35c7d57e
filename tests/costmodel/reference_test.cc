// The 60 reference candidates, costed by the original μNAS resource model,
// must be reproduced exactly in the `unas` accounting.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "costmodel/cost_model.h"

namespace unas {
namespace {

TEST(ReferenceTest, ReproducesAllSixtyMicroNasFigures) {
  const std::string path = std::string(UNAS_SHARED_DIR) + "/testdata/unas_reference_costs.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "reference file missing: " << path << " (the shared/ folder must sit beside the checkout)";
  int cases = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++cases;
    const auto j = nlohmann::json::parse(line);
    auto spec = InputSpecFromJson(j["input_shape"], j["num_classes"]);
    ASSERT_TRUE(spec.ok());
    auto candidate = CandidateFromJson(j["architecture"]);
    ASSERT_TRUE(candidate.ok()) << "case " << cases << ": " << candidate.status().message();
    auto net = BuildNetwork(*candidate, *spec);
    ASSERT_TRUE(net.ok());
    auto s = SummariseCosts(*net, Accounting::kUnas);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->peak_sram_bytes, j["peak_memory"].get<int64_t>()) << "case " << cases;
    EXPECT_EQ(s->flash_bytes, j["model_size"].get<int64_t>()) << "case " << cases;
    EXPECT_EQ(s->macs, j["macs"].get<int64_t>()) << "case " << cases;
  }
  EXPECT_EQ(cases, 60);
}

}  // namespace
}  // namespace unas
