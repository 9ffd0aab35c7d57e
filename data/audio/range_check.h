// The range check behind the keyword-spotting options' refusals
// (CheckSpeechCommandsOptions, CheckAugmentOptions): one message for every
// field, "WHERE: FIELD VALUE is outside RANGE". Internal to data/audio.
#pragma once

#include <string>

#include "base/status.h"

namespace unas::data::audio {

// Ok when lo <= value <= hi, otherwise Invalid naming the field, its value
// (std::to_string) and `range`, the bounds as the user reads them ("0..1").
// A NaN is outside every range.
template <typename T>
Status CheckRange(const std::string& where, const std::string& field, T value, T lo, T hi, const std::string& range) {
  if (value >= lo && value <= hi) return Status::Ok();
  return Status::Invalid(where + ": " + field + " " + std::to_string(value) + " is outside " + range);
}

}  // namespace unas::data::audio
