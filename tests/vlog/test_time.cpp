// Times as users write them for clips, replays and diffs.
#include <gtest/gtest.h>

#include "common/units.h"

namespace kv {
namespace {

TEST(ParseTime, TakesIsoInUtcAndEpochMilliseconds) {
  constexpr int64_t kNoon = 1796299200000;  // 2026-12-03T12:00:00Z
  EXPECT_EQ(*parse_time_ms("2026-12-03T12:00:00Z"), kNoon);
  EXPECT_EQ(*parse_time_ms("2026-12-03 12:00:00"), kNoon);
  EXPECT_EQ(*parse_time_ms("2026-12-03T12:00Z"), kNoon);
  EXPECT_EQ(*parse_time_ms("2026-12-03T12:00:00+00:00"), kNoon);
  EXPECT_EQ(*parse_time_ms("2026-12-03T12:00:01.250Z"), kNoon + 1250);
  EXPECT_EQ(*parse_time_ms(" 1796299200000 "), kNoon);
  EXPECT_EQ(*parse_time_ms("2024-02-29T00:00:00Z"), 1709164800000);  // a leap day
  EXPECT_EQ(format_time_ms(kNoon + 1250), "2026-12-03T12:00:01.250Z");
  EXPECT_EQ(*parse_time_ms(format_time_ms(kNoon + 7)), kNoon + 7);
}

TEST(ParseTime, RefusesWhatIsNotAnUnambiguousTime) {
  for (const char* bad : {"", "yesterday", "2026-12-03", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-12-03T25:00:00Z", "12:00:00", "-5"}) {
    auto r = parse_time_ms(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("not a time"), std::string::npos) << r.error().message;
  }
  for (const char* zoned : {"2026-12-03T12:00:00+01:00", "2026-12-03T12:00:00X"}) {
    auto r = parse_time_ms(zoned);
    ASSERT_FALSE(r.ok()) << zoned;
    EXPECT_NE(r.error().message.find("UTC"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace kv
