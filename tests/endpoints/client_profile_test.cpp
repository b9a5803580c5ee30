// The docs/close-semantics.md §3 table, row by row, on synthetic client logs.
#include "harness/endpoints/client_profile.h"

#include <gtest/gtest.h>

#include "harness/wire/frame.h"

namespace closewire::endpoints {
namespace {

using K = ObservationKind;
constexpr auto kClose = static_cast<std::uint8_t>(wire::Opcode::close);

Observation obs(K kind, std::string note = {}) {
  Observation o;
  o.at = Clock::now();
  o.kind = kind;
  o.note = std::move(note);
  return o;
}
Observation received_close(std::uint16_t code = 4321, std::string reason = "test") {
  Observation o = obs(K::frame_received);
  o.opcode = kClose;
  o.code = code;
  o.reason = std::move(reason);
  return o;
}
Observation sent_close() {
  Observation o = obs(K::frame_sent);
  o.opcode = kClose;
  o.code = 4321;
  return o;
}

struct Expected {
  std::uint16_t code;
  bool clean;
};

void expect_outcome(Profile p, const std::vector<Observation>& log, Expected e) {
  auto out = judge_outcome(p, log);
  ASSERT_TRUE(out.has_value()) << to_string(p);
  EXPECT_EQ(out->code, e.code) << to_string(p) << ": " << out->why;
  EXPECT_EQ(out->was_clean, e.clean) << to_string(p) << ": " << out->why;
}

TEST(Profile, NamesRoundTrip) {
  for (auto p :
       {Profile::chrome, Profile::chrome_legacy, Profile::firefox, Profile::safari, Profile::rfc})
    EXPECT_EQ(profile_from_string(to_string(p)), p);
  EXPECT_EQ(to_string(Profile::chrome_legacy), "chrome-legacy");
  EXPECT_FALSE(profile_from_string("opera"));
}

TEST(Profile, OnlyChromiumClosesTlsWithoutCloseNotify) {
  EXPECT_FALSE(sends_close_notify(Profile::chrome));
  EXPECT_FALSE(sends_close_notify(Profile::chrome_legacy));
  EXPECT_TRUE(sends_close_notify(Profile::firefox));
  EXPECT_TRUE(sends_close_notify(Profile::safari));
  EXPECT_TRUE(sends_close_notify(Profile::rfc));
}

TEST(Profile, CloseTimeouts) {
  EXPECT_EQ(default_close_timeout(Profile::chrome), std::chrono::milliseconds(2000));
  EXPECT_EQ(default_close_timeout(Profile::chrome_legacy), std::chrono::milliseconds(2000));
  EXPECT_EQ(default_close_timeout(Profile::firefox), std::chrono::milliseconds(1000));
  EXPECT_FALSE(default_close_timeout(Profile::safari));
  EXPECT_FALSE(default_close_timeout(Profile::rfc));
}

TEST(Profile, FinAfterReplyIsCleanEverywhere) {
  std::vector<Observation> log = {received_close(), sent_close(), obs(K::eof), obs(K::closed)};
  for (auto p :
       {Profile::chrome, Profile::chrome_legacy, Profile::firefox, Profile::safari, Profile::rfc})
    expect_outcome(p, log, {4321, true});
}

TEST(Profile, OwnTimeoutIs1006OnlyForLegacyChrome) {
  std::vector<Observation> log = {received_close(), sent_close(), obs(K::timeout), obs(K::closed)};
  expect_outcome(Profile::chrome, log, {4321, true});
  expect_outcome(Profile::chrome_legacy, log, {1006, false});
  expect_outcome(Profile::firefox, log, {4321, true});
  expect_outcome(Profile::safari, log, {4321, true});
  expect_outcome(Profile::rfc, log, {4321, true});
}

TEST(Profile, RstAfterReplyWritten) {
  std::vector<Observation> log = {received_close(), sent_close(), obs(K::read_error),
                                  obs(K::closed)};
  expect_outcome(Profile::chrome, log, {4321, false});
  expect_outcome(Profile::chrome_legacy, log, {4321, false});
  expect_outcome(Profile::firefox, log, {4321, true});
  expect_outcome(Profile::safari, log, {4321, true});
  expect_outcome(Profile::rfc, log, {4321, true});
}

TEST(Profile, RstBeforeReplyMakesTheWriteFail) {
  std::vector<Observation> log = {received_close(), obs(K::peer_gone_before_reply, "rst"),
                                  obs(K::write_failed), obs(K::closed)};
  expect_outcome(Profile::chrome, log, {1006, false});
  expect_outcome(Profile::chrome_legacy, log, {1006, false});
  expect_outcome(Profile::firefox, log, {4321, false});
  expect_outcome(Profile::safari, log, {4321, true});
  expect_outcome(Profile::rfc, log, {4321, false});
}

TEST(Profile, FinRightBehindTheCloseFrame) {
  std::vector<Observation> log = {received_close(), obs(K::peer_gone_before_reply, "fin"),
                                  sent_close(), obs(K::eof), obs(K::closed)};
  expect_outcome(Profile::chrome, log, {4321, true});
  expect_outcome(Profile::chrome_legacy, log, {4321, true});
  expect_outcome(Profile::firefox, log, {4321, false});
  expect_outcome(Profile::safari, log, {4321, true});
  expect_outcome(Profile::rfc, log, {4321, true});
}

TEST(Profile, FrameAfterCloseFailsChrome) {
  Observation text = obs(K::frame_received);
  text.opcode = static_cast<std::uint8_t>(wire::Opcode::text);
  std::vector<Observation> log = {received_close(), text, sent_close(), obs(K::eof),
                                  obs(K::closed)};
  expect_outcome(Profile::chrome, log, {1006, false});
}

TEST(Profile, NoCloseFrameIs1006) {
  std::vector<Observation> log = {obs(K::eof), obs(K::closed)};
  for (auto p : {Profile::chrome, Profile::firefox, Profile::safari, Profile::rfc})
    expect_outcome(p, log, {1006, false});
}

TEST(Profile, EmptyClosePayloadReports1005) {
  std::vector<Observation> log = {received_close(1005, ""), sent_close(), obs(K::eof),
                                  obs(K::closed)};
  expect_outcome(Profile::chrome, log, {1005, true});
}

TEST(Profile, NoOutcomeWhileChromeWaits) {
  std::vector<Observation> log = {received_close(), sent_close()};
  EXPECT_FALSE(judge_outcome(Profile::chrome, log).has_value());
  EXPECT_FALSE(judge_outcome(Profile::chrome, {}).has_value());
}

// What probe and run compare: a disagreement in code, cleanliness or having closed at all counts.
TEST(Profile, AgreesOnlyWithTheSameCloseEvent) {
  const ClientOutcome clean{4321, "test", true, "FIN after reply", std::nullopt};
  Verdict v;
  v.code = 4321;
  v.reason = "test";
  v.was_clean = true;
  EXPECT_TRUE(agrees(clean, v));
  v.reason = "other";  // the reason is not part of the agreement
  EXPECT_TRUE(agrees(clean, v));

  Verdict dirty = v;
  dirty.code = 1006;
  dirty.was_clean = false;
  EXPECT_FALSE(agrees(clean, dirty));
  Verdict unclean_same_code = v;
  unclean_same_code.was_clean = false;
  EXPECT_FALSE(agrees(clean, unclean_same_code));
  Verdict open = v;
  open.closed = false;
  EXPECT_FALSE(agrees(clean, open));
  EXPECT_FALSE(agrees(std::nullopt, v));
}

// ---- over h2 (close-semantics.md §6): eof is END_STREAM, read_error RST_STREAM -------------

void expect_h2(Profile p, const std::vector<Observation>& log, Expected e) {
  auto out = judge_outcome(p, log, /*over_h2=*/true);
  ASSERT_TRUE(out.has_value()) << to_string(p);
  EXPECT_EQ(out->code, e.code) << to_string(p) << ": " << out->why;
  EXPECT_EQ(out->was_clean, e.clean) << to_string(p) << ": " << out->why;
}

TEST(ProfileH2, ResetBeforeTheReplyIs1006ForBothBrowsers) {
  const std::vector<Observation> log = {received_close(),
                                        obs(K::peer_gone_before_reply, "rst"),
                                        obs(K::write_failed, "RST_STREAM(CANCEL) received"),
                                        obs(K::eof, "END_STREAM"),
                                        obs(K::read_error, "RST_STREAM(CANCEL)"),
                                        obs(K::closed)};
  expect_h2(Profile::chrome, log, {1006, false});
  expect_h2(Profile::firefox, log, {1006, false});
  // Over TCP the same log is Firefox's 4321, not clean.
  expect_outcome(Profile::firefox, log, {4321, false});
}

TEST(ProfileH2, ResetAfterTheReplyChangesNothing) {
  const std::vector<Observation> log = {received_close(), sent_close(),
                                        obs(K::read_error, "RST_STREAM(CANCEL)"), obs(K::closed)};
  expect_h2(Profile::chrome, log, {4321, true});
  expect_h2(Profile::firefox, log, {4321, true});
}

TEST(ProfileH2, CloseWithEndStreamIsCleanUnlessAResetFollows) {
  // Chromium: no reply, RST_STREAM(CANCEL) at the END_STREAM.
  std::vector<Observation> log = {received_close(), obs(K::eof, "END_STREAM"), obs(K::closed)};
  expect_h2(Profile::chrome, log, {4321, true});
  log.push_back(obs(K::read_error, "RST_STREAM(CANCEL) after the stream closed"));
  expect_h2(Profile::chrome, log, {1006, false});
  // Firefox replied with the END_STREAM already there: HAProxy's reset behind it left first.
  std::vector<Observation> firefox = {received_close(), obs(K::peer_gone_before_reply, "fin"),
                                      obs(K::eof, "END_STREAM"), sent_close(), obs(K::closed)};
  expect_h2(Profile::firefox, firefox, {4321, true});
  firefox.push_back(obs(K::read_error, "RST_STREAM(CANCEL) after the stream closed"));
  expect_h2(Profile::firefox, firefox, {1006, false});
}

TEST(ProfileH2, TheConnectionsOwnEventsSayNothing) {
  Observation crossed = obs(K::read_error, "RST_STREAM(CANCEL) on stream 1 after our RST_STREAM");
  crossed.side = "connection";
  Observation tcp_closed = obs(K::closed);
  tcp_closed.side = "connection";
  expect_h2(Profile::chrome,
            {received_close(), obs(K::eof, "END_STREAM"), obs(K::closed), crossed, tcp_closed},
            {4321, true});
  // Idle timeout: END_STREAM + RST_STREAM, no Close.
  expect_h2(Profile::chrome,
            {obs(K::eof, "END_STREAM"), obs(K::read_error, "RST_STREAM(CANCEL)"), obs(K::closed)},
            {1006, false});
  // The stream alone is open while only the connection closed.
  EXPECT_FALSE(judge_outcome(Profile::chrome, {received_close(), tcp_closed}, true));
}

}  // namespace
}  // namespace closewire::endpoints
