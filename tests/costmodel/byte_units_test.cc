// Byte sizes as users write them (costmodel/byte_units.h).
#include "costmodel/byte_units.h"

#include <gtest/gtest.h>

namespace unas {
namespace {

int64_t Bytes(const char* text) {
  auto r = ParseByteSize(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : -1;
}

TEST(ByteUnitsTest, PlainNumbersAreBytes) {
  EXPECT_EQ(Bytes("0"), 0);
  EXPECT_EQ(Bytes("32768"), 32768);
  EXPECT_EQ(Bytes("4096B"), 4096);
  EXPECT_EQ(Bytes("4096 B"), 4096);
}

TEST(ByteUnitsTest, SiUnitsArePowersOf1000AndIecOf1024) {
  EXPECT_EQ(Bytes("32kB"), 32000);
  EXPECT_EQ(Bytes("64KiB"), 65536);
  EXPECT_EQ(Bytes("64 KiB"), 65536);
  EXPECT_EQ(Bytes("1MB"), 1000000);
  EXPECT_EQ(Bytes("2MiB"), 2097152);
  EXPECT_EQ(Bytes("1GB"), 1000000000);
  EXPECT_EQ(Bytes("1GiB"), 1073741824);
  EXPECT_EQ(Bytes("1.5MiB"), 1572864);
  EXPECT_EQ(Bytes("0.5kB"), 500);
  EXPECT_EQ(Bytes("320KiB"), 327680);  // STM32F746's SRAM
}

TEST(ByteUnitsTest, RefusesAmbiguousAndMalformedSizes) {
  for (const char* bad : {"32KB", "32K", "32k", "32kb", "", "kB", "-5", "1e3", "1.5", "1.5B", "3.kB", "12 ",
                          "12  kB", "0.0001kB", "1.2.3", "99999999999999999999", "16 bytes"}) {
    auto r = ParseByteSize(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' was accepted as " << (r.ok() ? *r : 0);
  }
  EXPECT_NE(ParseByteSize("32KB").status().message().find("ambiguous: kB is 1000 bytes, KiB is 1024"),
            std::string::npos);
  EXPECT_NE(ParseByteSize("16 bytes").status().message().find("unknown unit 'bytes'"), std::string::npos)
      << ParseByteSize("16 bytes").status().message();
  // At most 2^53 bytes: a JSON number holds it exactly.
  EXPECT_EQ(Bytes("9007199254740992"), int64_t{1} << 53);
  EXPECT_EQ(ParseByteSize("9007199254740993").status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseByteSize("8388609GiB").status().code(), StatusCode::kOutOfRange);
}

TEST(ByteUnitsTest, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(FormatByteSize(65536), "64 KiB");
  EXPECT_EQ(FormatByteSize(32000), "32 kB");
  EXPECT_EQ(FormatByteSize(1500), "1500 B");
  EXPECT_EQ(FormatByteSize(2 * 1024 * 1024), "2 MiB");
  EXPECT_EQ(FormatByteSize(0), "0 B");
}

}  // namespace
}  // namespace unas
