// What the reader will hold (issue 23): a file's size is checked before it
// is read, devices are refused, pipes are read as bounded streams, and a
// small file cannot make the reader materialise more than its limits.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include "tests/temp_dir.h"
#include "tests/tflite/tflite_test_util.h"
#include "tflite/reader.h"
#include "tflite/tflite_subset_generated.h"

namespace unas {
namespace {

namespace fb = ::unas::tflite_fb;

void ExpectMessage(const Status& status, StatusCode code, const std::string& message) {
  EXPECT_EQ(status.code(), code);
  EXPECT_EQ(status.message(), message);
}

TEST(TfliteReaderLimits, AFileOverTheLimitIsRefusedBeforeItIsRead) {
  // A sparse file: 256 MiB + 1 of size, no disk used.
  testing::TempDir dir("reader_limits");
  const std::string path = dir / "huge.tflite";
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kMaxTfliteBytes) + 1), 0);
  ::close(fd);
  auto bytes = ReadTfliteFileBytes(path);
  ASSERT_FALSE(bytes.ok());
  ExpectMessage(bytes.status(), StatusCode::kInvalidArgument,
                "tflite: '" + path + "' is 268435457 bytes, more than the limit of 268435456");
  auto graph = ReadTfliteFile(path);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message(), bytes.status().message());
  // Under the limit the same file reads whole.
  const std::string model = testing::TestdataPath("simple_add_model.tflite");
  auto small = ReadTfliteFileBytes(model);
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(*small, testing::ReadBytes(model));
  auto tight = ReadTfliteFileBytes(model, small->size() - 1);
  ASSERT_FALSE(tight.ok());
  EXPECT_NE(tight.status().message().find("bytes, more than the limit of " + std::to_string(small->size() - 1)),
            std::string::npos);
}

TEST(TfliteReaderLimits, DevicesAndDirectoriesAreRefusedWithoutReading) {
  auto zero = ReadTfliteFileBytes("/dev/zero");
  ASSERT_FALSE(zero.ok());
  ExpectMessage(zero.status(), StatusCode::kInvalidArgument,
                "tflite: '/dev/zero' is a device, not a model file (a regular file or a pipe)");
  testing::TempDir dir("reader_limits");
  auto directory = ReadTfliteFileBytes(dir.path());
  ASSERT_FALSE(directory.ok());
  ExpectMessage(directory.status(), StatusCode::kInvalidArgument,
                "tflite: '" + dir.path() + "' is a directory, not a model file");
  ExpectMessage(ReadTfliteFileBytes(dir / "missing").status(), StatusCode::kNotFound,
                "tflite: cannot open '" + dir / "missing" + "'");
}

// Writes `bytes` into the FIFO at `path` once a reader has opened it (at
// most 5 s of 1 ms tries), then closes it; a reader that stops early makes
// the write fail (EPIPE, SIGPIPE ignored by the caller).
void WriteFifo(const std::string& path, const std::vector<uint8_t>& bytes) {
  int fd = -1;
  for (int attempt = 0; attempt < 5000 && fd < 0; ++attempt) {
    fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO until the reader is there
    if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (fd < 0) return;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

TEST(TfliteReaderLimits, AFifoIsReadAsABoundedStream) {
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &previous), 0);
  testing::TempDir dir("reader_limits");
  const std::string fifo = dir / "model.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<uint8_t> model = testing::ReadBytes(testing::TestdataPath("person_detect.tflite"));
  {
    std::thread writer(WriteFifo, fifo, model);
    auto bytes = ReadTfliteFileBytes(fifo);
    writer.join();
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    EXPECT_EQ(*bytes, model);
  }
  {
    // 300 KB into a reader limited to 100 KiB: refused once it passes the
    // limit, having held at most the limit and one 64 KiB piece.
    std::thread writer(WriteFifo, fifo, std::vector<uint8_t>(300'000, 7));
    auto bytes = ReadTfliteFileBytes(fifo, 100 << 10);
    writer.join();
    ASSERT_FALSE(bytes.ok());
    ExpectMessage(bytes.status(), StatusCode::kInvalidArgument,
                  "tflite: '" + fifo + "' goes on past 102400 bytes, more than the limit of 102400");
  }
  ::sigaction(SIGPIPE, &previous, nullptr);
}

TEST(TfliteReaderLimits, OperatorAndTensorCountsAreCheckedBeforeReading) {
  const std::vector<uint8_t> bytes = testing::ReadBytes(testing::TestdataPath("person_detect.tflite"));
  TfliteReadLimits limits;
  limits.max_operators = 30;
  auto ops = ReadTflite(bytes.data(), bytes.size(), limits);
  ASSERT_FALSE(ops.ok());
  ExpectMessage(ops.status(), StatusCode::kInvalidArgument,
                "tflite: the first subgraph has 31 operators, more than the limit of 30");
  limits = {};
  limits.max_tensors = 10;
  auto tensors = ReadTflite(bytes.data(), bytes.size(), limits);
  ASSERT_FALSE(tensors.ok());
  EXPECT_NE(tensors.status().message().find("tensors, more than the limit of 10"), std::string::npos)
      << tensors.status().message();
  EXPECT_TRUE(ReadTflite(bytes.data(), bytes.size()).ok());
}

// A 400 KB file whose 64 operators all point at one list of 100,000 inputs:
// 25.6 MB of tensor lists from one stored copy.
TEST(TfliteReaderLimits, TablesSharingOneVectorCannotMultiplyTheMemory) {
  flatbuffers::FlatBufferBuilder b;
  const auto shape = b.CreateVector(std::vector<int32_t>{1, 4, 4, 1});
  const auto tensor = fb::CreateTensor(b, shape, fb::TensorType::INT8, 0, b.CreateString("t"));
  const auto shared_inputs = b.CreateVector(std::vector<int32_t>(100'000, 0));
  const auto outputs = b.CreateVector(std::vector<int32_t>{0});
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (int i = 0; i < 64; ++i) ops.push_back(fb::CreateOperator(b, 0, shared_inputs, outputs));
  const auto subgraph =
      fb::CreateSubGraph(b, b.CreateVector(std::vector<flatbuffers::Offset<fb::Tensor>>{tensor}),
                         b.CreateVector(std::vector<int32_t>{0}), outputs, b.CreateVector(ops));
  const auto code = fb::CreateOperatorCode(b, 17, 0, 1, 17);
  const auto model = fb::CreateModel(
      b, 3, b.CreateVector(std::vector<flatbuffers::Offset<fb::OperatorCode>>{code}),
      b.CreateVector(std::vector<flatbuffers::Offset<fb::SubGraph>>{subgraph}), 0,
      b.CreateVector(std::vector<flatbuffers::Offset<fb::Buffer>>{fb::CreateBuffer(b)}));
  fb::FinishModelBuffer(b, model);
  ASSERT_LT(b.GetSize(), 410'000u);
  auto graph = ReadTflite(b.GetBufferPointer(), b.GetSize());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = graph.status().message();
  EXPECT_NE(message.find("bytes of shapes, quantisation, names, data and tensor lists (2 times the file's size + "
                         "1 MiB, the reader's limit): tables share vectors (at operator "),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace unas
