// Diagnosis: one test per mechanism of docs/diagnosis.md §3, attribution along a chain, several
// mechanisms at once, the knobs of §4, and the real captures, whose browsers said what happened.
#include "harness/analysis/diagnosis.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/analysis/analyzer.h"
#include "tests/support/event_builder.h"

namespace closewire {
namespace {

using testing::ev;

using testing::ms;

const Side C = Side::client;
const Side S = Side::server;

const std::string kSource = CLOSEWIRE_SOURCE_DIR;

Connection leg(std::vector<Event> events, double observed_until_ms = 0) {
  return testing::websocket_leg(std::move(events), observed_until_ms);
}

// A chain by hand (chain.cpp's find_chains is not needed to test what follows from one).
Chain make_chain(std::vector<std::size_t> legs, std::vector<Hop> hops = {}) {
  Chain c;
  c.legs = std::move(legs);
  c.hops = std::move(hops);
  if (c.legs.size() > 1) c.linked_by = "key";
  return c;
}

Chain one_leg() {
  return make_chain({0});
}

Hop hop(std::optional<double> hold_ms, std::string closed_with = "fin", std::string product = {}) {
  Hop h;
  if (hold_ms) h.hold = ms(*hold_ms);
  h.closed_with = std::move(closed_with);
  h.product = std::move(product);
  if (!h.product.empty()) h.product_evidence = "server: " + h.product + " in its 101";
  return h;
}

std::vector<std::string> ids(const std::vector<Diagnosis>& ds) {
  std::vector<std::string> out;
  for (const Diagnosis& d : ds) out.push_back(d.mechanism);
  return out;
}

// "chrome-legacy 1006", "firefox 4321 not clean": affects in a form a failure message shows.
std::vector<std::string> affected(const Diagnosis& d) {
  std::vector<std::string> out;
  for (const auto& [p, v] : d.affects) {
    std::string s = std::string(to_string(p)) + " " + (v.code ? std::to_string(*v.code) : "open");
    if (v.code && *v.code != 1006) s += v.was_clean ? " clean" : " not clean";
    out.push_back(s);
  }
  return out;
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::vector<Diagnosis> diagnose_one(const Connection& c) {
  return diagnose({c}, one_leg());
}

// The seed's close: the server's Close at 40 ms, the client's reply at 41.4 ms.
std::vector<Event> handshake_4321() {
  return {ev(40, S, kind::close, 4321), ev(41.4, C, kind::close, 4321)};
}

std::vector<Event> plus(std::vector<Event> a, std::vector<Event> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(Diagnosis, MechanismIdsInCatalogueOrder) {
  const std::vector<std::string_view> want = {"clean",
                                              "close-timeout",
                                              "reset-before-reply",
                                              "reset-after-reply",
                                              "fin-before-reply",
                                              "no-close-frame",
                                              "frame-after-close",
                                              "protocol-error",
                                              "no-status-code",
                                              "stream-reset-before-reply",
                                              "stream-idle-timeout",
                                              "open"};
  EXPECT_EQ(mechanism_ids(), want);
}

// --- one test per mechanism -------------------------------------------------------------------

TEST(DiagnosisMechanism, Clean) {
  const auto ds =
      diagnose_one(leg(plus(handshake_4321(), {ev(42.4, S, kind::fin), ev(42.5, C, kind::fin)})));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"clean"});
  EXPECT_TRUE(ds[0].affects.empty());
  EXPECT_TRUE(ds[0].fix.empty());
  EXPECT_EQ(ds[0].origin, "server");
  EXPECT_TRUE(has(ds[0].summary, "Chrome, Firefox, Safari report 4321, clean")) << ds[0].summary;
}

TEST(DiagnosisMechanism, CloseTimeoutClientClosedFirst) {
  const auto ds = diagnose_one(
      leg(plus(handshake_4321(), {ev(2044.4, C, kind::fin), ev(2081.4, S, kind::fin)})));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"close-timeout"});
  EXPECT_EQ(affected(ds[0]), std::vector<std::string>{"chrome-legacy 1006"});
  EXPECT_EQ(ds[0].origin, "server");  // a chain of one: nobody else to blame
  EXPECT_TRUE(has(ds[0].summary,
                  "the client's reply went out at 41.4 ms; it closed TCP itself "
                  "2,003.0 ms later, before the server side's FIN (2,040.0 ms"))
      << ds[0].summary;
  EXPECT_TRUE(has(ds[0].summary,
                  "Chrome <= 105 reports 1006; Chrome 106+, Firefox, Safari report 4321, clean"))
      << ds[0].summary;
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "the server")) << ds[0].fix[0];
}

TEST(DiagnosisMechanism, CloseTimeoutWithoutTheClientsFin) {
  // No client FIN in the capture: a server-side FIN 2 s or more after the reply decides.
  const auto late = diagnose_one(leg(plus(handshake_4321(), {ev(2041.4, S, kind::fin)})));
  EXPECT_EQ(ids(late), std::vector<std::string>{"close-timeout"});
  EXPECT_TRUE(has(late[0].summary,
                  "the client's reply went out at 41.4 ms, the server side's FIN "
                  "came 2,000.0 ms later"))
      << late[0].summary;
  const auto in_time = diagnose_one(leg(plus(handshake_4321(), {ev(2040.4, S, kind::fin)})));
  EXPECT_EQ(ids(in_time), std::vector<std::string>{"clean"});
}

TEST(DiagnosisMechanism, CloseTimeoutBoundaryPacketOrderDecides) {
  // The client's FIN 1980 ms after its reply (within kClientTimeoutSlack of the mark) and before
  // the server side's: its own timer fired, whatever the nominal 2 s says.
  const auto fired = diagnose_one(
      leg(plus(handshake_4321(), {ev(2021.4, C, kind::fin), ev(2021.9, S, kind::fin)})));
  EXPECT_EQ(ids(fired), std::vector<std::string>{"close-timeout"});
  // Real 105 behind two 1 s hops: the server side's FIN 2001.7 ms after the reply, its own FIN
  // 0.5 ms later: the FIN came first, clean.
  const auto fin_first = diagnose_one(
      leg(plus(handshake_4321(), {ev(2043.1, S, kind::fin), ev(2043.6, C, kind::fin)})));
  EXPECT_EQ(ids(fin_first), std::vector<std::string>{"clean"});
  // A client FIN far from the mark is no timeout: the server's FIN still ends the wait in time.
  const auto early =
      diagnose_one(leg(plus(handshake_4321(), {ev(1041.4, C, kind::fin), ev(1500, S, kind::fin)})));
  EXPECT_EQ(ids(early), std::vector<std::string>{"clean"});
}

TEST(DiagnosisMechanism, ResetBeforeReply) {
  const auto ds = diagnose_one(leg({ev(40, S, kind::close, 4321), ev(40.1, S, kind::rst)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"reset-before-reply"});
  EXPECT_EQ(affected(ds[0]),
            (std::vector<std::string>{"chrome 1006", "chrome-legacy 1006", "firefox 4321 not clean",
                                      "rfc 4321 not clean"}));
  EXPECT_EQ(ds[0].origin, "server");
  EXPECT_TRUE(has(ds[0].summary, "RST came at 40.1 ms, 0.1 ms after its Close")) << ds[0].summary;
  EXPECT_TRUE(has(ds[0].summary,
                  "Chrome reports 1006; Firefox reports 4321, not clean; Safari "
                  "reports 4321, clean"))
      << ds[0].summary;
}

TEST(DiagnosisMechanism, ResetAfterReply) {
  const auto ds = diagnose_one(leg(plus(handshake_4321(), {ev(141.4, S, kind::rst)})));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"reset-after-reply"});
  EXPECT_EQ(affected(ds[0]),
            (std::vector<std::string>{"chrome 4321 not clean", "chrome-legacy 4321 not clean"}));
  EXPECT_TRUE(has(ds[0].summary,
                  "reply went out at 41.4 ms, the server side's RST came 100.0 ms "
                  "later"))
      << ds[0].summary;
}

TEST(DiagnosisMechanism, FinBeforeReplyThatNeverReachedTheWire) {
  const auto ds = diagnose_one(
      leg({ev(40, S, kind::close, 4321), ev(40.01, S, kind::fin), ev(40.5, C, kind::fin)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"fin-before-reply"});
  EXPECT_EQ(affected(ds[0]), std::vector<std::string>{"firefox 4321 not clean"});
  EXPECT_TRUE(has(ds[0].summary, "never reached the wire")) << ds[0].summary;
}

TEST(DiagnosisMechanism, FinBeforeReplyFollowsTheReplyNotTheWireOrder) {
  // The FIN reached the wire first, but the reply still went out: it was queued before Firefox
  // read the FIN, and then Firefox reports clean (close-semantics §3, 201 real runs).
  const auto ds = diagnose_one(leg({ev(40, S, kind::close, 4321), ev(40.01, S, kind::fin),
                                    ev(41.8, C, kind::close, 4321), ev(41.9, C, kind::fin)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"fin-before-reply"});
  EXPECT_TRUE(ds[0].affects.empty()) << ::testing::PrintToString(affected(ds[0]));
  EXPECT_TRUE(has(ds[0].summary, "Chrome, Firefox, Safari report 4321, clean")) << ds[0].summary;
}

TEST(DiagnosisMechanism, NoCloseFrame) {
  const auto ds = diagnose_one(leg({ev(60001, S, kind::fin), ev(60001.2, C, kind::fin)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"no-close-frame"});
  EXPECT_EQ(affected(ds[0]), (std::vector<std::string>{"chrome 1006", "chrome-legacy 1006",
                                                       "firefox 1006", "safari 1006", "rfc 1006"}));
  EXPECT_EQ(ds[0].origin, "server");
  EXPECT_TRUE(has(ds[0].summary, "FIN came at 60,001.0 ms with no Close frame")) << ds[0].summary;
}

TEST(DiagnosisMechanism, FrameAfterClose) {
  const auto ds = diagnose_one(leg({ev(40, S, kind::close, 4321), ev(40.1, S, kind::text),
                                    ev(41.4, C, kind::close, 4321), ev(42, S, kind::fin)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"frame-after-close"});
  EXPECT_EQ(affected(ds[0]),
            (std::vector<std::string>{"chrome 1006", "chrome-legacy 1006", "rfc 1006"}));
  EXPECT_TRUE(has(ds[0].summary, "sent ws.text at 40.1 ms, after its Close at 40.0 ms"))
      << ds[0].summary;
}

TEST(DiagnosisMechanism, ProtocolError) {
  const auto ds =
      diagnose_one(leg({ev(40, S, kind::close, 1006, std::string(close_note::invalid_code)),
                        ev(41.4, C, kind::close, 1002), ev(42, S, kind::fin)}));
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds[0].mechanism, "protocol-error");
  EXPECT_EQ(affected(ds[0]), (std::vector<std::string>{"chrome 1006", "chrome-legacy 1006",
                                                       "firefox 1006", "safari 1006", "rfc 1006"}));
  EXPECT_TRUE(has(ds[0].summary, "invalid close code")) << ds[0].summary;
}

TEST(DiagnosisMechanism, NoStatusCode) {
  Event close = ev(40, S, kind::close, 1005, std::string(close_note::no_status));
  close.reason.clear();
  const auto ds = diagnose_one(
      leg({close, ev(41.4, C, kind::close, 1005), ev(42, S, kind::fin), ev(42.1, C, kind::fin)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"no-status-code"});
  EXPECT_EQ(ds[0].affects.size(), kAllProfiles.size());  // everyone reports 1005
  for (const auto& [p, v] : ds[0].affects) EXPECT_EQ(v.code, 1005) << to_string(p);
  EXPECT_TRUE(has(ds[0].summary, "1005 is what everyone reports")) << ds[0].summary;
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "send a code")) << ds[0].fix[0];
}

TEST(DiagnosisMechanism, Open) {
  // The capture ends 500 ms in, before Chrome's 2 s close timeout could have fired.
  const auto ds = diagnose_one(leg(handshake_4321(), 500));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"open"});
  EXPECT_EQ(affected(ds[0]), (std::vector<std::string>{"chrome open", "chrome-legacy open"}));
  EXPECT_TRUE(has(ds[0].summary, "capture ends at 500.0 ms")) << ds[0].summary;
  EXPECT_TRUE(ds[0].fix.empty());
}

// --- attribution along a chain ------------------------------------------------------------------

// The seed: client → gateway (envoy) → sidecar (envoy) → server, 1 s delayed close per hop, the
// browser's own FIN at +2 s beating the gateway's. Legs share one clock: the client leg's SYN at 0.
struct SeedChain {
  std::vector<Connection> legs;
  Chain chain;
};

SeedChain seed_chain(std::string product) {
  Connection client_leg =
      leg(plus(handshake_4321(), {ev(2044.4, C, kind::fin), ev(2045.2, S, kind::fin)}));
  Connection gateway_leg = leg({ev(39, S, kind::close, 4321), ev(42.0, C, kind::close, 4321),
                                ev(1042.0, S, kind::fin), ev(2044.9, C, kind::fin)});
  Connection sidecar_leg = leg({ev(38, S, kind::close, 4321), ev(42.5, C, kind::close, 4321),
                                ev(43.2, S, kind::fin), ev(1042.1, C, kind::fin)});
  SeedChain s{{client_leg, gateway_leg, sidecar_leg}, make_chain({0, 1, 2})};
  s.chain.hops = {hop(1003.2, "fin", product), hop(1001.8, "fin", product)};
  s.chain.linked_by = "key";
  return s;
}

TEST(DiagnosisAttribution, SeedTwoHopsHoldingOneSecondEach) {
  const SeedChain s = seed_chain("envoy");
  const auto ds = diagnose(s.legs, s.chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"close-timeout"});
  EXPECT_EQ(ds[0].origin, "hop:0");
  EXPECT_EQ(affected(ds[0]), std::vector<std::string>{"chrome-legacy 1006"});
  EXPECT_TRUE(has(ds[0].summary,
                  "hop 0 held its FIN 1,003.2 ms after hop 1's, hop 1 1,001.8 ms after the "
                  "server's"))
      << ds[0].summary;
  EXPECT_TRUE(has(ds[0].summary, "the client's reply went out at 41.4 ms")) << ds[0].summary;
  // Both hops are Envoys: one text for both, Envoy's knob only.
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "hops 0, 1 (server: envoy in its 101)")) << ds[0].fix[0];
  EXPECT_TRUE(has(ds[0].fix[0], "delayed_close_timeout: 0s")) << ds[0].fix[0];
}

TEST(DiagnosisAttribution, OnlyTheHopThatHoldsIsTheOrigin) {
  SeedChain s = seed_chain("envoy");
  s.chain.hops[0].hold = ms(0.4);  // the gateway relays at once; the sidecar holds 2 s
  s.chain.hops[1].hold = ms(2001.8);
  const auto ds = diagnose(s.legs, s.chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"close-timeout"});
  EXPECT_EQ(ds[0].origin, "hop:1");
  EXPECT_TRUE(has(ds[0].summary, "hop 0 held its FIN 0.4 ms after hop 1's, hop 1 2,001.8 ms"))
      << ds[0].summary;
}

TEST(DiagnosisAttribution, NoHopHeldMeansTheServerNeverClosed) {
  SeedChain s = seed_chain("envoy");
  s.chain.hops[0].hold = ms(0.4);
  s.chain.hops[1].hold.reset();  // the server sent no FIN: nothing to hold
  const auto ds = diagnose(s.legs, s.chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"close-timeout"});
  EXPECT_EQ(ds[0].origin, "server");
  EXPECT_TRUE(has(ds[0].summary, "hop 1 has no hold in the capture")) << ds[0].summary;
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(ds[0].fix[0].starts_with("the server")) << ds[0].fix[0];
}

// Client → proxy → server; the proxy resets the client leg right behind the Close frame.
std::vector<Connection> reset_chain(std::string_view upstream_end) {
  return {leg({ev(40, S, kind::close, 4321), ev(40.1, S, kind::rst)}),
          leg({ev(39.9, S, kind::close, 4321), ev(39.95, S, upstream_end)})};
}

TEST(DiagnosisAttribution, ForwardedResetIsTheServers) {
  Chain chain = make_chain({0, 1}, {hop(0.15, "rst")});
  const auto ds = diagnose(reset_chain(kind::rst), chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"reset-before-reply"});
  EXPECT_EQ(ds[0].origin, "server");
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(ds[0].fix[0].starts_with("the server")) << ds[0].fix[0];
}

TEST(DiagnosisAttribution, ResetAnsweringAFinIsTheHops) {
  // Upstream closed gracefully, the proxy reset downstream: an abortive close it made itself.
  Chain chain = make_chain({0, 1}, {hop(0.15, "rst", "haproxy")});
  const auto ds = diagnose(reset_chain(kind::fin), chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"reset-before-reply"});
  EXPECT_EQ(ds[0].origin, "hop:0");
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "remove option nolinger")) << ds[0].fix[0];
}

TEST(DiagnosisAttribution, OriginatedResetIsTheHopsWhereverUpstreamIs) {
  Chain chain = make_chain({0, 1}, {hop(std::nullopt, "rst")});
  chain.hops[0].originated = {"rst"};
  const auto ds = diagnose(reset_chain(kind::rst), chain);
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds[0].origin, "hop:0");
}

TEST(DiagnosisAttribution, IdleTimeoutAtAProxy) {
  std::vector<Connection> legs = {leg({ev(60041, S, kind::fin), ev(60041.3, C, kind::fin)}),
                                  leg({ev(60041.1, C, kind::fin), ev(60041.4, S, kind::fin)})};
  Chain chain = make_chain({0, 1}, {hop(std::nullopt, "fin", "nginx/1.22.1")});
  chain.hops[0].originated = {"fin"};
  chain.hops[0].idle = ms(60000);
  const auto ds = diagnose(legs, chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"no-close-frame"});
  EXPECT_EQ(ds[0].origin, "hop:0");
  EXPECT_TRUE(has(ds[0].summary, "after 60,000.0 ms with no byte on either leg")) << ds[0].summary;
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "proxy_read_timeout")) << ds[0].fix[0];
}

TEST(DiagnosisAttribution, TimesCountFromTheChainsFirstSyn) {
  // Capture times are epoch-like; the summary still says 41.4 ms.
  Connection c = leg(plus(handshake_4321(), {ev(2044.4, C, kind::fin), ev(2081.4, S, kind::fin)}));
  const Nanos epoch = 1'790'000'000LL * kNanosPerSecond;
  c.start = epoch;
  for (Event& e : c.events) e.t += epoch;
  const auto ds = diagnose({c}, one_leg());
  ASSERT_FALSE(ds.empty());
  EXPECT_TRUE(has(ds[0].summary, "reply went out at 41.4 ms")) << ds[0].summary;
}

// --- several at once -----------------------------------------------------------------------------

TEST(DiagnosisSeveral, NoStatusCodeBehindCloseTimeout) {
  Event close = ev(40, S, kind::close, 1005, std::string(close_note::no_status));
  close.reason.clear();
  const auto ds = diagnose_one(leg(
      {close, ev(41.4, C, kind::close, 1005), ev(2044.4, C, kind::fin), ev(2081.4, S, kind::fin)}));
  ASSERT_EQ(ids(ds), (std::vector<std::string>{"close-timeout", "no-status-code"}));
  EXPECT_EQ(affected(ds[0]), std::vector<std::string>{"chrome-legacy 1006"});
  EXPECT_EQ(affected(ds[1]), (std::vector<std::string>{"chrome 1005 clean", "firefox 1005 clean",
                                                       "safari 1005 clean", "rfc 1005 clean"}));
  EXPECT_TRUE(has(ds[1].summary, "1005 is what Chrome 106+, Firefox, Safari report"))
      << ds[1].summary;
}

TEST(DiagnosisSeveral, FrameAfterCloseDecidesBeforeTheReset) {
  const auto ds = diagnose_one(leg({ev(40, S, kind::close, 4321), ev(40.1, S, kind::text),
                                    ev(41.4, C, kind::close, 4321), ev(50, S, kind::rst)}));
  ASSERT_EQ(ids(ds), (std::vector<std::string>{"frame-after-close", "reset-after-reply"}));
  // Chrome's 1006 is the frame's doing; the reset moves nobody else.
  EXPECT_EQ(affected(ds[0]),
            (std::vector<std::string>{"chrome 1006", "chrome-legacy 1006", "rfc 1006"}));
  EXPECT_TRUE(ds[1].affects.empty());
}

// --- knobs per product ---------------------------------------------------------------------------

// docs/diagnosis.md §4 without Markdown's backticks: every knob the code names is written there.
std::string doc_knobs() {
  std::ifstream in(kSource + "/docs/diagnosis.md");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.erase(std::remove(text.begin(), text.end(), '`'), text.end());
  return text;
}

// The doc's cell in a fix text: "hop 0 (server: envoy in its 101): CELL", "hop 0 (a proxy the
// packets do not name), if nginx: CELL", "hop 1: CELL" or the server's "the server: ...".
std::string knob_of(const std::string& fix) {
  if (fix.starts_with("the server")) return fix;
  if (const std::size_t if_ = fix.find("), if "); if_ != std::string::npos)
    return fix.substr(fix.find(": ", if_) + 2);
  if (const std::size_t named = fix.find("): "); named != std::string::npos)
    return fix.substr(named + 3);
  return fix.substr(fix.find(": ") + 2);
}

TEST(DiagnosisFix, KnownProductGetsItsOwnKnob) {
  Chain chain = make_chain({0, 1}, {hop(0.15, "rst", "envoy")});
  const auto envoy = diagnose(reset_chain(kind::fin), chain);
  ASSERT_EQ(envoy[0].fix.size(), 1u);
  EXPECT_TRUE(has(envoy[0].fix[0], "envoy_cluster_upstream_cx_destroy_*")) << envoy[0].fix[0];
  EXPECT_FALSE(has(envoy[0].fix[0], "nolinger")) << envoy[0].fix[0];
  EXPECT_TRUE(has(doc_knobs(), knob_of(envoy[0].fix[0]))) << envoy[0].fix[0];

  chain.hops[0].product = "nginx/1.22.1";
  const auto nginx = diagnose(reset_chain(kind::fin), chain);
  ASSERT_EQ(nginx[0].fix.size(), 1u);
  EXPECT_TRUE(has(nginx[0].fix[0], "reset_timedout_connection on")) << nginx[0].fix[0];
}

TEST(DiagnosisFix, UnknownProductGetsEveryProductsKnob) {
  Chain chain = make_chain({0, 1}, {hop(0.15, "rst")});
  const auto ds = diagnose(reset_chain(kind::fin), chain);
  ASSERT_EQ(ds[0].fix.size(), 3u);
  EXPECT_TRUE(has(ds[0].fix[0], "if Envoy/Istio: a reset or overload action")) << ds[0].fix[0];
  EXPECT_TRUE(has(ds[0].fix[1], "if nginx: reset_timedout_connection on")) << ds[0].fix[1];
  EXPECT_TRUE(has(ds[0].fix[2], "if HAProxy: remove option nolinger")) << ds[0].fix[2];
  const std::string doc = doc_knobs();
  for (const std::string& f : ds[0].fix) {
    EXPECT_TRUE(has(doc, knob_of(f))) << "not in docs/diagnosis.md §4: " << f;
  }
}

TEST(DiagnosisFix, ServerCausesGetTheServerFixAsTheDocSaysIt) {
  const auto ds = diagnose_one(leg({ev(40, S, kind::close, 4321), ev(40.01, S, kind::fin)}));
  ASSERT_EQ(ids(ds), std::vector<std::string>{"fin-before-reply"});
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "wait for the client's Close reply before FIN")) << ds[0].fix[0];
  EXPECT_TRUE(has(doc_knobs(), ds[0].fix[0])) << ds[0].fix[0];
}

TEST(DiagnosisFix, CloseTimeoutKnobsPerHopProduct) {
  SeedChain s = seed_chain("istio-envoy");
  s.chain.hops[1].product = "";  // the sidecar unnamed
  const auto ds = diagnose(s.legs, s.chain);
  ASSERT_FALSE(ds.empty());
  // hop 0 (Istio's Envoy) gets Envoy's knob; hop 1 only Envoy's too, since nginx and HAProxy have
  // none for a close hold ("—": they close at once).
  ASSERT_EQ(ds[0].fix.size(), 2u) << ::testing::PrintToString(ds[0].fix);
  EXPECT_TRUE(has(ds[0].fix[0], "hop 0 (server: istio-envoy in its 101): delayed_close_timeout"))
      << ds[0].fix[0];
  EXPECT_TRUE(has(ds[0].fix[1], "hop 1 (a proxy the packets do not name), if Envoy/Istio"))
      << ds[0].fix[1];
}

// --- h2 stream legs (close-semantics §6)
// ----------------------------------------------------------

Connection h2_leg(std::vector<Event> events) {
  Connection c = leg(std::move(events));
  c.h2_stream = 1;
  return c;
}

Event rst_stream(double t_ms) {
  Event e = ev(t_ms, S, kind::h2_rst_stream);
  e.text = "CANCEL";
  return e;
}

TEST(DiagnosisH2, AResetStreamBehindTheCloseIsStreamResetBeforeReply) {
  // HAProxy: Close, END_STREAM and RST_STREAM(CANCEL) in one record, ahead of the reply.
  const Connection c =
      h2_leg({ev(40, S, kind::close, 4321), ev(40, S, kind::h2_end_stream), rst_stream(40)});
  const auto ds = diagnose_one(c);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"stream-reset-before-reply"});
  EXPECT_EQ(ds[0].origin, "server");
  EXPECT_TRUE(has(ds[0].summary, "RST_STREAM (CANCEL)")) << ds[0].summary;
  const std::vector<std::string> want = {"chrome 1006", "chrome-legacy 1006", "firefox 1006",
                                         "rfc 4321 not clean"};
  EXPECT_EQ(affected(ds[0]), want);
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "wait for the client's Close reply before its FIN"))
      << ds[0].fix[0];
  EXPECT_TRUE(has(doc_knobs(), ds[0].fix[0])) << ds[0].fix[0];
  // The same packets on an HTTP/1.1 leg are the TCP mechanism, not the stream's.
  EXPECT_NE(ids(diagnose_one(leg(c.events))).at(0), "stream-reset-before-reply");
}

TEST(DiagnosisH2, TheReplyAheadOfTheResetIsClean) {
  const Connection c = h2_leg({ev(40, S, kind::close, 4321), ev(40.5, C, kind::close, 4321),
                               ev(41, S, kind::h2_end_stream), rst_stream(41)});
  EXPECT_EQ(ids(diagnose_one(c)), std::vector<std::string>{"clean"});
}

TEST(DiagnosisH2, EndAndResetWithoutACloseIsStreamIdleTimeout) {
  std::vector<Connection> legs = {
      h2_leg({ev(1040, S, kind::h2_end_stream), rst_stream(1040)}),
      leg({ev(1040.2, C, kind::rst)}),
  };
  Chain chain = make_chain({0, 1}, {hop(std::nullopt, "fin+rst", "haproxy")});
  chain.hops[0].originated = {"fin", "rst"};
  chain.hops[0].idle = ms(1000);
  const auto ds = diagnose(legs, chain);
  ASSERT_EQ(ids(ds), std::vector<std::string>{"stream-idle-timeout"});
  EXPECT_EQ(ds[0].origin, "hop:0");
  EXPECT_TRUE(has(ds[0].summary, "ended the stream with END_STREAM")) << ds[0].summary;
  ASSERT_EQ(ds[0].fix.size(), 1u);
  EXPECT_TRUE(has(ds[0].fix[0], "timeout tunnel")) << ds[0].fix[0];
  EXPECT_TRUE(has(doc_knobs(), knob_of(ds[0].fix[0]))) << ds[0].fix[0];
}

// Every fix text the code gives, for every product and for the server, is in docs/diagnosis.md
// §4: the doc and the code say the same.
TEST(DiagnosisFix, EveryTextIsInTheDoc) {
  const std::string doc = doc_knobs();
  const auto check = [&doc](const std::vector<Diagnosis>& ds) {
    for (const Diagnosis& d : ds) {
      for (const std::string& f : d.fix) {
        if (has(f, " knob known for ")) continue;  // a product with "—" in its cell
        EXPECT_TRUE(has(doc, knob_of(f))) << d.mechanism << ": not in docs/diagnosis.md: " << f;
      }
    }
  };
  for (const std::string product : {"envoy", "nginx/1.22.1", "haproxy", ""}) {
    SCOPED_TRACE("product '" + product + "'");
    check(diagnose(reset_chain(kind::fin), make_chain({0, 1}, {hop(0.1, "rst", product)})));
    SeedChain s = seed_chain(product);
    check(diagnose(s.legs, s.chain));
    std::vector<Connection> idle = {leg({ev(60041, S, kind::fin), ev(60041.3, C, kind::fin)}),
                                    leg({ev(60041.1, C, kind::fin), ev(60041.4, S, kind::fin)})};
    Chain chain = make_chain({0, 1}, {hop(std::nullopt, "fin", product)});
    chain.hops[0].originated = {"fin"};
    check(diagnose(idle, chain));
    std::vector<Connection> unread = {leg(plus(handshake_4321(), {ev(141.4, S, kind::rst)})),
                                      leg({ev(39, S, kind::close, 4321), ev(40, S, kind::fin)})};
    check(diagnose(unread, make_chain({0, 1}, {hop(101, "rst", product)})));
  }
  // Server-side causes, one chain of one each.
  Event no_code = ev(40, S, kind::close, 1005, std::string(close_note::no_status));
  for (const Connection& c :
       {leg({ev(40, S, kind::close, 4321), ev(40.1, S, kind::rst)}),
        leg(plus(handshake_4321(), {ev(141.4, S, kind::rst)})),
        leg(plus(handshake_4321(), {ev(2044.4, C, kind::fin)})),
        leg({ev(40, S, kind::close, 4321), ev(40.01, S, kind::fin)}),
        leg({ev(60001, S, kind::fin)}),
        leg({ev(40, S, kind::close, 4321), ev(40.1, S, kind::text), ev(42, S, kind::fin)}),
        leg({ev(40, S, kind::close, 1006, std::string(close_note::invalid_code)),
             ev(42, S, kind::fin)}),
        leg({no_code, ev(41.4, C, kind::close, 1005), ev(42, S, kind::fin)})}) {
    const auto ds = diagnose_one(c);
    ASSERT_FALSE(ds.empty());
    ASSERT_FALSE(ds[0].fix.empty()) << ds[0].mechanism;
    check(ds);
  }
}

// --- the real captures: what the browser reported, explained by the first mechanism ------------

struct Reported {
  int code = 0;
  bool clean = false;
};

// What the first mechanism says the browser reported (Chrome; `legacy`: a build <= 105).
std::optional<Reported> explained(const std::string& mechanism, int server_code, bool legacy) {
  if (mechanism == "reset-before-reply" || mechanism == "no-close-frame") return Reported{1006};
  if (mechanism == "close-timeout") return legacy ? Reported{1006} : Reported{server_code, true};
  if (mechanism == "reset-after-reply") return Reported{server_code, false};
  if (mechanism == "clean" || mechanism == "fin-before-reply") return Reported{server_code, true};
  return std::nullopt;
}

std::vector<Connection> read_legs(const std::string& path) {
  std::vector<Connection> legs;
  analyze_capture(path, [&legs](Connection&& c) { legs.push_back(std::move(c)); });
  return legs;
}

// The browser's legs: WebSocket legs to the port it connected to, in SYN order.
std::vector<std::size_t> browser_legs(const std::vector<Connection>& legs, int port) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    if (legs[i].websocket && legs[i].server.port == port) out.push_back(i);
  }
  return out;
}

struct RealRun {
  std::string capture;  // relative to captures/
  int port;             // the browser leg's server port
  bool legacy;          // Chromium <= 105
  Reported reported;
};

// captures/chromium-156: outcomes.json says, run by run, what Chromium 156 reported.
std::vector<RealRun> chromium_156_runs() {
  std::ifstream in(kSource + "/captures/chromium-156/outcomes.json");
  const nlohmann::json outcomes = nlohmann::json::parse(in);
  std::vector<RealRun> runs;
  for (const auto& [file, c] : outcomes.at("captures").items()) {
    for (const auto& r : c.at("runs")) {
      runs.push_back({"chromium-156/" + file,
                      c.at("browser_connects_to_port").get<int>(),
                      false,
                      {r.at("code").get<int>(), r.at("was_clean").get<bool>()}});
    }
  }
  return runs;
}

// captures/legacy and captures/real: their README tables and expect files say what the browser
// reported (one run each; the port is the browser leg's in NAME.expect.yaml).
std::vector<RealRun> named_runs() {
  return {
      {"legacy/chromium-105-seed-bug.pcap", 40525, true, {1006, false}},
      {"legacy/chromium-105-seed-fix.pcap", 38455, true, {4321, true}},
      {"real/chromium-seed-bug.pcap", 32867, false, {4321, true}},
      {"real/chromium-seed-fix.pcap", 39897, false, {4321, true}},
      {"real/chromium-nginx-close-then-fin.pcap", 15565, false, {4321, true}},
      {"real/chromium-haproxy-nolinger-close-then-fin.pcap", 22978, false, {1006, false}},
  };
}

TEST(DiagnosisRealCaptures, FirstMechanismExplainsWhatTheBrowserReported) {
  std::vector<RealRun> runs = chromium_156_runs();
  const std::vector<RealRun> named = named_runs();
  runs.insert(runs.end(), named.begin(), named.end());
  ASSERT_GT(runs.size(), 50u);

  // Runs of one capture are its browser legs in SYN order.
  std::string current;
  std::vector<Connection> legs;
  std::vector<std::size_t> browser;
  std::size_t nth = 0;
  std::ostringstream table;
  for (const RealRun& run : runs) {
    if (run.capture != current) {
      current = run.capture;
      legs = read_legs(kSource + "/captures/" + run.capture);
      browser = browser_legs(legs, run.port);
      nth = 0;
    }
    SCOPED_TRACE(run.capture + " run " + std::to_string(nth + 1));
    ASSERT_LT(nth, browser.size()) << "fewer browser legs than runs";
    const Chain chain = make_chain({browser[nth++]});
    const auto ds = diagnose(legs, chain);
    ASSERT_FALSE(ds.empty());
    const auto want = explained(ds[0].mechanism, 4321, run.legacy);
    ASSERT_TRUE(want.has_value()) << "unexpected first mechanism " << ds[0].mechanism;
    EXPECT_EQ(want->code, run.reported.code) << ds[0].mechanism << ": " << ds[0].summary;
    if (run.reported.code != 1006) {
      EXPECT_EQ(want->clean, run.reported.clean) << ds[0].mechanism << ": " << ds[0].summary;
    }
    table << "  " << run.capture << " #" << nth << ": " << run.reported.code
          << (run.reported.code == 1006 ? ""
              : run.reported.clean      ? " clean"
                                        : " not clean")
          << " -> " << ids(ds)[0] << (ds.size() > 1 ? " (+" + ids(ds)[1] + ")" : "") << "\n";
  }
  std::cout << "capture -> first mechanism:\n" << table.str();
}

}  // namespace
}  // namespace closewire
