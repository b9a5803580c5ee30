#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/spec/spec_error.h"
#include "harness/scenario/scenario.h"

namespace closewire {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "scenarios";
  std::filesystem::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& text) {
  const std::string path = write("bad.yaml", text);
  try {
    load_scenario(path);
  } catch (const SpecError& e) {
    const std::string msg = e.what();
    // Relative to the file: "bad.yaml:LINE:COL: ..." is what a user needs to find the mistake.
    return msg.substr(msg.find("bad.yaml"));
  }
  return "no error";
}

const std::string kSeed = R"(about: the seed
client: { profile: chrome-legacy }
proxies:
  - { name: gateway, model: envoy, delayed_close_timeout: 1s, no_delay_close_for_upgrades: false, latency: 10ms }
  - { name: sidecar, model: tcp, on_upstream_close: rst, to_client: { reset_behind_close: true } }
server:
  on_open: [ { close: { code: 4321, reason: test } }, { wait: 5ms }, { close_socket: { mode: delayed, delay: 250ms } } ]
steps:
  - at: 100ms
    client: { ping: hi }
  - after: client receives ws.close
    delay: 20ms
    client: { close_socket: half-close }
expect:
  - on: client-gateway
    order: [ "gateway ws.close 4321", "client ws.close" ]
)";

TEST(ScenarioLoader, ReadsEveryPart) {
  const Scenario s = load_scenario(write("seed.yaml", kSeed));
  EXPECT_EQ(s.name, "scenarios-seed");
  EXPECT_EQ(s.about, "the seed");
  EXPECT_EQ(s.client.profile, Profile::chrome_legacy);
  ASSERT_EQ(s.proxies.size(), 2u);
  const auto* envoy = std::get_if<endpoints::EnvoyModel>(&s.proxies[0].kind);
  ASSERT_NE(envoy, nullptr);
  EXPECT_EQ(envoy->delayed_close_timeout, Millis(1000));
  EXPECT_FALSE(envoy->no_delay_close_for_upgrades);
  EXPECT_EQ(envoy->latency, Millis(10));
  const auto* tcp = std::get_if<endpoints::TcpModel>(&s.proxies[1].kind);
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->on_upstream_close, endpoints::CloseMode::rst);
  EXPECT_TRUE(tcp->to_client.reset_behind_close);
  ASSERT_EQ(s.server.on_open.size(), 3u);
  EXPECT_EQ(s.server.on_open[0].code, 4321);
  EXPECT_EQ(s.server.on_open[1].duration, Millis(5));
  EXPECT_EQ(s.server.on_open[2].mode, endpoints::CloseMode::delayed);
  EXPECT_EQ(s.server.on_open[2].duration, Millis(250));
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].when.at, Millis(100));
  EXPECT_EQ(s.steps[0].action.kind, Action::Kind::ping);
  EXPECT_EQ(s.steps[1].when.after_endpoint, "client");
  EXPECT_EQ(s.steps[1].when.after.what, StepEvent::What::receives_frame);
  EXPECT_EQ(s.steps[1].when.after.opcode, wire::Opcode::close);
  EXPECT_EQ(to_string(s.steps[1].when.after), "receives ws.close");
  EXPECT_EQ(s.steps[1].when.delay, Millis(20));
  EXPECT_EQ(s.leg_names(), (std::vector<std::string>{"client-gateway", "gateway-sidecar", "sidecar-server"}));
}

TEST(ScenarioLoader, DefaultsAreTheSeedServerAndEnvoyOfToday) {
  const Scenario s = load_scenario(write("min.yaml", R"(about: x
client: {}
proxies: [ { name: p, model: envoy } ]
server: {}
expect: [ { never: tcp.rst } ]
)"));
  EXPECT_EQ(s.client.profile, Profile::chrome);
  const auto& envoy = std::get<endpoints::EnvoyModel>(s.proxies[0].kind);
  EXPECT_TRUE(envoy.no_delay_close_for_upgrades);
  EXPECT_EQ(envoy.delayed_close_timeout, Millis(1000));
  ASSERT_EQ(s.server.on_open.size(), 1u);
  EXPECT_EQ(s.server.on_open[0].code, 4321);
  EXPECT_EQ(s.server.on_open[0].reason, "test");
}

TEST(ScenarioLoader, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(error_of("about: x\nclient: { profile: opera }\nserver: {}\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:2:20: unknown profile 'opera' (chrome, chrome-legacy, firefox, safari, rfc)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: {}\nexpect: [ { never: tcp.rst } ]\nbogus: 1\n"),
            "bad.yaml:5:1: unknown key 'bogus' in a scenario (allowed: name, about, ipv6, client, proxies, server, "
            "steps, run_for, timeout, expect, variants, sweep, report, finding)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { name: g, model: envoy, delayed_close_timeout: soon } ]\n"
                     "server: {}\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:60: delayed_close_timeout 'soon' is not a duration like 2s or 250ms");
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { name: g, model: nginx } ]\nserver: {}\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:30: unknown proxy model 'nginx' (envoy, tcp)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { on_open: [ { close_socket: linger } ] }\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:38: unknown close mode 'linger' (fin, half-close, rst, close-unread, delayed)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: {}\nsteps: [ { after: client gets ws.close, client: ping } ]\n"
                     "expect: [ { never: tcp.rst } ]\n")
                .substr(0, 56),
            "bad.yaml:4:19: cannot read 'after: client gets ws.close'");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: {}\nexpect: [ { on: client-gateway, never: tcp.rst } ]\n")
                .substr(0, 58),
            "bad.yaml:4: no leg 'client-gateway' in this scenario (legs");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: {}\n"), "bad.yaml:1:1: a scenario needs 'expect': what must hold on the wire");
  EXPECT_EQ(error_of("client: {}\nserver: {}\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:1:1: a scenario needs 'about': one sentence saying what it shows");
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { name: server, model: envoy } ]\nserver: {}\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:20: the name 'server' is taken");
  EXPECT_EQ(error_of("about: x\nclient: {\nserver: {}\n").substr(0, 9), "bad.yaml:");
}

// Found by fuzzing: a key that is itself a list or map escaped as yaml-cpp's "bad conversion",
// with no file name.
TEST(ScenarioLoader, KeysThatAreListsOrMapsAreLocatedErrors) {
  const std::string kKey = "a key must be a single word, not a list or map";
  EXPECT_EQ(error_of("{[a]: 1}\n"), "bad.yaml:1:2: " + kKey);
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { on_open: [ {[a]: b} ] }\n"
                     "expect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:23: " + kKey);
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: {}\nexpect: [ { never: tcp.rst } ]\n"
                     "variants: { {a: 1}: { skip: x } }\n"),
            "bad.yaml:5:13: " + kKey);
  EXPECT_EQ(error_of("about: x\nclient: { {a: 1}: 1 }\nserver: {}\nexpect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:2:11: " + kKey);
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { exec: x, vars: { [v]: 1 } } ]\nserver: {}\n"
                     "expect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:31: " + kKey);
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { real: nginx, [k]: 1 } ]\nserver: {}\n"
                     "expect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:3:27: " + kKey);
  EXPECT_EQ(error_of("- gap: {[a]: 1}\n"), "bad.yaml:1:1: a scenario is a YAML map (name, about, client, "
            "proxies, server, steps, expect)");
}

// A real server's `close:` map is read where it stands: its errors point into the file.
TEST(ScenarioLoader, ServerCloseErrorsKeepTheirLine) {
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver:\n  real: node-ws\n  close: { code: 4321, bogus: 1 }\n"
                     "expect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:5:24: unknown key 'bogus' in close (allowed: code, reason, again)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver:\n  real: node-ws\n  close: { code: big }\n"
                     "expect: [ { never: tcp.rst } ]\n"),
            "bad.yaml:5:18: code 'big' is not a number from 0 to 65535");
}

TEST(ScenarioLoader, ReadsTlsOnListeningSidesAndCloseNotify) {
  const Scenario s = load_scenario(write("tls.yaml", R"(about: wss at the gateway
client: {}
proxies:
  - { name: gateway, model: envoy, tls: true }
  - { name: mid, model: tcp, tls: false, close_notify: false }
server:
  tls: { version: 1.2 }
  on_open: [ { close: { code: 4321 } }, { close_socket: { mode: rst, close_notify: true } } ]
expect:
  - { on: client-gateway, never: tcp.rst }
)"));
  ASSERT_TRUE(s.proxies[0].tls);
  EXPECT_EQ(s.proxies[0].tls->version, endpoints::TlsVersion::tls1_3);
  EXPECT_FALSE(s.proxies[1].tls);
  EXPECT_FALSE(std::get<endpoints::TcpModel>(s.proxies[1].kind).close_notify);
  ASSERT_TRUE(s.server.tls);
  EXPECT_EQ(s.server.tls->version, endpoints::TlsVersion::tls1_2);
  EXPECT_EQ(s.server.on_open.at(1).close_notify, std::optional<bool>(true));
  EXPECT_TRUE(s.uses_tls());
  EXPECT_FALSE(load_scenario(write("plain.yaml", kSeed)).uses_tls());
}

TEST(ScenarioLoader, RealProxiesTakeTlsOnEitherSide) {
  const Scenario s = load_scenario(write("real-tls.yaml", R"(about: wss through nginx and HAProxy
client: {}
proxies:
  - { real: nginx, tls: { version: 1.2 } }
  - { real: haproxy }
  - { name: e, exec: "true", tls: true }
server: { tls: true }
expect: [ { never: tcp.rst } ]
)"));
  ASSERT_TRUE(s.proxies[0].tls);
  EXPECT_EQ(s.proxies[0].tls->version, endpoints::TlsVersion::tls1_2);
  EXPECT_FALSE(s.proxies[1].tls);
  ASSERT_TRUE(s.proxies[2].tls);
  EXPECT_TRUE(s.server.tls);
}

TEST(ScenarioLoader, BadTlsValuesAreLocatedErrors) {
  const std::string kTail = "expect: [ { never: tcp.rst } ]\n";
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { tls: yes }\n" + kTail),
            "bad.yaml:3:16: tls is true, false or {version: 1.2|1.3}");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { tls: { version: 1.1 } }\n" + kTail),
            "bad.yaml:3:27: TLS version '1.1' is not 1.2 or 1.3");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { tls: { versions: 1.2 } }\n" + kTail),
            "bad.yaml:3:18: unknown key 'versions' in tls (allowed: version)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { name: g, model: envoy, tls: [1] } ]\n"
                     "server: {}\n" + kTail),
            "bad.yaml:3:42: tls is true, false or {version: 1.2|1.3}");
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { real: nginx, tls: 1.3 } ]\nserver: {}\n" +
                     kTail),
            "bad.yaml:3:32: tls is true, false or {version: 1.2|1.3}");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { real: node-ws, tls: true }\n" + kTail),
            "bad.yaml:3:31: tls is for the server model, not a real server (yet)");
  EXPECT_EQ(error_of("about: x\nclient: {}\nproxies: [ { name: g, model: envoy, close_notify: false } ]\n"
                     "server: {}\n" + kTail)
                .substr(0, 45),
            "bad.yaml:3:37: unknown key 'close_notify' in ");
  EXPECT_EQ(error_of("about: x\nclient: {}\nserver: { on_open: [ { close_socket: { mode: fin, "
                     "close_notify: 2 } } ] }\n" + kTail)
                .substr(0, 14),
            "bad.yaml:3:65:");
}

// `client: {h2: true}` takes a proxy model with TLS as its first hop (it offers h2 and relays the
// stream as HAProxy does), with h2_reset_after_end_stream; nginx stays refused.
TEST(ScenarioLoader, H2ClientsTakeAModelFirstHopWithItsResetKnob) {
  const std::string kTail = "server: {}\nexpect: [ { never: tcp.rst } ]\n";
  const Scenario s = load_scenario(
      write("h2model.yaml",
            "about: x\nclient: { h2: true }\nproxies:\n"
            "  - { name: g, model: tcp, tls: true, h2_reset_after_end_stream: false }\n"
            "  - { name: e, model: envoy }\n" +
                kTail));
  EXPECT_FALSE(s.proxies[0].h2_reset_after_end_stream);
  EXPECT_TRUE(s.proxies[1].h2_reset_after_end_stream);
  EXPECT_EQ(
      error_of("about: x\nclient: { h2: true }\nproxies:\n"
               "  - { name: g, model: envoy, tls: true, h2_reset_after_end_stream: maybe }\n" +
               kTail),
      "bad.yaml:4:68: h2_reset_after_end_stream must be true or false");
  EXPECT_EQ(
      error_of("about: x\nclient: { h2: true }\nproxies: [ { name: g, model: envoy } ]\n" + kTail)
          .substr(0, 60),
      "bad.yaml:2:15: h2: true needs a first hop that listens with ");
  EXPECT_NE(
      error_of("about: x\nclient: { h2: true }\nproxies: [ { real: nginx, tls: true } ]\n" + kTail)
          .find("nginx 1.22 has no WebSockets over HTTP/2"),
      std::string::npos);
}

}  // namespace
}  // namespace closewire
