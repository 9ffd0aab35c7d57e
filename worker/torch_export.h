// LibTorch side of worker/int8_export.h: a CandidateNet's weights in the
// float reference layout with batch norm folded. Internal to worker/.
#pragma once

#include "costmodel/reference_executor.h"
#include "worker/torch_network.h"

namespace unas::worker {

// Reads `net` (which must have been built for its own ops()) without
// changing it. Torch is NCHW; the layout out is NHWC (see TrainedModel).
ReferenceWeights ExtractFoldedWeights(CandidateNetImpl& net);

}  // namespace unas::worker
