// The strict WAV reader: what it accepts, and a named error for each kind
// of file it refuses.
#include "data/audio/wav.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace unas::data::audio {
namespace {

using unas::testing::TempDir;

void Put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
void Put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}
void PutTag(std::vector<uint8_t>& b, const char* tag) { b.insert(b.end(), tag, tag + 4); }

struct Fmt {
  uint16_t tag = 1, channels = 1;
  uint32_t rate = 16000;
  uint16_t bits = 16;
};

// A WAV with the given fmt fields, `samples` int16 values (as raw bytes
// for `bits` = 16), and optional extra chunk before the data.
std::vector<uint8_t> Wav(const Fmt& fmt, const std::vector<int16_t>& samples, bool list_chunk = false) {
  std::vector<uint8_t> body;
  PutTag(body, "WAVE");
  PutTag(body, "fmt ");
  Put32(body, 16);
  Put16(body, fmt.tag);
  Put16(body, fmt.channels);
  Put32(body, fmt.rate);
  const uint16_t block = uint16_t(fmt.channels * fmt.bits / 8);
  Put32(body, fmt.rate * block);
  Put16(body, block);
  Put16(body, fmt.bits);
  if (list_chunk) {
    PutTag(body, "LIST");
    Put32(body, 5);  // odd: padded to 6
    body.insert(body.end(), {'I', 'N', 'F', 'O', 'x', 0});
  }
  PutTag(body, "data");
  Put32(body, uint32_t(2 * samples.size()));
  for (int16_t s : samples) Put16(body, uint16_t(s));
  std::vector<uint8_t> out;
  PutTag(out, "RIFF");
  Put32(out, uint32_t(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::string Write(const TempDir& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = dir / name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

std::string ErrorOf(const std::string& path) {
  auto r = ReadPcmWav(path);
  EXPECT_FALSE(r.ok()) << path << " was accepted";
  return r.ok() ? "" : r.status().message();
}

TEST(Wav, ReadsMono16BitPcmAndSkipsOtherChunks) {
  TempDir dir;
  const std::vector<int16_t> samples = {0, 1, -1, 32767, -32768, 1234};
  auto plain = ReadPcmWav(Write(dir, "plain.wav", Wav(Fmt{}, samples)));
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, samples);
  auto with_list = ReadPcmWav(Write(dir, "list.wav", Wav(Fmt{}, samples, true)));
  ASSERT_TRUE(with_list.ok()) << with_list.status().message();
  EXPECT_EQ(*with_list, samples);
  // The writer's files read back.
  ASSERT_TRUE(WritePcmWav(dir / "written.wav", samples.data(), samples.size(), 16000).ok());
  EXPECT_EQ(*ReadPcmWav(dir / "written.wav"), samples);
}

TEST(Wav, EachUnsupportedKindNamesTheFileAndTheProblem) {
  TempDir dir;
  const std::vector<int16_t> second(16000, 7);
  Fmt stereo;
  stereo.channels = 2;
  std::string e = ErrorOf(Write(dir, "stereo.wav", Wav(stereo, second)));
  EXPECT_NE(e.find("stereo.wav: 2 channels (stereo); only mono is read"), std::string::npos) << e;

  Fmt eight_bit;
  eight_bit.bits = 8;
  e = ErrorOf(Write(dir, "8bit.wav", Wav(eight_bit, second)));
  EXPECT_NE(e.find("8bit.wav: 8-bit samples; only 16-bit PCM is read"), std::string::npos) << e;

  Fmt cd;
  cd.rate = 44100;
  e = ErrorOf(Write(dir, "cd.wav", Wav(cd, second)));
  EXPECT_NE(e.find("cd.wav: sample rate 44100 Hz; only 16000 Hz is read"), std::string::npos) << e;

  Fmt float_format;
  float_format.tag = 3;
  e = ErrorOf(Write(dir, "float.wav", Wav(float_format, second)));
  EXPECT_NE(e.find("float.wav: format tag 3 (IEEE float) is not integer PCM"), std::string::npos) << e;

  std::vector<uint8_t> truncated = Wav(Fmt{}, second);
  truncated.resize(truncated.size() - 1000);
  e = ErrorOf(Write(dir, "truncated.wav", truncated));
  EXPECT_NE(e.find("truncated.wav: truncated: the RIFF header announces 32044 bytes, the file has 31044"),
            std::string::npos)
      << e;

  // A data chunk longer than its RIFF chunk (a writer that stopped early
  // but patched the RIFF size).
  std::vector<uint8_t> short_data = Wav(Fmt{}, second);
  short_data.resize(short_data.size() - 1000);
  const uint32_t riff = uint32_t(short_data.size() - 8);
  for (int i = 0; i < 4; ++i) short_data[4 + i] = uint8_t(riff >> (8 * i));
  e = ErrorOf(Write(dir, "short_data.wav", short_data));
  EXPECT_NE(e.find("short_data.wav: truncated: chunk 'data' announces 32000 bytes, only 31000 follow"),
            std::string::npos)
      << e;

  e = ErrorOf(Write(dir, "text.wav", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '\n'}));
  EXPECT_NE(e.find("text.wav: not a RIFF file (starts with 'hell')"), std::string::npos) << e;

  std::vector<uint8_t> avi = Wav(Fmt{}, second);
  std::copy_n("AVI ", 4, avi.begin() + 8);
  e = ErrorOf(Write(dir, "avi.wav", avi));
  EXPECT_NE(e.find("avi.wav: a RIFF file of form 'AVI ', not WAVE"), std::string::npos) << e;

  e = ErrorOf(Write(dir, "empty.wav", {}));
  EXPECT_NE(e.find("empty.wav: not a RIFF file"), std::string::npos) << e;

  auto missing = ReadPcmWav(dir / "missing.wav");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.wav: cannot open"), std::string::npos);
}

TEST(Wav, FitClipPadsWithZerosOrCutsAtTheEnd) {
  EXPECT_EQ(FitClip({1, 2, 3}, 5), (std::vector<int16_t>{1, 2, 3, 0, 0}));
  EXPECT_EQ(FitClip({1, 2, 3, 4, 5, 6}, 4), (std::vector<int16_t>{1, 2, 3, 4}));
  EXPECT_EQ(FitClip({}, 2), (std::vector<int16_t>{0, 0}));
}

}  // namespace
}  // namespace unas::data::audio
