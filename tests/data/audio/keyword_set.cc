#include "tests/data/audio/keyword_set.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "data/audio/wav.h"
#include "tests/firmware/c_build.h"

namespace unas::data::audio::testing {
namespace {

namespace fs = std::filesystem;
using firmware::testing::RunCommand;

// Removed by its destructor at exit.
struct KeywordSetDir {
  std::string path;
  ~KeywordSetDir() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
};

}  // namespace

void WriteClip(const std::string& path, const std::vector<int16_t>& pcm) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_TRUE(WritePcmWav(path, pcm.data(), pcm.size(), 16000).ok()) << path;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream f(path);
  for (const auto& line : lines) f << line << "\n";
}

bool HaveSpeechTools() { return RunCommand("command -v espeak-ng && command -v sox").exit_code == 0; }

std::string MakeKeywords(const std::string& dir, const std::string& args) {
  const auto r = RunCommand("bash " UNAS_SOURCE_DIR "/tests/data/audio/make_keywords.sh " + dir + " " + args);
  return r.exit_code == 0 ? std::string() : "make_keywords.sh exited " + std::to_string(r.exit_code) + ":\n" + r.output;
}

const std::string& SmallKeywordSet() {
  static const std::unique_ptr<KeywordSetDir> dir = [] {
    auto d = std::make_unique<KeywordSetDir>();
    if (!HaveSpeechTools()) return d;
    std::string pattern = ::testing::TempDir();
    if (pattern.empty() || pattern.back() != '/') pattern += '/';
    pattern += "unas_test_keywords_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    d->path = pattern;
    const std::string error =
        MakeKeywords(d->path, "--words 'yes no' --others cat --speakers 7 --split-period 5 --noise-seconds 3");
    if (!error.empty()) {
      fprintf(stderr, "%s\n", error.c_str());
      std::abort();
    }
    return d;
  }();
  return dir->path;
}

std::vector<std::vector<int16_t>> FrontendTestClips() {
  std::vector<std::vector<int16_t>> clips;
  const std::string& dir = SmallKeywordSet();
  if (!dir.empty()) {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() == ".wav") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      auto pcm = ReadPcmWav(file);
      EXPECT_TRUE(pcm.ok()) << pcm.status().message();
      if (pcm.ok()) clips.push_back(FitClip(*pcm, 16000));
    }
  }
  clips.emplace_back(16000, 0);
  std::vector<int16_t> square(16000), noise(16000), click(16000, 0);
  uint32_t state = 12345;
  for (int i = 0; i < 16000; ++i) {
    square[i] = (i / 8) % 2 ? int16_t(32767) : int16_t(-32768);
    state = state * 1664525u + 1013904223u;
    noise[i] = int16_t(state >> 16);
  }
  click[321] = 1;  // the second sample of frame 1, where the window is tiny
  clips.push_back(square);
  clips.push_back(noise);
  clips.push_back(click);
  return clips;
}

}  // namespace unas::data::audio::testing
