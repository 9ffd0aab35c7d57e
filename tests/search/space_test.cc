#include "search/space.h"

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "search/canonical.h"

namespace unas::search {
namespace {

Candidate WorkedExample() {
  std::ifstream in(std::string(UNAS_SOURCE_DIR) + "/examples/worked_example.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseCandidate(ss.str());
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

TEST(Mutations, WorkedExampleHas64DistinctMutations) {
  const Candidate c = WorkedExample();
  const std::vector<Mutation> all = EnumerateMutations(c);
  EXPECT_EQ(all.size(), 64u);
  // Random parts (new layers, insertion points) vary with the seed; the
  // results must be 64 distinct valid networks, none equal to the parent,
  // whatever the draws.
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    std::set<uint64_t> hashes;
    for (const Mutation& m : all) {
      const Candidate child = ApplyMutation(c, m, rng);
      ASSERT_TRUE(ValidateCandidate(child).ok()) << m.Describe();
      EXPECT_NE(CandidateHash(child), CandidateHash(c)) << m.Describe();
      hashes.insert(CandidateHash(child));
    }
    EXPECT_EQ(hashes.size(), 64u) << "seed " << seed;
  }
}

TEST(Mutations, WorkedExampleCountsPerRule) {
  std::map<MutationKind, int> count;
  for (const Mutation& m : EnumerateMutations(WorkedExample())) ++count[m.kind];
  // filters: conv 8 (6), 1x1 16 (6), conv 4 (+-1, -3, +3, +5: 5);
  // kernel: 3 -> 5, dw 3 -> 5, 5 -> 3 and 7.
  using K = MutationKind;
  const std::pair<MutationKind, int> expected[] = {
      {K::kRemoveBlock, 3}, {K::kAppendBlock, 1}, {K::kToggleBranch, 2}, {K::kRemoveLayer, 1},
      {K::kInsertLayer, 3}, {K::kChangeType, 8},  {K::kFilters, 17},     {K::kKernel, 4},
      {K::kToggleStride, 3}, {K::kPoolSize, 1},   {K::kRemoveDense, 0},  {K::kUnits, 6}};
  for (const auto& [kind, n] : expected) EXPECT_EQ(count[kind], n) << "mutation kind " << static_cast<int>(kind);
}

TEST(Mutations, RemovingBlockBeforeBranchMakesItNormal) {
  Candidate c = WorkedExample();
  Rng rng(1);
  const Candidate child = ApplyMutation(c, Mutation{MutationKind::kRemoveBlock, 1}, rng);
  ASSERT_EQ(child.conv_blocks.size(), 2u);
  EXPECT_FALSE(child.conv_blocks[1].is_branch);
  // Removing block 0 of [normal, branch] leaves a normal block 0.
  Candidate two = c;
  two.conv_blocks.erase(two.conv_blocks.begin() + 1);
  const Candidate first_removed = ApplyMutation(two, Mutation{MutationKind::kRemoveBlock, 0}, rng);
  EXPECT_FALSE(first_removed.conv_blocks[0].is_branch);
  EXPECT_TRUE(ValidateCandidate(first_removed).ok());
}

TEST(RandomCandidates, FollowMunasDistributionAndAreValid) {
  Rng rng(7);
  int max_blocks = 0, max_layers = 0, max_filters = 0, max_units = 0, max_kernel = 0, max_pool = 0;
  int with_pooling = 0;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    const Candidate c = RandomCandidate(rng);
    ASSERT_TRUE(ValidateCandidate(c).ok()) << CanonicalJson(c);
    EXPECT_FALSE(c.conv_blocks[0].is_branch);
    max_blocks = std::max<int>(max_blocks, c.conv_blocks.size());
    for (const auto& b : c.conv_blocks) {
      max_layers = std::max<int>(max_layers, b.layers.size());
      for (const auto& l : b.layers) {
        if (l.HasFilters()) max_filters = std::max(max_filters, l.filters);
        if (l.HasKernel()) max_kernel = std::max(max_kernel, l.ker_size);
      }
    }
    if (c.pooling) {
      ++with_pooling;
      max_pool = std::max(max_pool, c.pooling->pool_size);
    }
    for (const auto& d : c.dense_blocks) max_units = std::max(max_units, d.units);
    EXPECT_LE(c.dense_blocks.size(), 2u);
  }
  // Exclusive upper ends: the schema maxima are never drawn.
  EXPECT_EQ(max_blocks, 9);
  EXPECT_EQ(max_layers, 2);
  EXPECT_EQ(max_filters, 127);
  EXPECT_EQ(max_kernel, 5);
  EXPECT_EQ(max_pool, 4);
  EXPECT_EQ(max_units, 255);
  EXPECT_NEAR(with_pooling / double(n), 0.9, 0.02);
}

TEST(Mutations, EveryMutationOfThousandsOfCandidatesIsValid) {
  Rng rng(11);
  for (int i = 0; i < 2000; ++i) {
    Candidate c = RandomCandidate(rng);
    // Walk a few random mutations deep to reach the schema maxima too.
    for (int step = 0; step < 5; ++step) {
      for (const Mutation& m : EnumerateMutations(c)) {
        const Candidate child = ApplyMutation(c, m, rng);
        ASSERT_TRUE(ValidateCandidate(child).ok())
            << m.Describe() << " of " << CanonicalJson(c) << ": " << ValidateCandidate(child).message();
      }
      c = RandomMutation(c, rng);
    }
  }
}

TEST(Mutations, MutationsReachTheSchemaMaxima) {
  Rng rng(3);
  bool saw_128 = false, saw_kernel_7 = false;
  Candidate c = RandomCandidate(rng);
  for (int i = 0; i < 20000 && !(saw_128 && saw_kernel_7); ++i) {
    c = RandomMutation(c, rng);
    for (const auto& b : c.conv_blocks) {
      for (const auto& l : b.layers) {
        saw_128 |= l.HasFilters() && l.filters == 128;
        saw_kernel_7 |= l.HasKernel() && l.ker_size == 7;
      }
    }
  }
  EXPECT_TRUE(saw_kernel_7);
  EXPECT_TRUE(saw_128);
  // Ten blocks: appending to nine is allowed, and then no longer offered.
  Candidate nine = c;
  while (nine.conv_blocks.size() < 9) nine.conv_blocks.push_back(nine.conv_blocks.back());
  nine.conv_blocks.resize(9);
  const Candidate ten = ApplyMutation(nine, Mutation{MutationKind::kAppendBlock}, rng);
  EXPECT_EQ(ten.conv_blocks.size(), 10u);
  EXPECT_TRUE(ValidateCandidate(ten).ok());
  for (const Mutation& m : EnumerateMutations(ten)) EXPECT_NE(m.kind, MutationKind::kAppendBlock);
}

}  // namespace
}  // namespace unas::search
