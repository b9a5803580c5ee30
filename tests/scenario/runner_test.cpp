// run_scenario (runner.h) on small scenarios loaded from temp files: status, named legs and pcap,
// failed expectations, the implicit "client outcome = verdict" check, step errors and triggers,
// run_for and timeout. It captures on lo (root or CAP_NET_RAW): outside CI a machine that cannot
// skips these tests with a message; with CI=true that is a failure.
#include "harness/scenario/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/analysis/event.h"
#include "tests/support/capture_rights.h"
#include "tests/support/timing.h"

namespace closewire {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const auto dir = fs::path(::testing::TempDir()) / "runner_test";
  fs::create_directories(dir);
  return dir;
}

Scenario load(const std::string& name, const std::string& yaml) {
  const auto path = (temp_dir() / (name + ".yaml")).string();
  std::ofstream(path) << "name: " << name << "\nabout: runner_test " << name << "\n" << yaml;
  return load_scenario(path);
}

// The loader wants expectations; these scenarios are about the runner's own checks and limits.
Scenario load_bare(const std::string& name, const std::string& yaml) {
  Scenario s = load(name, yaml + "expect:\n  - verdict: { profile: chrome, code: 4321 }\n");
  s.expectations.clear();
  return s;
}

std::unique_ptr<ScenarioResult> run(const Scenario& s) {
  RunOptions o;
  o.out_dir = (temp_dir() / "out").string();
  return run_scenario(s, o);
}

std::string report(const ScenarioResult& r) {
  std::string out = "error: " + r.error + "\n";
  for (const auto& o : r.outcomes)
    out += std::string(o.passed ? "  pass " : "  FAIL ") + o.expectation->text + " | expected " +
           o.expected + " | found " + o.found + "\n";
  return out + r.endpoint_log;
}

const LegView* leg(const ScenarioResult& r, const std::string& name) {
  for (const auto& l : r.legs)
    if (l.name == name) return &l;
  return nullptr;
}

// The first event of `kind` sent by `from` on `l`.
const Event* event(const LegView& l, std::string_view kind, Side from) {
  for (const auto& e : l.connection->events)
    if (e.kind == kind && e.from == from) return &e;
  return nullptr;
}

double ms(Nanos a, Nanos b) {
  return static_cast<double>(b - a) / 1e6;
}

// The seed's shape with its fix: one Envoy <= 1.22 with delayed_close_timeout 0s.
const std::string kSeedLike = R"(client: { profile: chrome }
proxies:
  - { name: gateway, model: envoy, delayed_close_timeout: 0s, no_delay_close_for_upgrades: false }
server:
  on_open: [ { close: { code: 4321, reason: test } } ]
)";

TEST(Runner, SeedLikeScenarioPasses) {
  REQUIRE_CAPTURE_RIGHTS();
  const Scenario s = load("runner-pass", kSeedLike + R"(expect:
  - on: client-gateway
    order: [ "gateway ws.close 4321", "client ws.close 4321", "gateway tcp.fin" ]
  - on: gateway-server
    never: tcp.rst
  - verdict: { profile: chrome, code: 4321, reason: test, was_clean: true }
)");
  const auto r = run(s);
  ASSERT_EQ(r->status, ScenarioResult::Status::passed) << report(*r);
  EXPECT_TRUE(r->error.empty()) << r->error;
  ASSERT_EQ(r->legs.size(), 2u) << report(*r);
  EXPECT_EQ(r->legs[0].name, "client-gateway");
  EXPECT_EQ(r->legs[0].client_name, "client");
  EXPECT_EQ(r->legs[0].server_name, "gateway");
  EXPECT_EQ(r->legs[1].name, "gateway-server");
  EXPECT_EQ(r->legs[1].client_name, "gateway");
  EXPECT_EQ(r->legs[1].server_name, "server");
  for (const auto& l : r->legs) EXPECT_TRUE(l.connection->websocket) << l.name;
  EXPECT_EQ(r->pcap_path, (temp_dir() / "out" / "runner-pass.pcap").string());
  ASSERT_TRUE(fs::exists(r->pcap_path));
  EXPECT_GT(fs::file_size(r->pcap_path), 24u);      // more than a pcap header
  EXPECT_EQ(r->outcomes.size(), 4u) << report(*r);  // three written, one implicit
  ASSERT_TRUE(r->client_outcome);
  EXPECT_EQ(r->client_outcome->code, 4321);
  EXPECT_TRUE(r->client_outcome->was_clean);
  EXPECT_EQ(r->client_label, "chrome");
  EXPECT_GT(r->run_ms, 0.0);
  EXPECT_LT(r->run_ms, closewire::testing::late(1000));
}

TEST(Runner, ImplicitCheckComparesTheClientOutcomeWithItsVerdict) {
  REQUIRE_CAPTURE_RIGHTS();
  const Scenario s = load_bare("runner-implicit", kSeedLike);  // no expectations of its own
  const auto r = run(s);
  ASSERT_EQ(r->status, ScenarioResult::Status::passed) << report(*r);
  ASSERT_EQ(r->implicit.size(), 1u);
  const Expectation& x = r->implicit[0];
  EXPECT_EQ(x.type, Expectation::Type::verdict);
  EXPECT_EQ(x.profiles, std::vector<Profile>{Profile::chrome});
  EXPECT_TRUE(x.check_code);
  EXPECT_EQ(x.code, 4321);
  EXPECT_EQ(x.was_clean, true);
  EXPECT_EQ(x.text, "the client's own outcome (4321 test, clean) equals the chrome verdict");
  ASSERT_EQ(r->outcomes.size(), 1u);
  EXPECT_EQ(r->outcomes[0].expectation, &x);
  EXPECT_TRUE(r->outcomes[0].passed) << report(*r);
}

TEST(Runner, AnExpectationThatCannotHoldFails) {
  REQUIRE_CAPTURE_RIGHTS();
  const Scenario s = load("runner-fail", kSeedLike + R"(expect:
  - on: client-gateway
    order: [ "gateway ws.close 4321", "client ws.close 4321" ]
  - on: client-gateway
    never: tcp.fin
)");
  const auto r = run(s);
  EXPECT_EQ(r->status, ScenarioResult::Status::failed) << report(*r);
  EXPECT_TRUE(r->error.empty()) << r->error;       // the run itself was fine
  ASSERT_EQ(r->outcomes.size(), 3u) << report(*r);
  EXPECT_TRUE(r->outcomes[0].passed) << report(*r);
  EXPECT_EQ(r->outcomes[1].expectation->type, Expectation::Type::never);
  EXPECT_FALSE(r->outcomes[1].passed) << report(*r);
  EXPECT_FALSE(r->outcomes[1].found.empty());
  EXPECT_TRUE(r->outcomes[2].passed) << report(*r);  // the implicit check
}

TEST(Runner, AStepWithNoOpenConnectionReportsItsError) {
  REQUIRE_CAPTURE_RIGHTS();
  // The proxy cuts the 101 short: the client never opens, so the step has no connection to use.
  // run_for keeps the run going until the step has fired.
  const Scenario s = load_bare("runner-no-connection", R"(client: { profile: chrome }
proxies:
  - { name: cutter, model: tcp, to_client: { reset_after_bytes: 12 } }
server:
  on_open: [ { close: { code: 4321, reason: test } } ]
steps:
  - after: server sends ws.close
    client: { ping: hi }
run_for: 200ms
)");
  const auto r = run(s);
  EXPECT_EQ(r->status, ScenarioResult::Status::failed) << report(*r);
  EXPECT_NE(r->error.find("step 'after server sends ws.close' found no open client connection"),
            std::string::npos)
      << r->error;
  EXPECT_NE(r->error.find(s.steps[0].where), std::string::npos) << r->error;
}

TEST(Runner, RunForEndsTheRunAtThatLength) {
  REQUIRE_CAPTURE_RIGHTS();
  // Nobody ever closes: only run_for ends it.
  const Scenario s = load_bare("runner-run-for", R"(client: { profile: rfc }
server: { on_open: [] }
run_for: 300ms
)");
  const auto r = run(s);
  EXPECT_EQ(r->status, ScenarioResult::Status::passed) << report(*r);  // a fixed length, no timeout
  EXPECT_TRUE(r->error.empty()) << report(*r);
  EXPECT_GE(r->run_ms, 300.0);
  EXPECT_LE(r->run_ms, 300.0 + closewire::testing::late(100));
  ASSERT_EQ(r->legs.size(), 1u) << report(*r);
  EXPECT_EQ(r->legs[0].name, "client-server");
  // Still open when the run ended; the runner's own teardown is not in the capture.
  EXPECT_EQ(event(r->legs[0], kind::fin, Side::client), nullptr) << report(*r);
  EXPECT_EQ(event(r->legs[0], kind::fin, Side::server), nullptr) << report(*r);
  EXPECT_EQ(event(r->legs[0], kind::rst, Side::client), nullptr) << report(*r);
  EXPECT_FALSE(r->client_outcome) << "the client never reached its close event";
}

TEST(Runner, ARunThatCannotEndWithinItsTimeoutSaysSo) {
  REQUIRE_CAPTURE_RIGHTS();
  // rfc has no close timeout of its own and the server never closes.
  const Scenario s = load_bare("runner-timeout", R"(client: { profile: rfc }
server: { on_open: [] }
timeout: 300ms
)");
  const auto r = run(s);
  EXPECT_EQ(r->status, ScenarioResult::Status::failed) << report(*r);
  EXPECT_NE(r->error.find("within 300 ms (timeout)"), std::string::npos) << r->error;
  EXPECT_GE(r->run_ms, 300.0);
  EXPECT_LE(r->run_ms, 300.0 + closewire::testing::late(100));
}

TEST(Runner, AStepAfterAnEventFiresItsDelayLater) {
  REQUIRE_CAPTURE_RIGHTS();
  // The gateway holds the client's connection 300 ms after the server closed: long enough for
  // the step, 100 ms after the client received the Close, to put a ping on the wire.
  const Scenario s = load_bare("runner-step-after", R"(client: { profile: chrome }
proxies:
  - { name: gateway, model: envoy, delayed_close_timeout: 300ms, no_delay_close_for_upgrades: false }
server:
  on_open: [ { close: { code: 4321, reason: test } } ]
steps:
  - after: client receives ws.close
    delay: 100ms
    client: { ping: late }
)");
  const auto r = run(s);
  EXPECT_TRUE(r->error.empty()) << report(*r);
  const LegView* l = leg(*r, "client-gateway");
  ASSERT_NE(l, nullptr) << report(*r);
  const Event* close = event(*l, kind::close, Side::server);
  const Event* ping = event(*l, kind::ping, Side::client);
  ASSERT_TRUE(close && ping) << report(*r);
  EXPECT_EQ(ping->bytes, 4u);  // "late"
  // The Close is on the wire before the client reads it: the gap is at least the delay.
  EXPECT_GE(ms(close->t, ping->t), 100.0) << report(*r);
  EXPECT_LE(ms(close->t, ping->t), 100.0 + closewire::testing::late(80)) << report(*r);
  // Only the client's own Close reply came before it.
  const Event* reply = event(*l, kind::close, Side::client);
  ASSERT_NE(reply, nullptr);
  EXPECT_LT(reply->t, ping->t);
}

}  // namespace
}  // namespace closewire

namespace closewire {
namespace {

// Kernel drops void a run: a 1 MB ring is too small for a burst of 3,000 frames (about 3 MB), and
// the run ends as "cannot capture" (exit 3) saying so, instead of judging an incomplete capture.
TEST(Runner, AKernelDropFailsTheRunAndSaysSo) {
  REQUIRE_CAPTURE_RIGHTS();
  Scenario s = load_bare("burst", "about: a burst\nclient: { profile: chrome }\nserver: {}\n");
  s.server.on_open.clear();
  for (int i = 0; i < 3000; ++i)
    s.server.on_open.push_back(Action::frame(Action::Kind::text, std::string(1000, 'x')));
  s.server.on_open.push_back(Action::close(4321, "test"));
  RunOptions o;
  o.out_dir = (temp_dir() / "out").string();
  o.capture_rings = std::make_shared<CaptureRingPool>(1, "lo", 1024 * 1024);
  ASSERT_EQ(o.capture_rings->size(), 1u) << o.capture_rings->error();
  const auto r = run_scenario(s, o);
  EXPECT_EQ(r->status, ScenarioResult::Status::environment) << report(*r);
  EXPECT_TRUE(r->outcomes.empty()) << report(*r);  // nothing judged
  EXPECT_NE(r->error.find("dropped"), std::string::npos) << report(*r);
  EXPECT_NE(r->error.find("the capture is incomplete"), std::string::npos) << r->error;
}

}  // namespace
}  // namespace closewire

namespace closewire {
namespace {

// The exec proxy path, with closewire's own proxy as the command: the Envoy model behind `sh -c`,
// its ports filled in, ready when its listen port accepts, stopped with its process group.
TEST(Runner, AnExecProxyRunsAnyCommandInItsSlot) {
  REQUIRE_CAPTURE_RIGHTS();
  const Scenario s = load("exec", std::string("about: closewire proxy as an exec proxy\n"
                                              "client: { profile: chrome-legacy }\n"
                                              "proxies:\n"
                                              "  - { name: sidecar, exec: \"") +
                                      CLOSEWIRE_BIN +
                                      " proxy --listen {listen_host}:{listen_port} --upstream "
                                      "{upstream_host}:{upstream_port} --model envoy "
                                      "--delayed-close-timeout 100ms "
                                      "--no-delay-close-for-upgrades false\" }\n"
                                      "server: {}\n"
                                      "expect:\n"
                                      "  - hold: { hop: sidecar, is: 100ms, tolerance: 30ms }\n"
                                      "  - verdict: { profile: chrome-legacy, code: 4321 }\n");
  const auto r = run(s);
  EXPECT_EQ(r->status, ScenarioResult::Status::passed) << report(*r);
  ASSERT_NE(leg(*r, "client-sidecar"), nullptr) << report(*r);
  ASSERT_NE(leg(*r, "sidecar-server"), nullptr) << report(*r);
}

}  // namespace
}  // namespace closewire
