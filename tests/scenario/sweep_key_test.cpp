// Sweep keys: parsed from their text, set in a scenario's YAML tree.
#include "harness/scenario/sweep_key.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace closewire {
namespace {

const char* const kTree = R"(
client: { profile: chrome }
proxies:
  - { name: gateway, model: envoy, latency: 10ms }
  - { name: sidecar, model: envoy }
server:
  on_open: [ { close: { code: 4321, reason: test } } ]
)";

TEST(SweepKey, ParsesNamesIndicesAndWildcards) {
  const SweepKey k = parse_sweep_key("proxies[gateway].latency");
  ASSERT_EQ(k.segments.size(), 2u);
  EXPECT_EQ(k.segments[0].name, "proxies");
  EXPECT_EQ(k.segments[0].indices, std::vector<std::string>{"gateway"});
  EXPECT_EQ(k.segments[1].name, "latency");
  EXPECT_EQ(parse_sweep_key("server.on_open[0].close.code").segments.size(), 4u);
  EXPECT_EQ(parse_sweep_key("proxies[*].latency").segments[0].indices[0], "*");
}

TEST(SweepKey, RejectsWhatIsNotAKey) {
  for (const char* bad : {"", "client.", ".client", "proxies[", "proxies[a b].x", "a..b", "a b",
                          "proxies[0]x", "x[1234567]"}) {
    EXPECT_THROW(parse_sweep_key(bad), std::invalid_argument) << bad;
  }
}

TEST(SweepKey, SetsEveryProxyWithAWildcardAndKeepsTheValuesPlace) {
  YAML::Node tree = YAML::Load(kTree);
  const YAML::Node value = YAML::Load("\n\n  [1s]")[0];  // line 3
  set_sweep_key(tree, parse_sweep_key("proxies[*].delayed_close_timeout"), value);
  EXPECT_EQ(tree["proxies"][0]["delayed_close_timeout"].Scalar(), "1s");
  EXPECT_EQ(tree["proxies"][1]["delayed_close_timeout"].Scalar(), "1s");
  // An error in the value is reported where the sweep wrote it.
  EXPECT_EQ(tree["proxies"][1]["delayed_close_timeout"].Mark().line, 2);
  EXPECT_EQ(tree["proxies"][0]["latency"].Scalar(), "10ms");
}

TEST(SweepKey, SetsByNameByIndexAndCreatesMissingMapKeys) {
  YAML::Node tree = YAML::Load(kTree);
  set_sweep_key(tree, parse_sweep_key("proxies[sidecar].latency"), YAML::Node("5ms"));
  EXPECT_FALSE(tree["proxies"][0]["latency"].Scalar() == "5ms");
  EXPECT_EQ(tree["proxies"][1]["latency"].Scalar(), "5ms");
  set_sweep_key(tree, parse_sweep_key("server.on_open[0].close.code"), YAML::Node("1000"));
  EXPECT_EQ(tree["server"]["on_open"][0]["close"]["code"].Scalar(), "1000");
  set_sweep_key(tree, parse_sweep_key("client.close_timeout"), YAML::Node("3s"));
  EXPECT_EQ(tree["client"]["close_timeout"].Scalar(), "3s");
  set_sweep_key(tree, parse_sweep_key("proxies[1]"), YAML::Load("{name: other, model: tcp}"));
  EXPECT_EQ(tree["proxies"][1]["name"].Scalar(), "other");
}

TEST(SweepKey, NamesThePartThatDoesNotExist) {
  YAML::Node tree = YAML::Load(kTree);
  const auto error = [&](const std::string& key) {
    try {
      set_sweep_key(tree, parse_sweep_key(key), YAML::Node("1"));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("proxies[edge].latency"),
            "no item named 'edge' in 'proxies' (names: gateway, sidecar)");
  EXPECT_EQ(error("proxies[2].latency"), "'proxies' has 2 items: no [2]");
  EXPECT_EQ(error("steps[0].at"), "the scenario has no 'steps'");
  EXPECT_EQ(error("client.profile.x"), "'client.profile' is not a map: it has no 'x'");
  EXPECT_EQ(error("client[0]"), "'client' is not a list: no [0]");
}

}  // namespace
}  // namespace closewire
