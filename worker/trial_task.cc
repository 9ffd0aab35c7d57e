#include "worker/trial_task.h"

#include "base/spelling.h"

namespace unas::worker {
namespace {

constexpr Spelling<EvaluatorKind> kEvaluators[] = {{EvaluatorKind::kTrain, "train"},
                                                   {EvaluatorKind::kSynthetic, "synthetic"}};

}  // namespace

const char* EvaluatorKindName(EvaluatorKind kind) { return NameIn(kEvaluators, kind); }

Result<EvaluatorKind> ParseEvaluatorKind(const std::string& name, const std::string& where) {
  return ParseIn(kEvaluators, name, where);
}

}  // namespace unas::worker
