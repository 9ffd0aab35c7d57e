// Channel pruning aimed by the cost model: the groups of tied channels, the
// greedy choice on hand-worked networks, validity and exact costs of pruned
// random candidates, and (through LibTorch) the surviving weights.
#include "worker/pruning.h"

#include <random>

#include <gtest/gtest.h>

#include "costmodel/cost_model.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/test_data.h"
#include "worker/torch_summary.h"

namespace unas::worker {
namespace {

// conv 3x3 x16 on 8x8x1 -> 6x6x16 (576 B), max-pool 2 -> 3x3x16 (144 B),
// dense 64, classifier 10. μNAS accounting (input not counted), best order
// = build order: conv 576, pool 576+144 = 720 (the peak), dense 144+64,
// classifier 64+10. The peak holds only the conv's 16 channels.
Candidate PeakAtConv() {
  return ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[
      {"type":"Conv2D","ker_size":3,"filters":16,"2x_stride":false,"has_bn":false,"has_relu":true,"has_prepool":false}]}],
      "pooling":{"type":"max","pool_size":2},"dense_blocks":[{"units":64,"activation":"relu"}]})")
      .value();
}

const InputSpec kSmall{8, 8, 1, 10};

// Groups of PeakAtConv: 0 input, 1 conv (+pool), 2 dense, 3 classifier.
// Conv channel c has importance c + 1; dense units 0..7 have none, so a
// flash-aimed prune takes them first, and a peak-aimed one must not.
std::vector<std::vector<double>> PeakAtConvImportance() {
  std::vector<double> conv, dense(64, 1.0);
  for (int c = 0; c < 16; ++c) conv.push_back(c + 1);
  for (int u = 0; u < 8; ++u) dense[static_cast<size_t>(u)] = 0;
  return {{}, conv, dense, {}};
}

PruneConfig Config(PruneTarget target, double fraction) {
  PruneConfig c;
  c.enabled = true;
  c.target = target;
  c.max_fraction = fraction;
  c.accounting = Accounting::kUnas;
  return c;
}

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(PruningTest, WorkedExampleTiesBranchAndDepthwiseChannels) {
  // ops: 0 conv x8, 1 dw, 2 1x1 x16, 3 prepool, 4 branch conv (forced to 16),
  // 5 tie-up pool, 6 add, 7 avg-pool, 8 dense 32, 9 classifier.
  const Candidate c = testing::WorkedExample();
  auto network = BuildNetwork(c, testing::FashionMnist());
  ASSERT_TRUE(network.ok());
  auto groups = FindChannelGroups(c, *network);
  ASSERT_TRUE(groups.ok()) << groups.status().message();
  ASSERT_EQ(groups->groups.size(), 5u);
  EXPECT_EQ(groups->input_group, 0);
  EXPECT_EQ(groups->group_of_op, (std::vector<int>{1, 1, 2, 1, 2, 2, 2, 2, 3, 4}));
  EXPECT_FALSE(groups->groups[0].prunable);
  EXPECT_FALSE(groups->groups[4].prunable);
  // The branch's conv is forced to the main path's 16 channels: its group is
  // set by the 1x1 conv alone.
  ASSERT_EQ(groups->groups[2].knobs.size(), 1u);
  EXPECT_EQ(groups->groups[2].knobs[0].block, 1);
  EXPECT_EQ(groups->groups[2].knobs[0].layer, 1);
  EXPECT_EQ(groups->groups[1].channels, 8);
  EXPECT_EQ(groups->groups[3].min_channels, 10);
  EXPECT_TRUE(groups->groups[1].prunable && groups->groups[2].prunable && groups->groups[3].prunable);

  // Keeping 5 of the 16 main channels shrinks the branch and the add too.
  KeepChannels keep = {{0}, Range(0, 8), {1, 3, 5, 7, 9}, Range(0, 32), Range(0, 10)};
  auto pruned = ApplyPruning(c, *groups, keep);
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(pruned->conv_blocks[1].layers[1].filters, 5);
  auto pruned_network = BuildNetwork(*pruned, testing::FashionMnist());
  ASSERT_TRUE(pruned_network.ok());
  EXPECT_EQ(pruned_network->ops[4].out.c, 5);
  EXPECT_EQ(pruned_network->ops[6].out.c, 5);
}

TEST(PruningTest, ApplyPruningRejectsBadKeepLists) {
  const Candidate c = PeakAtConv();
  auto network = BuildNetwork(c, kSmall);
  auto groups = FindChannelGroups(c, *network);
  ASSERT_TRUE(groups.ok());
  EXPECT_FALSE(ApplyPruning(c, *groups, {{0}, {3, 2}, Range(0, 64), Range(0, 10)}).ok());     // unsorted
  EXPECT_FALSE(ApplyPruning(c, *groups, {{0}, Range(0, 16), Range(0, 9), Range(0, 10)}).ok());  // < 10 units
  EXPECT_FALSE(ApplyPruning(c, *groups, {{0}, Range(0, 16), Range(0, 64), Range(0, 9)}).ok());  // classifier
  EXPECT_FALSE(ApplyPruning(c, *groups, {{}, Range(0, 16), Range(0, 64), Range(0, 10)}).ok());  // input
  EXPECT_FALSE(ApplyPruning(c, *groups, {{0}, {0, 16}, Range(0, 64), Range(0, 10)}).ok());      // out of range
}

TEST(PruningTest, LayerThatSetsThePeakLosesChannelsFirst) {
  // Budget: 5% of 16 + 64 prunable channels = 4. Only the conv's group is
  // live at the peak; two moves of ceil(16/8) = 2 and ceil(14/8) = 2 take
  // its four least important channels, although dense units matter less.
  auto plan = ChoosePruning(PeakAtConv(), kSmall, PeakAtConvImportance(), Config(PruneTarget::kPeakSram, 0.05));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->prunable_channels, 80);
  EXPECT_EQ(plan->channels_removed, 4);
  EXPECT_EQ(plan->steps, 2);
  EXPECT_EQ(plan->candidate.conv_blocks[0].layers[0].filters, 12);
  EXPECT_EQ(plan->candidate.dense_blocks[0].units, 64);
  EXPECT_EQ(plan->keep[1], Range(4, 16));
  EXPECT_EQ(plan->proposed_costs.peak_sram_bytes, 720);
  EXPECT_EQ(plan->pruned_costs.peak_sram_bytes, 36 * 12 + 9 * 12);  // 540
}

TEST(PruningTest, FlashTargetTakesTheLeastImportantUnitsAnywhere) {
  // Every group counts for flash; dense units 0..3 cost no importance, so
  // the first move (clipped to the 4-channel budget) takes them.
  auto plan = ChoosePruning(PeakAtConv(), kSmall, PeakAtConvImportance(), Config(PruneTarget::kFlash, 0.05));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->channels_removed, 4);
  EXPECT_EQ(plan->candidate.conv_blocks[0].layers[0].filters, 16);
  EXPECT_EQ(plan->candidate.dense_blocks[0].units, 60);
  EXPECT_EQ(plan->keep[2], Range(4, 64));
  // Each unit: 144 weights + 1 bias (μNAS: 1 byte) + 10 classifier weights.
  EXPECT_EQ(plan->proposed_costs.flash_bytes - plan->pruned_costs.flash_bytes, 4 * (144 + 1 + 10));
}

TEST(PruningTest, StopsOnceTheTargetBytesAreMet) {
  PruneConfig config = Config(PruneTarget::kPeakSram, 0.9);
  config.target_bytes = 650;  // one move (720 -> 630) is enough
  auto plan = ChoosePruning(PeakAtConv(), kSmall, PeakAtConvImportance(), config);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->channels_removed, 2);
  EXPECT_EQ(plan->pruned_costs.peak_sram_bytes, 630);
}

TEST(PruningTest, NoLayerLosesMoreThanItsGroupFraction) {
  // Budget 40 channels, but the conv (the only group at the peak) may lose
  // half of its 16: moves of 2, 2, 2, 2, then nothing at the peak can go.
  auto plan = ChoosePruning(PeakAtConv(), kSmall, PeakAtConvImportance(), Config(PruneTarget::kPeakSram, 0.5));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->channels_removed, 8);
  EXPECT_EQ(plan->candidate.conv_blocks[0].layers[0].filters, 8);
  EXPECT_EQ(plan->pruned_costs.peak_sram_bytes, 36 * 8 + 9 * 8);  // 360
}

// A mask update of pruning during training is ChoosePruning from all
// channels at the schedule's target: the conv's two least important
// channels go (720 -> 630); once channel 0 has become the most important,
// the next update keeps it and masks channels 1 and 2 instead.
TEST(PruningTest, AMaskedChannelThatRegainsImportanceComesBack) {
  PruneConfig config = Config(PruneTarget::kPeakSram, 0.9);
  config.target_bytes = 650;
  auto importance = PeakAtConvImportance();
  auto first = ChoosePruning(PeakAtConv(), kSmall, importance, config);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->keep[1], Range(2, 16));
  importance[1][0] = 100;
  auto second = ChoosePruning(PeakAtConv(), kSmall, importance, config);
  ASSERT_TRUE(second.ok()) << second.status().message();
  std::vector<int> kept = {0};
  for (int c = 3; c < 16; ++c) kept.push_back(c);
  EXPECT_EQ(second->keep[1], kept);
  EXPECT_EQ(second->pruned_costs.peak_sram_bytes, 630);
}

// target_ratio is of the peak ChoosePruning lowers (720 here): 0.9 aims at
// floor(648) bytes, which one move of two channels (630) meets; with
// target_bytes as well, the smaller of the two counts.
TEST(PruningTest, TargetRatioIsOfTheProposedCandidatesResource) {
  PruneConfig config = Config(PruneTarget::kPeakSram, 0.9);
  config.target_ratio = 0.9;
  EXPECT_EQ(PrunedResourceBytes(PeakAtConv(), kSmall, config).value(), 720);
  EXPECT_EQ(FinalTargetBytes(config, 720), 648);
  auto plan = ChoosePruning(PeakAtConv(), kSmall, PeakAtConvImportance(), config);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->channels_removed, 2);
  config.target_bytes = 600;  // 630, then 14 -> 12 channels: 540
  EXPECT_EQ(FinalTargetBytes(config, 720), 600);
  plan = ChoosePruning(PeakAtConv(), kSmall, PeakAtConvImportance(), config);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->pruned_costs.peak_sram_bytes, 540);
  config.target_ratio.reset();
  config.target_bytes.reset();
  EXPECT_FALSE(FinalTargetBytes(config, 720).has_value());
}

// The cubic schedule from 1000 to 500 bytes over epochs 0..4:
// 500 + 500 * (1 - p)^3, rounded down.
TEST(PruningTest, ScheduleFallsCubicallyToTheTarget) {
  const PruneRamp ramp{0, 4};
  EXPECT_EQ(ScheduledTargetBytes(ramp, 1000, 500, 0), 1000);
  EXPECT_EQ(ScheduledTargetBytes(ramp, 1000, 500, 1), 710);   // 500 * 0.421875 = 210.9
  EXPECT_EQ(ScheduledTargetBytes(ramp, 1000, 500, 2), 562);   // 500 * 0.125 = 62.5
  EXPECT_EQ(ScheduledTargetBytes(ramp, 1000, 500, 3.5), 500); // 500 * 0.001953125 = 0.98
  EXPECT_EQ(ScheduledTargetBytes(ramp, 1000, 500, 4), 500);
  EXPECT_EQ(ScheduledTargetBytes(ramp, 1000, 500, 9), 500);
  const PruneRamp later{2, 4};
  EXPECT_EQ(ScheduledTargetBytes(later, 1000, 500, 1), 1000);
  EXPECT_EQ(ScheduledTargetBytes(later, 1000, 500, 3), 562);
  const PruneRamp at_once{2, 2};
  EXPECT_EQ(ScheduledTargetBytes(at_once, 1000, 500, 1), 1000);
  EXPECT_EQ(ScheduledTargetBytes(at_once, 1000, 500, 2), 500);
}

// The ramp ends at end_epoch (-1: half the epochs, rounded up), at the
// trial's end if sooner, and for a promotion at the end of the rung it
// continues, whose final target it keeps.
TEST(PruningTest, RampEndsByTheTrialsEndAndAtAPromotionsStart) {
  TrainConfig c;
  c.prune.enabled = true;
  c.prune.mode = PruneMode::kDuringTraining;
  c.epochs = 9;
  EXPECT_EQ(TrainPruneRamp(c).start_epoch, 0);
  EXPECT_EQ(TrainPruneRamp(c).end_epoch, 5);
  c.prune.start_epoch = 1;
  c.prune.end_epoch = 4;
  EXPECT_EQ(TrainPruneRamp(c).start_epoch, 1);
  EXPECT_EQ(TrainPruneRamp(c).end_epoch, 4);
  c.epochs = 3;  // a short rung
  EXPECT_EQ(TrainPruneRamp(c).end_epoch, 3);
  c.epochs = 10;  // its promotion
  c.start_epoch = 3;
  EXPECT_EQ(TrainPruneRamp(c).end_epoch, 3);
  c.start_epoch = 2;  // a lower rung of 2 epochs, ramp cut at 2
  EXPECT_EQ(TrainPruneRamp(c).end_epoch, 2);
}

TEST(PruningTest, RejectsImportanceOfTheWrongSize) {
  auto importance = PeakAtConvImportance();
  importance[1].pop_back();
  EXPECT_FALSE(ChoosePruning(PeakAtConv(), kSmall, importance, Config(PruneTarget::kPeakSram, 0.5)).ok());
}

// For random candidates (branch blocks, DWConv chains, prepools) and random
// importance: the pruned candidate is valid, builds, has the same ops, its
// exact costs are those reported, and the targeted resource went down
// (strictly when anything was removed).
TEST(PruningTest, RandomCandidatesPruneToValidCheaperCandidates) {
  std::mt19937_64 rng(11);
  testing::RandomCandidateLimits limits;
  limits.max_blocks = 5;
  limits.max_filters = 48;
  int pruned_any = 0;
  for (int i = 0; i < 60; ++i) {
    const Candidate c = testing::RandomCandidate(rng, limits);
    const InputSpec input = i % 2 == 0 ? InputSpec{28, 28, 1, 10} : InputSpec{16, 16, 3, 4};
    const PruneTarget target = i % 3 == 0 ? PruneTarget::kFlash : PruneTarget::kPeakSram;
    PruneConfig config = Config(target, 0.3);
    config.accounting = i % 4 < 2 ? Accounting::kTflm : Accounting::kUnas;
    const std::string label = "candidate " + std::to_string(i);
    auto network = BuildNetwork(c, input);
    ASSERT_TRUE(network.ok()) << label;
    auto groups = FindChannelGroups(c, *network);
    ASSERT_TRUE(groups.ok()) << label << ": " << groups.status().message();
    std::vector<std::vector<double>> importance(groups->groups.size());
    for (size_t g = 0; g < groups->groups.size(); ++g) {
      if (!groups->groups[g].prunable) continue;
      for (int ch = 0; ch < groups->groups[g].channels; ++ch) {
        importance[g].push_back(std::uniform_real_distribution<double>(0, 1)(rng));
      }
    }
    auto plan = ChoosePruning(c, input, importance, config);
    ASSERT_TRUE(plan.ok()) << label << ": " << plan.status().message();
    EXPECT_TRUE(ValidateCandidate(plan->candidate).ok()) << label;
    auto pruned = BuildNetwork(plan->candidate, input);
    ASSERT_TRUE(pruned.ok()) << label;
    ASSERT_EQ(pruned->ops.size(), network->ops.size()) << label;
    for (size_t op = 0; op < pruned->ops.size(); ++op) {
      const int g = groups->group_of_op[op];
      EXPECT_EQ(pruned->ops[op].out.c, static_cast<int>(plan->keep[static_cast<size_t>(g)].size()))
          << label << " op " << op;
      EXPECT_EQ(pruned->ops[op].out.h, network->ops[op].out.h) << label << " op " << op;
    }
    auto costs = SummariseCosts(*pruned, config.accounting);
    ASSERT_TRUE(costs.ok());
    EXPECT_EQ(costs->peak_sram_bytes, plan->pruned_costs.peak_sram_bytes) << label;
    EXPECT_EQ(costs->flash_bytes, plan->pruned_costs.flash_bytes) << label;
    EXPECT_LE(plan->channels_removed, static_cast<int>(0.3 * plan->prunable_channels)) << label;
    const int64_t before = TargetBytes(plan->proposed_costs, target), after = TargetBytes(*costs, target);
    if (plan->channels_removed > 0) {
      EXPECT_LT(after, before) << label;
      EXPECT_NE(plan->candidate, c) << label;
      ++pruned_any;
    } else {
      EXPECT_EQ(after, before) << label;
      EXPECT_EQ(plan->candidate, c) << label;
    }
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(pruned_any, 40);  // the property is not vacuous
}

// Through LibTorch: the network built for the pruned candidate, holding the
// surviving weights, has the cost model's parameter count and shapes, and
// computes what the original computes with the removed channels zeroed.
void ExpectPrunedTorchAgreement(const Candidate& c, const InputSpec& input, const PruneConfig& config,
                                const std::string& label) {
  auto summary = SummarisePrunedTorchNetwork(c, input, config, 3);
  ASSERT_TRUE(summary.ok()) << label << ": " << summary.status().message();
  auto pruned = BuildNetwork(summary->plan.candidate, input);
  ASSERT_TRUE(pruned.ok()) << label;
  auto unas_costs = SummariseCosts(*pruned, Accounting::kUnas);
  ASSERT_TRUE(unas_costs.ok());
  EXPECT_EQ(summary->pruned.params, unas_costs->params) << label;
  EXPECT_EQ(summary->pruned.params, summary->plan.pruned_costs.params) << label;
  ASSERT_EQ(summary->pruned.op_shapes.size(), pruned->ops.size()) << label;
  for (size_t i = 0; i < pruned->ops.size(); ++i) {
    EXPECT_EQ(summary->pruned.op_shapes[i], pruned->ops[i].out) << label << " op " << i;
  }
  EXPECT_LT(summary->max_logit_difference, 1e-3) << label;
}

TEST(PruningTest, PrunedWorkedExampleKeepsSurvivingWeights) {
  const PruneConfig config = Config(PruneTarget::kPeakSram, 0.5);
  auto summary = SummarisePrunedTorchNetwork(testing::WorkedExample(), testing::FashionMnist(), config, 3);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  EXPECT_GT(summary->plan.channels_removed, 0);
  EXPECT_LT(summary->plan.pruned_costs.peak_sram_bytes, summary->plan.proposed_costs.peak_sram_bytes);
  ExpectPrunedTorchAgreement(testing::WorkedExample(), testing::FashionMnist(), config, "worked example");
}

TEST(PruningTest, PrunedRandomCandidatesAgreeWithCostModelInTorch) {
  std::mt19937_64 rng(5);
  testing::RandomCandidateLimits limits;
  limits.max_blocks = 4;
  limits.max_filters = 24;
  for (int i = 0; i < 40; ++i) {
    const Candidate c = testing::RandomCandidate(rng, limits);
    const InputSpec input = i % 2 == 0 ? InputSpec{28, 28, 1, 10} : InputSpec{16, 16, 3, 2};
    PruneConfig config = Config(i % 3 == 0 ? PruneTarget::kFlash : PruneTarget::kPeakSram, 0.1 + 0.02 * i);
    ExpectPrunedTorchAgreement(c, input, config, "candidate " + std::to_string(i));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace unas::worker
