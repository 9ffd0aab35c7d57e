#include "base/status.h"

#include <gtest/gtest.h>

#include <string>

namespace unas {
namespace {

TEST(Status, EveryCodeHasAFactory) {
  EXPECT_EQ(Status::Ok().code(), StatusCode::kOk);
  EXPECT_EQ(Status::Invalid("a").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Status::OutOfRange("a").code(), StatusCode::kOutOfRange);
  EXPECT_EQ(Status::NotFound("a").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::FailedPrecondition("a").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Status::ResourceExhausted("a").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Status::Internal("a").code(), StatusCode::kInternal);
  EXPECT_EQ(Status::NotFound("no job 'x'").message(), "no job 'x'");
}

TEST(Status, ToStringNamesTheCode) {
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  EXPECT_EQ(Status::NotFound("no job 'x'").ToString(), "not_found: no job 'x'");
  EXPECT_EQ(Status::ResourceExhausted("none left").ToString(), "resource_exhausted: none left");
}

TEST(Status, WithContextJoinsKeyPathsWithADot) {
  EXPECT_EQ(Status::Invalid("ker_size: must be odd").WithContext("layers[0]").message(),
            "layers[0].ker_size: must be odd");
  EXPECT_EQ(Status::Invalid("not valid JSON").WithContext("job").message(), "job: not valid JSON");
  EXPECT_TRUE(Status::Ok().WithContext("job").ok());
}

TEST(Result, HoldsAValueOrAnError) {
  Result<int> v(7);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  EXPECT_TRUE(v.status().ok());
  Result<int> e(Status::NotFound("gone"));
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.status().message(), "gone");
}

TEST(Result, MovesItsValueOut) {
  Result<std::string> r(std::string(100, 'x'));  // longer than the small-string buffer
  ASSERT_TRUE(r.ok());
  std::string moved = std::move(r).value();
  EXPECT_EQ(moved, std::string(100, 'x'));
}

TEST(ResultDeathTest, ValueOfAnErrorAbortsWithTheMessage) {
  Result<int> e(Status::Invalid("dataset: 'x' is unknown"));
  EXPECT_DEATH((void)e.value(), "value\\(\\) of an error Result: invalid_argument: dataset: 'x' is unknown");
  EXPECT_DEATH((void)*e, "invalid_argument: dataset: 'x' is unknown");
}

TEST(ResultDeathTest, AnOkStatusIsNeverAnErrorResult) {
#ifdef NDEBUG
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "a Result was built from an OK status without a value (a bug)");
#else
  EXPECT_DEATH(Result<int>{Status::Ok()}, "Result<T> built from an OK status");
#endif
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::Invalid("x: " + std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  UNAS_ASSIGN_OR_RETURN(int half, Half(x));
  UNAS_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(Result, AssignOrReturnPassesTheFirstErrorOn) {
  EXPECT_EQ(*Quarter(12), 3);
  EXPECT_EQ(Quarter(6).status().message(), "x: 3 is odd");
}

}  // namespace
}  // namespace unas
