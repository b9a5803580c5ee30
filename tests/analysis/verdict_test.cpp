// Verdict rules, table-driven per profile and per case of docs/close-semantics.md §3.
#include "harness/analysis/verdict.h"

#include <gtest/gtest.h>

#include "tests/support/event_builder.h"

#include <optional>
#include <string>
#include <vector>

namespace closewire {
namespace {

using testing::ms;

using testing::ev;

const Side C = Side::client;
const Side S = Side::server;

Connection leg(std::vector<Event> events, double observed_until_ms = 0) {
  return testing::websocket_leg(std::move(events), observed_until_ms);
}

struct Expected {
  std::optional<std::uint16_t> code;
  bool clean;
};

struct Case {
  const char* name;
  Connection leg;
  Expected chrome, chrome_legacy, firefox, safari, rfc;
};

constexpr Expected clean4321{4321, true};
constexpr Expected unclean4321{4321, false};
constexpr Expected abnormal{1006, false};

std::vector<Case> cases() {
  return {
      {"FinAfterReplyWithin2s",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(11, S, kind::fin),
            ev(11.1, C, kind::fin)}),
       clean4321, clean4321, clean4321, clean4321, clean4321},
      {"NoFinWithin2sClientTimesOut",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(2013.2, C, kind::fin),
            ev(2250, S, kind::fin)}),
       clean4321, abnormal, clean4321, clean4321, clean4321},
      {"ServerFinLateAndNoClientFinStillTimesOut",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(3010, S, kind::fin)}),
       clean4321, abnormal, clean4321, clean4321, clean4321},
      {"RstAfterReplyWritten",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(110, S, kind::rst)}),
       unclean4321, unclean4321, clean4321, clean4321, clean4321},
      {"RstBeforeReplyWriteFails", leg({ev(10, S, kind::close, 4321), ev(10.1, S, kind::rst)}),
       abnormal, abnormal, unclean4321, clean4321, unclean4321},
      // A reply on the wire was queued before the FIN was read: Firefox clean (real ESR 153: FIN
      // 1.8 ms before its reply, clean).
      {"FinRightBehindCloseBeforeAReplyThatStillGoesOut",
       leg({ev(10, S, kind::close, 4321), ev(10.01, S, kind::fin), ev(11.8, C, kind::close, 4321),
            ev(11.9, C, kind::fin)}),
       clean4321, clean4321, clean4321, clean4321, clean4321},
      // Firefox read the FIN before queueing its reply: no reply at all, not clean.
      {"FinReadBeforeTheReplyNoReplyFollows",
       leg({ev(10, S, kind::close, 4321), ev(10.01, S, kind::fin), ev(10.4, C, kind::fin)}),
       clean4321, clean4321, unclean4321, clean4321, clean4321},
      // The close-timeout boundary, decided by packet order when the client's end is captured:
      // the server side's FIN 2001.7 ms after the reply, the client's own 0.5 ms later (real 105
      // reported 4321, clean) ...
      {"BoundaryServerFinFirstIsInTime",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(2011.9, S, kind::fin),
            ev(2012.4, C, kind::fin)}),
       clean4321, clean4321, clean4321, clean4321, clean4321},
      // ... the client's FIN 2000.8 ms after its reply and the server's 0.3 ms later: timed out.
      {"BoundaryClientFinFirstTimesOut",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(2011.0, C, kind::fin),
            ev(2011.3, S, kind::fin)}),
       clean4321, abnormal, clean4321, clean4321, clean4321},
      // Without the client's end in the capture the fixed 2 s decides, both ways.
      {"BoundaryNoClientEndFinAfter2s",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321),
            ev(2010.5, S, kind::fin)}),
       clean4321, abnormal, clean4321, clean4321, clean4321},
      {"BoundaryNoClientEndFinBefore2s",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321),
            ev(2009.9, S, kind::fin)}),
       clean4321, clean4321, clean4321, clean4321, clean4321},
      {"FinJustPastTheMarkBeforeOwnFinIsInTime",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(2011.9, S, kind::fin),
            ev(2012.4, C, kind::fin)}),
       clean4321, clean4321, clean4321, clean4321, clean4321},
      {"RstAfterOwnTimeoutDoesNotMatter",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(2013.3, C, kind::fin),
            ev(3010, S, kind::rst)}),
       clean4321, abnormal, clean4321, clean4321, clean4321},
      {"FrameAfterClose",
       leg({ev(10, S, kind::close, 4321), ev(10.1, S, kind::text), ev(10.2, C, kind::close, 4321),
            ev(11, S, kind::fin)}),
       abnormal, abnormal, clean4321, clean4321, abnormal},
      {"TcpFinWithoutCloseFrame", leg({ev(10, S, kind::fin), ev(10.2, C, kind::fin)}), abnormal,
       abnormal, abnormal, abnormal, abnormal},
      {"ClientInitiatedClose",
       leg({ev(10, C, kind::close, 1000), ev(10.3, S, kind::close, 4321), ev(10.5, S, kind::fin)}),
       clean4321, clean4321, clean4321, clean4321, clean4321},
      {"InvalidCloseCode",
       leg({ev(10, S, kind::close, 1006, std::string(close_note::invalid_code)),
            ev(10.2, C, kind::close, 1002), ev(11, S, kind::fin)}),
       abnormal, abnormal, abnormal, abnormal, abnormal},
      {"MalformedClosePayload",
       leg({ev(10, S, kind::close, std::nullopt, std::string(close_note::malformed)),
            ev(11, S, kind::fin)}),
       abnormal, abnormal, abnormal, abnormal, abnormal},
  };
}

class VerdictRules : public ::testing::TestWithParam<Case> {};

void expect_verdict(const Connection& c, Profile p, Expected want) {
  const Verdict v = judge(c, p);
  SCOPED_TRACE(std::string(to_string(p)) + ": " + v.why);
  EXPECT_TRUE(v.closed);
  EXPECT_EQ(v.code, want.code);
  EXPECT_EQ(v.was_clean, want.clean);
}

TEST_P(VerdictRules, EachProfile) {
  const Case& c = GetParam();
  expect_verdict(c.leg, Profile::chrome, c.chrome);
  expect_verdict(c.leg, Profile::chrome_legacy, c.chrome_legacy);
  expect_verdict(c.leg, Profile::firefox, c.firefox);
  expect_verdict(c.leg, Profile::safari, c.safari);
  expect_verdict(c.leg, Profile::rfc, c.rfc);
}

INSTANTIATE_TEST_SUITE_P(CloseSemantics, VerdictRules, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// Error events as real browsers fired them: Chromium 156 and 105 only on a protocol failure (here a
// frame after the Close), not on an RST before the reply, a FIN without a Close or the close
// timeout; Firefox on an RST read before its reply. Unknown for Safari and RFC clients.
TEST(Verdict, ErrorEventsWhereRealBrowsersFiredThem) {
  struct Row {
    const char* name;
    Connection leg;
    bool chrome, legacy, firefox;
  };
  const std::vector<Row> rows = {
      {"RstBeforeReply", leg({ev(10, S, kind::close, 4321), ev(10.1, S, kind::rst)}), false, false,
       true},
      {"FrameAfterClose",
       leg({ev(10, S, kind::close, 4321), ev(10.1, S, kind::text), ev(10.2, C, kind::close, 4321),
            ev(11, S, kind::fin)}),
       true, true, false},
      {"FinWithoutClose", leg({ev(10, S, kind::fin), ev(10.2, C, kind::fin)}), false, false, false},
      {"RstWithoutClose", leg({ev(10, S, kind::rst)}), false, false, true},
      {"CloseTimeout",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321),
            ev(2013.2, C, kind::fin)}),
       false, false, false},
      {"FinBeforeReplyNoReply",
       leg({ev(10, S, kind::close, 4321), ev(10.01, S, kind::fin), ev(10.4, C, kind::fin)}), false,
       false, false},
      {"RstAfterReply",
       leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(110, S, kind::rst)}),
       false, false, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(judge(r.leg, Profile::chrome).error_event, r.chrome);
    EXPECT_EQ(judge(r.leg, Profile::chrome_legacy).error_event, r.legacy);
    EXPECT_EQ(judge(r.leg, Profile::firefox).error_event, r.firefox);
    EXPECT_EQ(judge(r.leg, Profile::safari).error_event, std::nullopt);
    EXPECT_EQ(judge(r.leg, Profile::rfc).error_event, std::nullopt);
  }
  // An open leg has no close event, so no error event either.
  EXPECT_EQ(judge(leg({ev(10, S, kind::close, 4321)}), Profile::firefox).error_event, std::nullopt);
}

TEST(Verdict, ReasonComesFromTheServersClose) {
  const Verdict v = judge(
      leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(11, S, kind::fin)}),
      Profile::chrome);
  EXPECT_EQ(v.reason, "test");
}

// simple-websocket#42: bytes that are no frame behind the server's Close fail Chrome (it still
// reads in CLOSE_WAIT), as a frame there does; a frame cut off by the FIN does not.
TEST(Verdict, BytesThatAreNoFrameAfterTheCloseFailChrome) {
  Event bad = ev(10.1, S, kind::protocol_error);
  bad.note = "RSV bits set without extension";
  const Connection broken = leg(
      {ev(10, S, kind::close, 4321), bad, ev(10.2, C, kind::close, 4321), ev(1010, S, kind::fin)});
  const Verdict chrome = judge(broken, Profile::chrome);
  EXPECT_EQ(chrome.code, 1006);
  EXPECT_FALSE(chrome.was_clean);
  EXPECT_EQ(chrome.error_event, true);
  EXPECT_EQ(judge(broken, Profile::firefox).code, 4321);
  EXPECT_TRUE(judge(broken, Profile::firefox).was_clean);

  Event cut = ev(1010, S, kind::protocol_error);
  cut.note = "frame cut off by the FIN";
  const Connection ended = leg(
      {ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321), ev(1010, S, kind::fin), cut});
  EXPECT_EQ(judge(ended, Profile::chrome).code, 4321);
}

TEST(Verdict, NoStatusCloseReports1005Clean) {
  Event close = ev(10, S, kind::close, 1005, std::string(close_note::no_status));
  close.reason.clear();
  const Connection c = leg({close, ev(10.2, C, kind::close, 1005), ev(11, S, kind::fin)});
  for (Profile p : kAllProfiles) {
    const Verdict v = judge(c, p);
    EXPECT_EQ(v.code, 1005) << to_string(p);
    EXPECT_TRUE(v.was_clean) << to_string(p);
  }
}

TEST(Verdict, OpenLegIsNotClosed) {
  const Verdict v = judge(leg({}), Profile::chrome);
  EXPECT_FALSE(v.closed);
  EXPECT_FALSE(v.code.has_value());
}

TEST(Verdict, CaptureEndingBeforeChromeTimeoutLeavesChromeUndecided) {
  const Connection c = leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321)}, 500);
  EXPECT_FALSE(judge(c, Profile::chrome).closed);
  EXPECT_FALSE(judge(c, Profile::chrome_legacy).closed);
  EXPECT_TRUE(judge(c, Profile::firefox).was_clean);
}

TEST(Verdict, CaptureCoveringChromeTimeoutDecidesIt) {
  const Connection c = leg({ev(10, S, kind::close, 4321), ev(10.2, C, kind::close, 4321)}, 2500);
  EXPECT_EQ(judge(c, Profile::chrome_legacy).code, 1006);
  EXPECT_TRUE(judge(c, Profile::chrome).was_clean);
}

TEST(Verdict, ProfileNamesRoundTrip) {
  for (Profile p : kAllProfiles) EXPECT_EQ(profile_from_string(to_string(p)), p);
  EXPECT_FALSE(profile_from_string("opera").has_value());
}

}  // namespace
}  // namespace closewire
