// Malformed files get errors that say what is wrong: sizes, identifier,
// truncation, offsets and declared sizes that leave the file.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/tflite/tflite_test_util.h"
#include "tflite/reader.h"

namespace unas {
namespace {

uint32_t U32(const std::vector<uint8_t>& b, size_t pos) {
  uint32_t v;
  std::memcpy(&v, b.data() + pos, 4);
  return v;
}
void SetU32(std::vector<uint8_t>* b, size_t pos, uint32_t v) { std::memcpy(b->data() + pos, &v, 4); }

// The byte position of the uoffset of field `slot` of the root table.
size_t RootFieldPos(const std::vector<uint8_t>& b, int slot) {
  const size_t root = U32(b, 0);
  int32_t soffset;
  std::memcpy(&soffset, b.data() + root, 4);
  const size_t vtable = root - soffset;
  uint16_t voffset;
  std::memcpy(&voffset, b.data() + vtable + 4 + 2 * slot, 2);
  return root + voffset;
}

void ExpectError(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto graph = ReadTflite(bytes.data(), bytes.size());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(graph.status().message().find(needle), std::string::npos) << graph.status().message();
}

const std::vector<uint8_t>& SimpleAdd() {
  static const std::vector<uint8_t> kBytes = testing::ReadBytes(testing::TestdataPath("simple_add_model.tflite"));
  return kBytes;
}

TEST(TfliteReaderErrors, EmptyAndShortFiles) {
  ExpectError({}, "the file is 0 bytes, too short");
  ExpectError({0x1c, 0, 0, 0, 'T', 'F', 'L'}, "the file is 7 bytes, too short");
}

TEST(TfliteReaderErrors, WrongIdentifier) {
  std::vector<uint8_t> bytes = SimpleAdd();
  bytes[4] = 'P';
  bytes[7] = 0;
  ExpectError(bytes, "the file identifier at bytes 4..7 is 'PFL\\x0', not 'TFL3'");
}

TEST(TfliteReaderErrors, OverTheSizeLimit) {
  // The size is checked before a byte is read.
  const uint8_t byte = 0;
  auto graph = ReadTflite(&byte, kMaxTfliteBytes + 1);
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.status().message().find("268435457 bytes, more than the limit of 268435456"), std::string::npos)
      << graph.status().message();
}

TEST(TfliteReaderErrors, TruncatedFilesSayWhatLeavesTheFile) {
  const std::vector<uint8_t>& full = SimpleAdd();
  // Cut in the middle: the buffers' data and tables are gone.
  std::vector<uint8_t> half(full.begin(), full.begin() + full.size() / 2);
  ExpectError(half, "the flatbuffer is corrupt or truncated (");
  std::vector<uint8_t> header(full.begin(), full.begin() + 16);
  ExpectError(header, "the flatbuffer is corrupt or truncated (");
}

TEST(TfliteReaderErrors, RootOffsetOutsideTheFile) {
  std::vector<uint8_t> bytes = SimpleAdd();
  SetU32(&bytes, 0, 0x7ffffff0);
  ExpectError(bytes, "the root table offset 2147483632 points outside the 976-byte file");
}

TEST(TfliteReaderErrors, HugeDeclaredVectorLength) {
  std::vector<uint8_t> bytes = SimpleAdd();
  const size_t field = RootFieldPos(bytes, 4);  // Model.buffers
  const size_t vec = field + U32(bytes, field);
  ASSERT_EQ(U32(bytes, vec), 5u);  // simple_add has 5 buffers (flatc --json)
  SetU32(&bytes, vec, 0x7fffffff);
  ExpectError(bytes, "model.buffers declares 2147483647 elements (8589934588 bytes) but only");
}

TEST(TfliteReaderErrors, MissingFile) {
  auto graph = ReadTfliteFile("/nonexistent/model.tflite");
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(graph.status().message(), "tflite: cannot open '/nonexistent/model.tflite'");
}

TEST(TfliteReaderErrors, UnalignedCallerBytesReadTheSame) {
  const std::vector<uint8_t>& full = SimpleAdd();
  std::vector<uint8_t> shifted(full.size() + 1);
  std::memcpy(shifted.data() + 1, full.data(), full.size());
  auto graph = ReadTflite(shifted.data() + 1, full.size());
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ(graph->tensors.size(), 3u);
  EXPECT_EQ(graph->tensors[2].shape, (std::vector<int>{1, 128, 128, 1}));
}

}  // namespace
}  // namespace unas
