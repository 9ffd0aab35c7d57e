// Image-folder decode throughput (docs/data.md): writes COUNT small PNGs
// (SIZE x SIZE RGB, 10 classes, made with stb_image_write) under DIR unless
// DIR already holds them, then times listing (DescribeDataset: folder names
// and one header) and the whole load (decode + convert + split), single
// thread, as a worker does it. Prints the figures docs/data.md reports.
//
//   bench_image_folder DIR [COUNT=50000] [SIZE=32] [SHAPE=32,32,3]
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <stb/stb_image_write.h>

#include "bench/bench_tool.h"
#include "data/dataset_spec.h"
#include "data/image_folder.h"

constexpr unas::bench::Program kProgram{"bench_image_folder"};

int main(int argc, char** argv) {
  if (argc < 2) return kProgram.Usage("DIR [COUNT=50000] [SIZE=32] [SHAPE=32,32,3]");
  const std::string dir = argv[1];
  const long count = argc > 2 ? std::atol(argv[2]) : 50000;
  const int size = argc > 3 ? std::atoi(argv[3]) : 32;
  if (count < 20 || count > 10000000 || size < 1 || size > 4096) {
    return kProgram.Fail("COUNT must be 20.., SIZE 1..4096");
  }
  auto spec = unas::data::ParseDatasetSpec("folder:" + dir);
  if (!spec.ok()) return kProgram.Fail(spec.status());
  auto shape = unas::data::ParseInputShape(argc > 4 ? argv[4] : "32,32,3");
  if (!shape.ok()) return kProgram.Fail(shape.status());
  spec->input_shape = *shape;

  if (!std::filesystem::exists(dir)) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> px(static_cast<size_t>(size) * size * 3);
    for (long i = 0; i < count; ++i) {
      const std::string cls = dir + "/class" + std::to_string(i % 10);
      if (i < 10) std::filesystem::create_directories(cls);
      for (size_t p = 0; p < px.size(); ++p) px[p] = static_cast<uint8_t>((p * 7 + i * 13 + (p * i) % 29) & 0xff);
      const std::string path = cls + "/" + std::to_string(i) + ".png";
      if (stbi_write_png(path.c_str(), size, size, 3, px.data(), size * 3) != 1) return kProgram.Fail(path + ": cannot write");
    }
    std::printf("wrote %ld PNGs of %dx%dx3 in %.2f s\n", count, size, size, unas::bench::SecondsSince(start));
  }

  auto start = std::chrono::steady_clock::now();
  auto described = unas::data::DescribeDataset(*spec);
  if (!described.ok()) return kProgram.Fail(described.status());
  const double describe_s = unas::bench::SecondsSince(start);
  std::printf("describe (list folders, no decode): %.3f s, %d classes\n", describe_s, described->num_classes);

  start = std::chrono::steady_clock::now();
  auto sets = unas::data::ReadImageFolder(*spec, [](int64_t done, int64_t total) {
    std::fprintf(stderr, "decoded %lld of %lld\n", static_cast<long long>(done), static_cast<long long>(total));
  });
  if (!sets.ok()) return kProgram.Fail(sets.status());
  const double load_s = unas::bench::SecondsSince(start);
  const long long images = sets->train.count + sets->test.count;
  std::printf("load (list + decode + convert + split): %lld images in %.2f s = %.0f images/s, %.1f MB of pixels\n",
              images, load_s, static_cast<double>(images) / load_s,
              static_cast<double>(sets->train.pixels.size() + sets->test.pixels.size()) / 1e6);
  return 0;
}
