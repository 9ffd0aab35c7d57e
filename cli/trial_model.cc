#include "cli/trial_model.h"

#include "cli/write_file.h"
#include "firmware/generator.h"
#include "firmware/trial_library.h"

namespace unas::cli {

Result<std::optional<data::InputContract>> WriteTrialModel(const std::string& dir, const std::string& tflite,
                                                           const Network& network, bool partial_execution) {
  const std::string path = dir + "/model.tflite";
  UNAS_RETURN_IF_ERROR(WriteFile(path, "model", tflite));
  auto made = firmware::TrialLibraryFromTflite(tflite, network, partial_execution);
  if (!made.ok()) return made.status().WithContext(path);
  UNAS_RETURN_IF_ERROR(firmware::WriteCLibrary(dir, made->library));
  return made->contract;
}

}  // namespace unas::cli
