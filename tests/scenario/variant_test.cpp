#include "harness/scenario/variant.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include "harness/spec/spec_error.h"

namespace closewire {
namespace {

Scenario load(const std::string& name, const std::string& text) {
  const auto path =
      std::filesystem::temp_directory_path() / ("closewire-variant-test-" + name + ".yaml");
  std::ofstream(path) << text;
  return load_scenario(path.string());
}

const char* kSeed = R"(about: the seed
client: { profile: chrome-legacy }
server: {}
expect:
  - verdict: { profile: chrome, code: 4321 }
)";

TEST(Variant_Make, NamesTheVariantAndFillsTheSlots) {
  const Scenario s = load("seed", kSeed);
  const Scenario v = make_variant(s, {"chromium", "node-ws"});
  EXPECT_EQ(v.name, s.name + "@chromium+node-ws");
  EXPECT_EQ(v.client.real, "chromium");
  EXPECT_EQ(v.server.real, "node-ws");
  EXPECT_EQ(skip_reason(v), "");
  EXPECT_EQ(make_variant(s, {}).name, s.name);
}

TEST(Variant_Skip, ClientStepsAreNotApplicableToABrowser) {
  const Scenario s = load("ping", std::string(kSeed) + R"(steps:
  - after: client receives ws.close
    client: { ping: hi }
)");
  EXPECT_EQ(skip_reason(s), "");
  EXPECT_NE(skip_reason(make_variant(s, {"chromium", ""})).find("cannot send a ping"),
            std::string::npos);
}

// A client step `at: T` closing with a code a page may send is the page's own ws.close, at the
// time the runner would take it (at + delay); a second one, or a code a page may not send, is a
// step the browser cannot take.
TEST(Variant_Skip, APageClosesOnCueOnce) {
  const Scenario s = load("page-close", std::string(kSeed) + R"(steps:
  - at: 100ms
    delay: 50ms
    client: { close: { code: 4000, reason: bye } }
)");
  const Scenario v = make_variant(s, {"chromium", ""});
  EXPECT_EQ(skip_reason(v), "");
  const auto close = page_close(v);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->after_open, std::chrono::milliseconds(150));
  EXPECT_EQ(close->code, 4000);
  EXPECT_EQ(close->reason, "bye");
  const Scenario twice = load("page-close-twice", std::string(kSeed) + R"(steps:
  - at: 100ms
    client: { close: { code: 4000 } }
  - at: 200ms
    client: { close: { code: 4001 } }
)");
  EXPECT_NE(skip_reason(make_variant(twice, {"chromium", ""})).find("cannot send a Close on cue"),
            std::string::npos);
  const Scenario reserved = load("page-close-1001", std::string(kSeed) + R"(steps:
  - at: 100ms
    client: { close: { code: 1001 } }
)");
  EXPECT_FALSE(page_close(reserved));
  EXPECT_NE(skip_reason(make_variant(reserved, {"chromium", ""})).find("cannot send a Close"),
            std::string::npos);
}

TEST(Variant_Skip, TheFilesOwnRuleWins) {
  const Scenario s =
      load("rule", std::string(kSeed) + "variants: { node-ws: { skip: \"needs the model\" } }\n");
  EXPECT_EQ(skip_reason(make_variant(s, {"", "node-ws"})),
            "skipped for node-ws by the scenario: needs the model");
  EXPECT_EQ(skip_reason(make_variant(s, {"chromium", ""})), "");
}

TEST(Variant_Skip, NodeWsOnlyClosesOnOpen) {
  const Scenario s = load("text", R"(about: text first
client: { profile: rfc }
server: { on_open: [ { text: hi }, close ] }
expect:
  - verdict: { profile: rfc, code: 1005 }
)");
  EXPECT_NE(skip_reason(make_variant(s, {"", "node-ws"})).find("only closes on open"),
            std::string::npos);
}

TEST(ScenarioLoader_RealPeers, ReadsEverySlot) {
  const Scenario s = load("real", R"(about: real peers
client: { real: chromium }
proxies:
  - { real: nginx, lingering_close: always, proxy_read_timeout: 300ms }
  - { real: haproxy, nolinger: true, timeout_client_fin: 500ms }
  - { name: envoy, exec: "envoy -c {config}", config: envoy.yaml.in, vars: { delayed_close_timeout: 1s } }
server: { real: node-ws, close: none }
expect:
  - verdict: { profile: chrome, code: 1005 }
)");
  EXPECT_EQ(s.client.real, "chromium");
  ASSERT_EQ(s.proxies.size(), 3u);
  EXPECT_EQ(s.proxies[0].name, "nginx");
  EXPECT_EQ(s.proxies[0].real()->options.at("lingering_close"), "always");
  EXPECT_EQ(s.proxies[1].name, "haproxy");
  EXPECT_EQ(s.proxies[1].real()->options.at("nolinger"), "true");
  EXPECT_EQ(s.proxies[2].real()->kind, "exec");
  EXPECT_EQ(s.proxies[2].real()->options.at("delayed_close_timeout"), "1s");
  EXPECT_EQ(s.server.real, "node-ws");
  ASSERT_EQ(s.server.on_open.size(), 1u);
  EXPECT_FALSE(s.server.on_open[0].code.has_value());
  EXPECT_EQ(s.leg_names().front(), "client-nginx");
}

TEST(ScenarioLoader_RealPeers, BadKnobIsALocatedError) {
  try {
    load("badknob", R"(about: bad
client: { profile: rfc }
proxies:
  - { real: nginx, lingering_close: sometimes }
server: {}
expect:
  - verdict: { profile: rfc, code: 4321 }
)");
    FAIL() << "no error";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find(":4:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("on, off or always"), std::string::npos) << e.what();
  }
}

// HAProxy's h2 knobs: a flag and an ALPN list, not durations.
TEST(ScenarioLoader_RealPeers, HaproxyH2KnobsAreAFlagAndAnAlpnList) {
  const char* text = R"(about: h2 knobs
client: { profile: rfc }
proxies:
  - { real: haproxy, tls: true, h2_workaround_bogus_websocket_clients: "true", alpn: "h2,http/1.1" }
server: {}
expect:
  - verdict: { profile: rfc, code: 4321 }
)";
  const Scenario s = load("h2knobs", text);
  EXPECT_EQ(s.proxies[0].real()->options.at("h2_workaround_bogus_websocket_clients"), "true");
  EXPECT_EQ(s.proxies[0].real()->options.at("alpn"), "h2,http/1.1");
  for (const auto& [from, to, why] :
       {std::tuple{"\"true\"", "sometimes", "'sometimes' is not true or false"},
        std::tuple{"alpn: \"h2,http/1.1\"", "alpn: \"h2,,http/1.1\"",
                   "'h2,,http/1.1' is not a list of ALPN protocols like h2,http/1.1"}}) {
    std::string bad = text;
    bad.replace(bad.find(from), std::string(from).size(), to);
    try {
      load("h2knobs-bad", bad);
      ADD_FAILURE() << "no error for " << to;
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(e.what()).find(":4:"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
}

// Over h2 the TCP connection under the WebSocket's stream is a leg of its own, CLIENTLEG.tcp.
TEST(ScenarioLoader_RealPeers, AnH2ClientsTcpConnectionIsALegToExpectOn) {
  const std::string text = R"(about: h2 legs
client: { profile: chrome, h2: true }
proxies:
  - { real: haproxy, tls: true }
server: {}
expect:
  - on: client-haproxy.tcp
    never: tcp.rst
)";
  EXPECT_EQ(load("h2legs", text).expectations.at(0).on.name, "client-haproxy.tcp");
  std::string plain = text;
  plain.replace(plain.find(", h2: true"), 10, "");
  try {
    load("h2legs-plain", plain);
    ADD_FAILURE() << "no error";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("no leg 'client-haproxy.tcp' in this scenario (legs: "
                                         "client-haproxy, haproxy-server)"),
              std::string::npos)
        << e.what();
  }
}

TEST(ScenarioLoader_RealPeers, UnknownRealProgramIsRejected) {
  EXPECT_THROW(load("badreal", R"(about: bad
client: { real: safari }
server: {}
expect:
  - verdict: { profile: rfc, code: 4321 }
)"),
               SpecError);
}

TEST(Variant_LegacyChromium, ABuildIsAVariantOfItsOwn) {
  const Scenario s = load("seed105", kSeed);
  const Scenario v = make_variant(s, {"chromium-105", ""});
  EXPECT_EQ(v.name, s.name + "@chromium-105");
  EXPECT_EQ(v.client.real, "chromium");
  EXPECT_EQ(v.client.build, "105");
  // Debian's browser again: no build.
  EXPECT_EQ(make_variant(v, {"chromium", ""}).client.build, "");
  EXPECT_EQ(parse_real_client("chromium-106")->second, "106");
  EXPECT_FALSE(parse_real_client("chromium-"));
  EXPECT_FALSE(parse_real_client("chromium-x"));
  EXPECT_FALSE(parse_real_client("chromium-12345"));  // 1-4 digits (chromium_build_major)
  EXPECT_FALSE(parse_real_client("safari"));
}

TEST(Variant_Make, AClientThatIsNotRealThrows) {
  // Callers validate --client first; make_variant does not guess.
  const Scenario s = load("seedbad", kSeed);
  EXPECT_THROW(make_variant(s, {"safari", ""}), std::invalid_argument);
}

TEST(Variant_Firefox, DebiansFirefoxIsAVariantWithoutABuild) {
  EXPECT_EQ(parse_real_client("firefox"), (std::pair<std::string, std::string>{"firefox", ""}));
  EXPECT_FALSE(parse_real_client("firefox-153"));  // Debian's ESR only
  const Scenario s = load("seedff", kSeed);
  const Scenario v = make_variant(s, {"firefox", "node-ws"});
  EXPECT_EQ(v.name, s.name + "@firefox+node-ws");
  EXPECT_EQ(v.client.real, "firefox");
  EXPECT_EQ(v.client.build, "");
  EXPECT_EQ(make_variant(s, {"firefox", ""}).name, s.name + "@firefox");
}

TEST(Variant_Firefox, ItsOwnRuleAndTheBrowserRulesApply) {
  const Scenario s =
      load("ruleff", std::string(kSeed) + "variants: { firefox: { skip: \"closes at 1 s\" } }\n");
  EXPECT_EQ(skip_reason(make_variant(s, {"firefox", ""})),
            "skipped for firefox by the scenario: closes at 1 s");
  EXPECT_EQ(skip_reason(make_variant(s, {"chromium", ""})), "");
  EXPECT_EQ(skip_reason(s), "");  // the model itself is no variant
  const Scenario ping = load("pingff", std::string(kSeed) + R"(steps:
  - after: client receives ws.close
    client: { ping: hi }
)");
  EXPECT_NE(skip_reason(make_variant(ping, {"firefox", ""}))
                .find("not applicable to real firefox: the browser cannot send a ping"),
            std::string::npos);
}

TEST(ScenarioLoader_RealPeers, ReadsFirefoxWithoutABuild) {
  const Scenario s = load("firefox", R"(about: firefox
client: { real: firefox }
server: {}
expect:
  - verdict: { profile: firefox, code: 4321 }
)");
  EXPECT_EQ(s.client.real, "firefox");
  EXPECT_THROW(load("firefoxbuild", R"(about: bad
client: { real: firefox, build: 105 }
server: {}
expect:
  - verdict: { profile: firefox, code: 4321 }
)"),
               SpecError);
}

TEST(Variant_LegacyChromium, TheChromiumRuleCoversEveryBuild) {
  const Scenario s =
      load("rule105", std::string(kSeed) + "variants: { chromium: { skip: \"model only\" } }\n");
  EXPECT_EQ(skip_reason(make_variant(s, {"chromium-105", ""})),
            "skipped for chromium by the scenario: model only");
}

TEST(ScenarioLoader_RealPeers, ReadsAChromiumBuild) {
  const Scenario s = load("build", R"(about: legacy
client: { real: chromium, build: 105 }
server: {}
expect:
  - verdict: { profile: chrome-legacy, code: 1006 }
)");
  EXPECT_EQ(s.client.real, "chromium");
  EXPECT_EQ(s.client.build, "105");
}

TEST(ScenarioLoader_RealPeers, ABuildNeedsRealChromiumAndANumber) {
  EXPECT_THROW(load("buildmodel", R"(about: bad
client: { profile: chrome, build: 105 }
server: {}
expect:
  - verdict: { profile: chrome, code: 4321 }
)"),
               SpecError);
  EXPECT_THROW(load("buildword", R"(about: bad
client: { real: chromium, build: latest }
server: {}
expect:
  - verdict: { profile: chrome, code: 4321 }
)"),
               SpecError);
  try {
    load("buildlong", R"(about: bad
client: { real: chromium, build: 10500 }
server: {}
expect:
  - verdict: { profile: chrome, code: 4321 }
)");
    ADD_FAILURE() << "a 5-digit build was accepted";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("build '10500' is not a Chromium major version"),
              std::string::npos)
        << e.what();
  }
}

TEST(Variant_Skip, BrowsersTakeWssButNodeWsStaysPlain) {
  const Scenario s = load("wss", R"(about: wss at the gateway
client: { profile: chrome }
proxies:
  - { name: gateway, model: envoy, tls: true }
server: { tls: true }
expect:
  - { on: client-gateway, never: tcp.rst }
)");
  EXPECT_EQ(skip_reason(s), "");
  // Browsers trust the run's leaf; a variant with one runs.
  EXPECT_EQ(skip_reason(make_variant(s, {"chromium"})), "");
  EXPECT_EQ(skip_reason(make_variant(s, {"firefox"})), "");
  EXPECT_EQ(skip_reason(make_variant(s, {"", "node-ws"})),
            "not applicable to real node-ws: it does not speak TLS here yet");
}

}  // namespace
}  // namespace closewire
