#include "harness/expect/evaluate.h"

#include <gtest/gtest.h>

#include "tests/support/event_builder.h"

namespace closewire {
namespace {

using testing::ev;

// The seed bug on the client's leg: the gateway's FIN comes ~2 s after the client's reply.
Connection seed_bug_leg() {
  Connection c;
  c.websocket = true;
  c.server.port = 9800;
  c.events = {ev(0, Side::client, kind::syn),         ev(0.1, Side::server, kind::syn),
              ev(1, Side::client, kind::upgrade),     ev(2, Side::server, kind::upgrade),
              ev(3, Side::server, kind::close, 4321), ev(3.2, Side::client, kind::close, 4321),
              ev(2003.5, Side::client, kind::fin),    ev(2004, Side::server, kind::fin)};
  return c;
}

struct Fixture : ::testing::Test {
  Connection leg = seed_bug_leg();
  EvalContext ctx;
  void SetUp() override {
    ctx.legs = {LegView{"client-gateway", &leg, "client", "gateway"}};
    ctx.default_legs = {0};
  }
  std::vector<Outcome> run(const std::string& yaml) {
    xs = parse_expectations(YAML::Load(yaml), "t.yaml");
    return evaluate(xs, ctx);
  }
  std::vector<Expectation> xs;
};

TEST_F(Fixture, OrderHoldsAsASubsequence) {
  auto r = run(
      R"(- order: [ "gateway ws.close 4321", "client ws.close", "client tcp.fin", "gateway tcp.fin" ])");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed) << r[0].found;
}

TEST_F(Fixture, WildcardKindsAndReasonsAreEvaluated) {
  leg.events[4].reason = "going away";
  // ws.* matches any WebSocket event: the server's Close comes before the client's FIN.
  EXPECT_TRUE(run(R"(- order: [ "gateway ws.*", "client tcp.fin" ])")[0].passed);
  EXPECT_FALSE(run(R"(- order: [ "client tcp.fin", "gateway ws.*" ])")[0].passed);
  EXPECT_FALSE(run(R"(- never: "gateway ws.*")")[0].passed);
  EXPECT_TRUE(run(R"(- never: "gateway ws.text")")[0].passed);
  // reason= compares the Close's reason itself.
  EXPECT_TRUE(run(R"(- order: [ "gateway ws.close 4321 reason=going away" ])")[0].passed);
  const auto wrong = run(R"(- order: [ "gateway ws.close reason=bye" ])");
  EXPECT_FALSE(wrong[0].passed);
}

TEST_F(Fixture, CodeNullExpectsALegStillOpen) {
  // The whole leg: closed, so "still open" fails for every profile.
  EXPECT_FALSE(run("- verdict: { profile: safari, code: null }\n")[0].passed);
  // Cut before any close: every profile still open.
  leg.events.resize(4);
  const auto open = run("- verdict: { profile: [chrome, firefox, safari], code: null }\n");
  EXPECT_TRUE(open[0].passed) << open[0].found;
  EXPECT_FALSE(run("- verdict: { profile: chrome, code: 4321 }\n")[0].passed);
}

TEST_F(Fixture, OrderFailsWhenSwapped) {
  auto r = run(R"(- order: [ "gateway tcp.fin", "client tcp.fin" ])");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].passed);
  EXPECT_NE(r[0].found.find("only at"), std::string::npos) << r[0].found;
  EXPECT_FALSE(r[0].marks.empty());
}

TEST_F(Fixture, NeverFindsTheEvent) {
  EXPECT_TRUE(run("- never: tcp.rst\n")[0].passed);
  auto r = run("- never: gateway tcp.fin\n");
  EXPECT_FALSE(r[0].passed);
  EXPECT_EQ(r[0].marks, std::vector<std::size_t>{7});
}

TEST_F(Fixture, GapWithinAndOutsideTolerance) {
  EXPECT_TRUE(
      run(R"(- gap: { from: "client ws.close", to: "client tcp.fin", is: 2000ms, tolerance: 5ms })")
          [0]
              .passed);
  auto r = run(
      R"(- gap: { from: "client ws.close", to: "client tcp.fin", is: 1000ms, tolerance: 50ms })");
  EXPECT_FALSE(r[0].passed);
  EXPECT_NE(r[0].found.find("2000.300 ms"), std::string::npos) << r[0].found;
  EXPECT_TRUE(
      run(R"(- gap: { from: "gateway ws.close", to: "gateway tcp.fin", min: 1s, max: 3s })")[0]
          .passed);
  EXPECT_FALSE(
      run(R"(- gap: { from: "gateway ws.close", to: "gateway tcp.fin", max: 1s })")[0].passed);
}

TEST_F(Fixture, ToleranceScaleWidensTheWindow) {
  const std::string yaml =
      R"(- gap: { from: "client ws.close", to: "client tcp.fin", is: 1990ms, tolerance: 5ms })";
  EXPECT_FALSE(run(yaml)[0].passed);
  ctx.tolerance_scale = 3;
  EXPECT_TRUE(run(yaml)[0].passed);
}

TEST_F(Fixture, ToleranceScaleNeverWidensTheWindowDownward) {
  // Observed 2000.3 ms: 9.7 ms short of 2010 ms; scale 3 widens only the upper side.
  const std::string yaml =
      R"(- gap: { from: "client ws.close", to: "client tcp.fin", is: 2010ms, tolerance: 5ms })";
  EXPECT_FALSE(run(yaml)[0].passed);
  ctx.tolerance_scale = 3;
  const auto r = run(yaml);
  EXPECT_FALSE(r[0].passed);
  EXPECT_NE(r[0].expected.find("2010 ms - 5 ms / + 15 ms"), std::string::npos) << r[0].expected;
}

TEST_F(Fixture, ToleranceScaleWidensMaxButNotMin) {
  const std::string max =
      R"(- gap: { from: "client ws.close", to: "client tcp.fin", max: 1000ms })";
  const std::string min =
      R"(- gap: { from: "client ws.close", to: "client tcp.fin", min: 3000ms })";
  EXPECT_FALSE(run(max)[0].passed);
  EXPECT_FALSE(run(min)[0].passed);
  ctx.tolerance_scale = 3;
  EXPECT_TRUE(run(max)[0].passed);
  EXPECT_FALSE(run(min)[0].passed);
}

TEST_F(Fixture, VerdictsPerProfile) {
  EXPECT_TRUE(
      run("- verdict: { profile: chrome-legacy, code: 1006, was_clean: false }\n")[0].passed);
  EXPECT_TRUE(run("- verdict: { profile: [chrome, firefox, safari], code: 4321, reason: test, "
                  "was_clean: true }\n")[0]
                  .passed);
  auto r = run("- verdict: { profile: chrome, code: 1006 }\n");
  EXPECT_FALSE(r[0].passed);
  EXPECT_NE(r[0].found.find("chrome: 4321"), std::string::npos) << r[0].found;
}

TEST_F(Fixture, AnUndecryptableLegFailsAVerdictSayingWhyOnce) {
  leg.websocket = false;
  leg.tls.emplace();
  leg.tls->decrypted = false;
  auto r = run("- verdict: { profile: chrome, code: 4321 }\n");
  EXPECT_FALSE(r[0].passed);
  EXPECT_EQ(r[0].found, "chrome: undecided (no key for this TLS session)");
}

TEST_F(Fixture, UnknownSideAndMissingLegFail) {
  auto r = run("- never: sidecar tcp.rst\n");
  EXPECT_FALSE(r[0].passed);
  EXPECT_NE(r[0].found.find("not a side"), std::string::npos);
  r = run("- on: port 1234\n  never: tcp.rst\n");
  EXPECT_FALSE(r[0].passed);
  EXPECT_EQ(r[0].leg, nullptr);
  r = run("- on: { server_port: 9800, nth: 2 }\n  never: tcp.rst\n");
  EXPECT_FALSE(r[0].passed);
}

TEST_F(Fixture, SelectsByPort) {
  auto r = run("- on: { server_port: 9800, nth: 1 }\n  order: [client tcp.fin]\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed);
  EXPECT_EQ(r[0].leg->name, "client-gateway");
}

// Two legs of a chain: the gateway held the sidecar's FIN 1 s before passing it on.
struct ChainFixture : Fixture {
  Connection inner;
  void SetUp() override {
    Fixture::SetUp();
    inner.websocket = true;
    inner.server.port = 9000;
    inner.events = {ev(0.5, Side::client, kind::syn), ev(1.5, Side::server, kind::upgrade),
                    ev(2.5, Side::server, kind::close, 4321), ev(1004, Side::server, kind::fin)};
    ctx.legs.push_back(LegView{"gateway-sidecar", &inner, "gateway", "sidecar"});
    ChainView chain;
    chain.legs = {0, 1};
    chain.chain.legs = {0, 1};
    Hop hop;
    hop.hold = 1000 * kNanosPerMilli;
    chain.chain.hops = {hop};
    chain.hop_names = {"gateway"};
    Diagnosis d;
    d.mechanism = "close-timeout";
    d.origin = "hop:0";
    chain.diagnoses = {d};
    ctx.chains = {chain};
  }
};

TEST_F(ChainFixture, AGapAcrossLegsUsesEachLegsEvent) {
  auto r = run(
      R"(- gap: { from: "gateway-sidecar: sidecar tcp.fin", to: "client-gateway: gateway tcp.fin", is: 1000ms, tolerance: 5ms })");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed) << r[0].expected << " / " << r[0].found;
  EXPECT_EQ(r[0].gap_measured, 1000 * kNanosPerMilli);
  r = run(
      R"(- gap: { from: "gateway-sidecar: sidecar tcp.fin", to: "client-gateway: gateway tcp.fin", max: 10ms })");
  EXPECT_FALSE(r[0].passed);
  r = run(R"(- gap: { from: "nowhere: tcp.fin", to: "client-gateway: tcp.fin", max: 10ms })");
  EXPECT_FALSE(r[0].passed);
  EXPECT_EQ(r[0].found, "no leg 'nowhere'");
}

TEST_F(ChainFixture, AHopsHoldByNameOrNumber) {
  auto r =
      run("- hold: { hop: gateway, is: 1s, tolerance: 10ms }\n- hold: { hop: 1, max: 500ms }\n"
          "- hold: { hop: sidecar, max: 1s }\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].passed) << r[0].found;
  EXPECT_FALSE(r[1].passed);
  EXPECT_EQ(r[1].found, "1000.000 ms");
  EXPECT_FALSE(r[2].passed);
  EXPECT_NE(r[2].found.find("no hop 'sidecar'"), std::string::npos) << r[2].found;
}

TEST_F(ChainFixture, TheDecidingMechanismAndItsOrigin) {
  auto r =
      run("- mechanism: close-timeout\n- mechanism: { is: close-timeout, origin: gateway }\n"
          "- mechanism: { is: close-timeout, origin: server }\n- mechanism: clean\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].passed);
  EXPECT_TRUE(r[1].passed) << r[1].found;
  EXPECT_FALSE(r[2].passed);
  EXPECT_FALSE(r[3].passed);
  EXPECT_EQ(r[3].found, "close-timeout from hop:0");
}

}  // namespace
}  // namespace closewire
