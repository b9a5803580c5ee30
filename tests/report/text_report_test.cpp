#include "harness/report/text_report.h"

#include <gtest/gtest.h>

#include "tests/support/event_builder.h"

#include <sstream>

namespace closewire::report {
namespace {

using testing::ev;

Connection reset_leg() {
  Connection c;
  c.client = {"127.0.0.1", 56078};
  c.server = {"127.0.0.1", 9800};
  c.websocket = true;
  c.events = {ev(0, Side::client, kind::syn),        ev(0.01, Side::server, kind::syn),
              ev(0.5, Side::client, kind::upgrade),  ev(4.4, Side::server, kind::upgrade),
              ev(4.8, Side::server, kind::close, 4321), ev(5.4, Side::client, kind::close, 4321),
              ev(7.7, Side::server, kind::rst)};
  return c;
}

std::size_t widest_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::size_t widest = 0;
  while (std::getline(in, line)) {
    // Count code points, not bytes: arrows are multi-byte.
    std::size_t cols = 0;
    for (unsigned char ch : line) cols += (ch & 0xC0) != 0x80;
    widest = std::max(widest, cols);
  }
  return widest;
}

TEST(TextReport, TimelineShowsMillisecondsDirectionsAndStandsOutRst) {
  const Connection c = reset_leg();
  const std::string t = timeline(c, LegView{"leg 1", &c}, TextStyle{});
  EXPECT_NE(t.find("7.700"), std::string::npos) << t;
  EXPECT_NE(t.find("◀─"), std::string::npos);
  EXPECT_NE(t.find("─▶"), std::string::npos);
  EXPECT_NE(t.find("RST"), std::string::npos);
  EXPECT_NE(t.find("ws.close 4321 \"test\""), std::string::npos);
  EXPECT_LE(widest_line(t), 80u) << t;
}

TEST(TextReport, TimelineUsesTheLegsSideNames) {
  const Connection c = reset_leg();
  const std::string t = timeline(c, LegView{"client-gateway", &c, "client", "gateway"}, TextStyle{});
  EXPECT_NE(t.find("gateway"), std::string::npos);
}

TEST(TextReport, TimelineAroundMarksElidesTheRest) {
  const Connection c = reset_leg();
  const std::string t = timeline(c, LegView{"leg 1", &c}, TextStyle{}, {6}, 1);
  EXPECT_EQ(t.find("tcp.syn"), std::string::npos) << t;
  EXPECT_NE(t.find("…"), std::string::npos);
  EXPECT_NE(t.find(">      7.700"), std::string::npos) << t;
}

TEST(TextReport, VerdictTableFitsEightyColumns) {
  const Connection c = reset_leg();
  const std::string t = verdict_table(c, TextStyle{});
  EXPECT_LE(widest_line(t), 80u) << t;
  EXPECT_NE(t.find("chrome-legacy"), std::string::npos);
  EXPECT_NE(t.find("4321"), std::string::npos);
}

TEST(TextReport, ColourOnlyWhenAsked) {
  const Connection c = reset_leg();
  EXPECT_EQ(timeline(c, LegView{"leg 1", &c}, TextStyle{}).find("\x1b["), std::string::npos);
  TextStyle colour;
  colour.color = true;
  EXPECT_NE(timeline(c, LegView{"leg 1", &c}, colour).find("\x1b[1;31m"), std::string::npos);
}

}  // namespace
}  // namespace closewire::report
