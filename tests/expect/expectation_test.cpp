#include "harness/expect/expectation.h"

#include <gtest/gtest.h>

#include "harness/spec/spec_error.h"

namespace closewire {
namespace {

std::vector<Expectation> parse(const std::string& yaml) {
  return parse_expectations(YAML::Load(yaml), "t.yaml");
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Expectation, ParsesTheFourKinds) {
  const auto xs = parse(R"(
- on: client-gateway
  order: [ "gateway ws.close 4321", "client ws.close", "client tcp.fin", "gateway tcp.fin" ]
- on: client-gateway
  never: tcp.rst
- gap: { from: "client ws.close", to: "client tcp.fin", is: 2000ms, tolerance: 50ms }
- verdict: { profile: chrome-legacy, code: 1006, was_clean: false }
)");
  ASSERT_EQ(xs.size(), 4u);
  EXPECT_EQ(xs[0].type, Expectation::Type::order);
  EXPECT_EQ(xs[0].on.by, LegSelector::By::name);
  EXPECT_EQ(xs[0].on.name, "client-gateway");
  ASSERT_EQ(xs[0].events.size(), 4u);
  EXPECT_EQ(xs[0].events[0].side, "gateway");
  EXPECT_EQ(xs[0].events[0].kind, "ws.close");
  EXPECT_EQ(xs[0].events[0].code, 4321);
  EXPECT_EQ(xs[1].type, Expectation::Type::never);
  EXPECT_EQ(xs[1].events[0].side, "");
  EXPECT_EQ(xs[2].type, Expectation::Type::gap);
  EXPECT_EQ(xs[2].is, 2 * kNanosPerSecond);
  EXPECT_EQ(xs[2].tolerance.for_value(*xs[2].is, 1), 50 * kNanosPerMilli);
  EXPECT_EQ(xs[2].on.by, LegSelector::By::default_legs);
  EXPECT_EQ(xs[3].type, Expectation::Type::verdict);
  EXPECT_EQ(xs[3].profiles, std::vector<Profile>{Profile::chrome_legacy});
  EXPECT_EQ(xs[3].code, 1006);
  EXPECT_EQ(xs[3].was_clean, false);
  EXPECT_EQ(xs[3].where, "t.yaml:7");
}

TEST(Expectation, SelectorsByPortAndNth) {
  const auto xs = parse(R"(
- on: { server_port: 9800, nth: 2 }
  never: tcp.rst
- on: port 9900
  never: tcp.rst
- on: 9900
  never: tcp.rst
- on: all
  never: tcp.rst
)");
  EXPECT_EQ(xs[0].on.by, LegSelector::By::server_port);
  EXPECT_EQ(xs[0].on.port, 9800);
  EXPECT_EQ(xs[0].on.nth, 2u);
  EXPECT_EQ(xs[1].on.port, 9900);
  EXPECT_EQ(xs[2].on.port, 9900);
  EXPECT_EQ(xs[3].on.by, LegSelector::By::all_websocket);
}

TEST(Expectation, EventMatcherForms) {
  const auto xs = parse(R"(
- order:
  - { from: server, kind: ws.close, code: 1005 }
  - "client ws.close code=4321 reason=going away"
  - ws.*
)");
  const auto& ev = xs[0].events;
  EXPECT_EQ(ev[0].side, "server");
  EXPECT_EQ(ev[0].code, 1005);
  EXPECT_EQ(ev[1].code, 4321);
  EXPECT_EQ(ev[1].reason, "going away");
  EXPECT_EQ(ev[2].kind, "ws.*");
}

TEST(Expectation, VerdictWithSeveralProfilesAndNullCode) {
  const auto xs = parse("- verdict: { profile: [firefox, safari], code: null }\n");
  EXPECT_EQ(xs[0].profiles.size(), 2u);
  EXPECT_TRUE(xs[0].check_code);
  EXPECT_FALSE(xs[0].code.has_value());
}

// Every kind the analyzer emits can be named (the list of known kinds is kind::kAll).
TEST(Expectation, EveryEventKindCanBeNamed) {
  for (const auto k : kind::kAll) {
    const auto xs = parse("- never: " + std::string(k) + "\n");
    ASSERT_EQ(xs.size(), 1u) << k;
  }
  EXPECT_EQ(parse("- never: tcp.gap\n").size(), 1u);
}

TEST(Expectation, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(error_of("- never: tcp.rst\n  bogus: 1\n"),
            "t.yaml:2:3: unknown key 'bogus' in an expectation (allowed: on, order, never, gap, "
            "verdict, hold, mechanism, why)");
  EXPECT_EQ(error_of("- never: tcp.rset\n").substr(0, 40),
            "t.yaml:1:10: unknown event kind 'tcp.rse");
  EXPECT_EQ(error_of("- verdict: { profile: firefox, was_clean: maybe }\n"),
            "t.yaml:1:43: was_clean must be true or false");
  EXPECT_EQ(error_of("- verdict: { profile: opera, code: 1 }\n").substr(0, 38),
            "t.yaml:1:23: unknown profile 'opera' (");
  EXPECT_EQ(error_of("- gap: { from: tcp.syn, to: tcp.fin, is: soon }\n"),
            "t.yaml:1:42: is 'soon' is not a duration like 2s or 250ms");
  EXPECT_EQ(error_of("- gap: { from: tcp.syn, to: tcp.fin }\n"),
            "t.yaml:1:8: gap needs 'is', 'min' or 'max'");
  EXPECT_EQ(error_of("- never: tcp.rst\n  order: [tcp.fin]\n"),
            "t.yaml:1:3: an expectation has exactly one of order, never, gap, verdict, hold, "
            "mechanism");
  EXPECT_EQ(error_of("- verdict: { profile: chrome, code: 70000 }\n"),
            "t.yaml:1:37: code '70000' is not a number from 0 to 65535");
  EXPECT_EQ(error_of("never: tcp.rst\n"), "t.yaml:1:1: expectations must be a YAML list");
  EXPECT_EQ(error_of("- on: { nth: 0 }\n  never: tcp.rst\n"), "t.yaml:1:14: nth counts from 1");
}

TEST(Expectation, AcrossLegsHoldsAndMechanisms) {
  const auto ex = parse(
      "- gap: { from: \"gateway-sidecar: sidecar tcp.fin\", to: \"client-gateway: gateway tcp.fin\","
      " is: 1s, tolerance: 50ms }\n"
      "- gap: { from: { on: leg 2, kind: tcp.fin }, to: { on: leg 1, kind: tcp.fin }, max: 5ms }\n"
      "- hold: { hop: gateway, is: 1s, tolerance: 50ms }\n"
      "- mechanism: close-timeout\n"
      "- mechanism: { is: reset-before-reply, origin: hop:0 }\n"
      "- order: [ \"server ws.close reason=a: b\" ]\n");
  ASSERT_EQ(ex.size(), 6u);
  EXPECT_EQ(ex[0].events[0].leg, "gateway-sidecar");
  EXPECT_EQ(ex[0].events[0].side, "sidecar");
  EXPECT_EQ(ex[0].events[1].leg, "client-gateway");
  EXPECT_EQ(ex[1].events[0].leg, "leg 2");
  EXPECT_EQ(ex[2].type, Expectation::Type::hold);
  EXPECT_EQ(ex[2].hop, "gateway");
  EXPECT_EQ(ex[2].is, kNanosPerSecond);
  EXPECT_EQ(ex[3].type, Expectation::Type::mechanism);
  EXPECT_EQ(ex[3].mechanism, "close-timeout");
  EXPECT_EQ(ex[4].origin, "hop:0");
  // A reason may hold ": " without naming a leg.
  EXPECT_EQ(ex[5].events[0].leg, "");
  EXPECT_EQ(ex[5].events[0].reason, "a: b");
  EXPECT_EQ(error_of("- mechanism: slow-close\n").substr(0, 45),
            "t.yaml:1:14: unknown mechanism 'slow-close' (");
  EXPECT_EQ(error_of("- hold: { is: 1s }\n").substr(0, 26), "t.yaml:1:9: hold needs 'ho");
  EXPECT_EQ(error_of("- gap: { from: \"l: tcp.fin\", to: tcp.fin, max: 1s }\n"),
            "t.yaml:1:8: a gap across legs names the leg of both events");
  EXPECT_EQ(error_of("- never: \"leg 1: tcp.rst\"\n"),
            "t.yaml:1:3: 'leg 1: tcp.rst': only a gap names a leg per event");
}

// Found by fuzzing: keys that are lists or maps escaped as yaml-cpp's "bad conversion".
TEST(Expectation, KeysThatAreListsOrMapsAreLocatedErrors) {
  const std::string kKey = "a key must be a single word, not a list or map";
  EXPECT_EQ(error_of("- gap: {[a]: 1}\n"), "t.yaml:1:9: " + kKey);
  EXPECT_EQ(error_of("- {[a]: 1}\n"), "t.yaml:1:4: " + kKey);
  EXPECT_EQ(error_of("- verdict: { {p: 1}: chrome }\n"), "t.yaml:1:14: " + kKey);
  EXPECT_EQ(error_of("- on: { [x]: 1 }\n  never: tcp.rst\n"), "t.yaml:1:9: " + kKey);
}

TEST(Expectation, LoadReportsYamlSyntaxErrorsWithTheirLine) {
  const std::string path = ::testing::TempDir() + "/broken.yaml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("- never: tcp.rst\n- order: [a, b\n", f);
    std::fclose(f);
  }
  try {
    load_expectations(path);
    FAIL() << "no error";
  } catch (const SpecError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":", 0), 0u) << e.what();
  }
  EXPECT_THROW(load_expectations(path + ".missing"), SpecError);
}

}  // namespace
}  // namespace closewire
