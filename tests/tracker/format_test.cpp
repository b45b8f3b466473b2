// tests/tracker/format_test.cpp — the shared text helpers of the tracker: HTML/SVG escaping (html.h) and
// the two time formats (time_format.h), in UTC and in a zone set through TZ.
#include "tracker/html.h"
#include "tracker/svg_plot.h"
#include "tracker/time_format.h"

#include <cstdlib>
#include <ctime>
#include <gtest/gtest.h>
#include <optional>

namespace mhr::tracker {
namespace {

TEST(Html, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(escapeHtml(""), "");
  EXPECT_EQ(escapeHtml("plain text 1.5"), "plain text 1.5");
  EXPECT_EQ(escapeHtml("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  // Already-escaped text is escaped again: the input is text, not markup.
  EXPECT_EQ(escapeHtml("&amp;"), "&amp;amp;");
  EXPECT_EQ(escapeHtml("Grad-CAM · «Zoë»"), "Grad-CAM · «Zoë»");
}

TEST(Html, SvgTextIsEscapedToo) {
  PlotOptions options;
  options.id = "p";
  options.title = "<script>'x'</script>";
  options.xLabel = "a & b";
  options.yLabel = "it's \"y\"";
  std::string svg = lineChartSvg({PlotSeries{"s", {0, 1}, {0, 1}, "", false}}, options);
  EXPECT_EQ(svg.find("<script>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("&lt;script&gt;&#39;x&#39;&lt;/script&gt;"), std::string::npos) << svg;
  EXPECT_NE(svg.find("a &amp; b"), std::string::npos) << svg;
  EXPECT_NE(svg.find("it&#39;s &quot;y&quot;"), std::string::npos) << svg;
}

// Sets TZ for one test and puts the old value back.
class ScopedTz {
public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

private:
  std::optional<std::string> old_;
};

TEST(TimeFormat, IsoIsUtcAtWholeSeconds) {
  ScopedTz tz("XYZ-2"); // UTC+2 locally: the ISO form must not follow it
  EXPECT_EQ(formatIsoTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatIsoTime(1764246063000), "2025-11-27T12:21:03Z");
  EXPECT_EQ(formatIsoTime(1764246063999), "2025-11-27T12:21:03Z");
}

TEST(TimeFormat, LocalFollowsTz) {
  {
    ScopedTz tz("UTC");
    EXPECT_EQ(formatLocalTime(1764246063123), "2025-11-27 12:21:03");
  }
  {
    ScopedTz tz("XYZ-2"); // POSIX TZ: two hours east of UTC
    EXPECT_EQ(formatLocalTime(1764246063123), "2025-11-27 14:21:03");
  }
}

} // namespace
} // namespace mhr::tracker
