// Packs of registered data sets (data/dataset_pack.h): the byte stream, its
// SHA-256, reading it at any offset, and unpacking it back.
#include "data/dataset_pack.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "data/dataset_spec.h"
#include "tests/temp_dir.h"

namespace unas::data {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// a.txt = "x", b/y.txt = "yy": the pack written out by hand from the format.
constexpr char kTinyPack[] = "unas-pack 1\n1 a.txt\nx2 b/y.txt\nyy";
// `printf 'unas-pack 1\n1 a.txt\nx2 b/y.txt\nyy' | sha256sum` (coreutils)
constexpr char kTinySha256[] = "3d3f273d5796c4b0d7ee1106f8e2efeac902feb0ede6c508e5343abd584f302e";

void MakeTiny(const unas::testing::TempDir& dir) {
  std::filesystem::create_directories(dir / "b");
  WriteFile(dir / "b/y.txt", "yy");
  WriteFile(dir / "a.txt", "x");
}

TEST(Sha256Test, MatchesTheFipsTestVector) {
  // FIPS 180-2, appendix B.1: SHA-256("abc").
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsSha256Hex(kTinySha256));
  EXPECT_FALSE(IsSha256Hex("3D3F"));
}

TEST(PackReaderTest, ADirectoryPacksItsFilesInPathOrderWithTheirSizes) {
  unas::testing::TempDir dir("pack");
  MakeTiny(dir);
  auto pack = PackReader::Open(dir.path());
  ASSERT_TRUE(pack.ok()) << pack.status().message();
  const std::string expected(kTinyPack);
  EXPECT_EQ(pack->total_bytes(), static_cast<int64_t>(expected.size()));
  EXPECT_EQ(pack->file_count(), 2);
  EXPECT_EQ(pack->content_bytes(), 3);
  EXPECT_EQ(pack->entry(), "");
  EXPECT_EQ(pack->Read(0, 1000).value(), expected);
  // Every window of every length reads the same bytes as the whole.
  for (size_t offset = 0; offset <= expected.size(); ++offset) {
    for (size_t length = 0; length <= 7; ++length) {
      ASSERT_EQ(pack->Read(static_cast<int64_t>(offset), static_cast<int64_t>(length)).value(),
                expected.substr(offset, length))
          << "offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(pack->Sha256Hex().value(), kTinySha256);
  EXPECT_EQ(pack->Read(static_cast<int64_t>(expected.size()) + 1, 1).status().code(), StatusCode::kOutOfRange);
}

TEST(PackReaderTest, AFileThatChangedSizeSinceOpenIsAnError) {
  unas::testing::TempDir dir("pack_changed");
  MakeTiny(dir);
  auto pack = PackReader::Open(dir.path());
  ASSERT_TRUE(pack.ok());
  WriteFile(dir / "a.txt", "xxxx");
  auto read = pack->Read(0, 1000);
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(read.status().message().find("a.txt' changed while being read"), std::string::npos);
}

TEST(PackReaderTest, ASingleFileIsADirectoryHoldingOnlyIt) {
  unas::testing::TempDir dir("pack_file");
  WriteFile(dir / "walk.csv", "label,v\n");
  auto pack = PackReader::Open(dir / "walk.csv");
  ASSERT_TRUE(pack.ok());
  EXPECT_EQ(pack->entry(), "walk.csv");
  EXPECT_EQ(pack->Read(0, 100).value(), "unas-pack 1\n8 walk.csv\nlabel,v\n");
}

TEST(PackReaderTest, RefusesSymbolicLinksAndMissingPaths) {
  unas::testing::TempDir dir("pack_link");
  MakeTiny(dir);
  ASSERT_EQ(symlink("a.txt", (dir / "link").c_str()), 0);
  auto pack = PackReader::Open(dir.path());
  EXPECT_EQ(pack.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pack.status().message().find("'link' is a symbolic link"), std::string::npos) << pack.status().message();
  EXPECT_EQ(PackReader::Open(dir / "none").status().code(), StatusCode::kNotFound);
}

TEST(PackUnpackerTest, UnpacksAPackArrivingInPiecesOfAnySize) {
  unas::testing::TempDir dir("unpack");
  const std::string pack(kTinyPack);
  for (size_t piece = 1; piece <= 4; ++piece) {
    const std::string out = dir / ("out" + std::to_string(piece));
    auto unpacker = PackUnpacker::Create(out);
    ASSERT_TRUE(unpacker.ok());
    for (size_t at = 0; at < pack.size(); at += piece) {
      ASSERT_TRUE((*unpacker)->Write(pack.substr(at, piece)).ok()) << "piece " << piece << " at " << at;
    }
    ASSERT_TRUE((*unpacker)->Finish(kTinySha256).ok());
    EXPECT_EQ(ReadFile(out + "/a.txt"), "x");
    EXPECT_EQ(ReadFile(out + "/b/y.txt"), "yy");
    EXPECT_EQ(PackReader::Open(out).value().Sha256Hex().value(), kTinySha256);
  }
}

TEST(PackUnpackerTest, RefusesAWrongHashATruncatedPackAndPathsOutsideItsFolder) {
  unas::testing::TempDir dir("unpack_bad");
  const std::string pack(kTinyPack);
  auto check = [&](const std::string& name, const std::string& bytes, const std::string& sha,
                   const std::string& expected_message) {
    auto unpacker = PackUnpacker::Create(dir / name).value();
    Status s = unpacker->Write(bytes);
    if (s.ok()) s = unpacker->Finish(sha);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(s.message().find(expected_message), std::string::npos) << name << ": " << s.message();
  };
  check("wrong_hash", pack, std::string(64, '0'), "expected 0000");
  check("truncated", pack.substr(0, pack.size() - 1), kTinySha256, "ends inside a file after 32 bytes");
  check("magic", "unas-pack 2\n", kTinySha256, "does not start with");
  check("escape", "unas-pack 1\n1 ../x\nx", kTinySha256, "\".\" or \"..\" component");
  check("absolute", "unas-pack 1\n1 /etc/x\nx", kTinySha256, "it is absolute");
  check("order", "unas-pack 1\n1 b\nx1 a\nx", kTinySha256, "'a' is out of order");
  check("size", "unas-pack 1\n-1 a\n", kTinySha256, "bad file header at byte 12");
  EXPECT_FALSE(std::filesystem::exists(dir / "escape/../x"));
}

TEST(DatasetNameTest, AcceptsShortPlainNamesOnly) {
  EXPECT_TRUE(CheckDatasetName("digits-v2.1_rgb").ok());
  EXPECT_FALSE(CheckDatasetName("").ok());
  EXPECT_FALSE(CheckDatasetName(".hidden").ok());
  EXPECT_FALSE(CheckDatasetName("a/b").ok());
  EXPECT_FALSE(CheckDatasetName(std::string(65, 'a')).ok());
  EXPECT_FALSE(CheckDatasetName(kTinySha256).ok());
}

TEST(DatasetKindTest, IsDetectedFromTheFilesAFormatNeeds) {
  unas::testing::TempDir dir("kinds");
  for (const char* d : {"idx", "cifar", "speech", "csvdir", "images"}) std::filesystem::create_directories(dir / d);
  WriteFile(dir / "idx/train-images-idx3-ubyte.gz", "");
  WriteFile(dir / "cifar/data_batch_1.bin", "");
  WriteFile(dir / "speech/validation_list.txt", "");
  WriteFile(dir / "speech/testing_list.txt", "");
  WriteFile(dir / "csvdir/train.csv", "");
  WriteFile(dir / "one.csv", "");
  EXPECT_EQ(DetectDatasetKind(dir / "idx"), "idx");
  EXPECT_EQ(DetectDatasetKind(dir / "cifar"), "cifar10");
  EXPECT_EQ(DetectDatasetKind(dir / "speech"), "speech_commands");
  EXPECT_EQ(DetectDatasetKind(dir / "csvdir"), "csv");
  EXPECT_EQ(DetectDatasetKind(dir / "one.csv"), "csv");
  EXPECT_EQ(DetectDatasetKind(dir / "images"), "folder");
}

TEST(RegisteredSubpathTest, IsWhatFollowsTheHashInTheDirectory) {
  DatasetSpec spec;
  spec.sha256 = kTinySha256;
  spec.directory = std::string("/data/datasets/") + kTinySha256;
  EXPECT_EQ(RegisteredSubpath(spec).value(), "");
  spec.directory += "/walk.csv";
  EXPECT_EQ(RegisteredSubpath(spec).value(), "/walk.csv");
  spec.directory = "/data/elsewhere";
  EXPECT_EQ(RegisteredSubpath(spec).status().code(), StatusCode::kInvalidArgument);
  spec.sha256.clear();
  EXPECT_EQ(RegisteredSubpath(spec).status().code(), StatusCode::kInvalidArgument);
}

TEST(RegisteredDatasetTest, TheTextFormDataNameIsRefusedOutsideACoordinator) {
  auto parsed = ParseDatasetSpec("data:digits");
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("only a coordinator resolves"), std::string::npos);
}

}  // namespace
}  // namespace unas::data
