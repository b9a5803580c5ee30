// Chains stitched from legs written by hand: by key, by timing, and every way a capture can make
// a link uncertain (docs/diagnosis.md §1).
#include "harness/analysis/chain.h"

#include <gtest/gtest.h>

#include "tests/support/event_builder.h"

namespace closewire {
namespace {

using testing::ev;

struct LegSpec {
  std::string client_ip = "127.0.0.1";
  std::uint16_t client_port = 40000;
  std::string server_ip = "127.0.0.1";
  std::uint16_t server_port = 9000;
  std::string key = "k1";
  double syn = 0, request = 1, response = 5;
  double server_close = 10, client_close = 11;  // < 0: no Close frame
  double server_fin = 12, client_fin = 13;      // < 0: none
  double server_rst = -1;
  std::string server_header = {};
};

Connection leg(std::size_t index, const LegSpec& s) {
  Connection c;
  c.index = index;
  c.client = {s.client_ip, s.client_port};
  c.server = {s.server_ip, s.server_port};
  c.websocket = true;
  c.start = static_cast<Nanos>(s.syn * kNanosPerMilli);
  c.handshake = {s.key, "accept-" + s.key, "/ws", s.server_header, false};
  c.events.push_back(ev(s.syn, Side::client, kind::syn));
  c.events.push_back(ev(s.request, Side::client, kind::upgrade));
  c.events.push_back(ev(s.response, Side::server, kind::upgrade));
  if (s.server_close >= 0) c.events.push_back(ev(s.server_close, Side::server, kind::close, 4321));
  if (s.client_close >= 0) c.events.push_back(ev(s.client_close, Side::client, kind::close, 4321));
  if (s.server_fin >= 0) c.events.push_back(ev(s.server_fin, Side::server, kind::fin));
  if (s.client_fin >= 0) c.events.push_back(ev(s.client_fin, Side::client, kind::fin));
  if (s.server_rst >= 0) c.events.push_back(ev(s.server_rst, Side::server, kind::rst));
  std::stable_sort(c.events.begin(), c.events.end(),
                   [](const Event& a, const Event& b) { return a.t < b.t; });
  return c;
}

// client -> gateway (9001) -> sidecar (9002) -> server (9000): each upstream leg's upgrade nested
// in its downstream's, the server's close forwarded outward with a hold per hop.
std::vector<Connection> seed_chain(const std::string& key = "k1", double offset = 0) {
  auto at = [&](double ms) { return ms + offset; };
  LegSpec a{.client_port = 40001, .server_port = 9001, .key = key, .syn = at(0), .request = at(1),
            .response = at(9), .server_close = at(10), .client_close = at(11),
            .server_fin = at(2012), .client_fin = at(2011)};
  LegSpec b{.client_port = 40002, .server_port = 9002, .key = key, .syn = at(2), .request = at(3),
            .response = at(8), .server_close = at(9.5), .client_close = at(11.5),
            .server_fin = at(1012), .client_fin = at(2011.5)};
  LegSpec c{.client_port = 40003, .server_port = 9000, .key = key, .syn = at(4), .request = at(5),
            .response = at(7), .server_close = at(9), .client_close = at(12), .server_fin = at(12.2),
            .client_fin = at(12.3)};
  return {leg(0, a), leg(1, b), leg(2, c)};
}

TEST(Chain, TheForwardedKeyLinksThreeLegsInRequestOrder) {
  const auto legs = seed_chain();
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].legs, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(chains[0].linked_by, "key");
  EXPECT_TRUE(chains[0].notes.empty());
  ASSERT_EQ(chains[0].hops.size(), 2u);
  // Each hop's hold: from the FIN it got from upstream to the one it sent downstream.
  EXPECT_NEAR(static_cast<double>(*chains[0].hops[1].hold) / kNanosPerMilli, 999.8, 1e-6);
  EXPECT_NEAR(static_cast<double>(*chains[0].hops[0].hold) / kNanosPerMilli, 1000.0, 1e-6);
  EXPECT_EQ(chains[0].hops[0].closed_with, "fin");
  EXPECT_TRUE(chains[0].hops[0].originated.empty());
}

TEST(Chain, ALoneLegIsAChainOfOneAndPlainTcpIsInNone) {
  std::vector<Connection> legs = {leg(0, {}), leg(1, {.key = "k2", .syn = 50, .request = 51,
                                                      .response = 52})};
  legs[1].websocket = false;
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].legs, (std::vector<std::size_t>{0}));
  EXPECT_EQ(chains[0].linked_by, "");
  EXPECT_TRUE(chains[0].hops.empty());
}

TEST(Chain, AKeyRepeatedByUnrelatedConnectionsMakesSeparateChains) {
  // A client with a fixed key: two chains one after the other, same key; each stays whole.
  auto legs = seed_chain("fixed", 0);
  for (auto& c : seed_chain("fixed", 5000)) {
    c.index = legs.size();
    c.client.port += 10;
    legs.push_back(c);
  }
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[0].legs, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(chains[1].legs, (std::vector<std::size_t>{3, 4, 5}));
}

TEST(Chain, TwoConnectionsSharingAKeyAtOnceAreAmbiguousNotGuessed) {
  // Two browser legs to the gateway with one key, open together, and one upstream leg that fits
  // in both windows: which one it belongs to cannot be told.
  std::vector<Connection> legs = {
      leg(0, {.client_port = 40001, .server_port = 9001, .key = "same", .syn = 0, .request = 1,
              .response = 20}),
      leg(1, {.client_port = 40002, .server_port = 9001, .key = "same", .syn = 0.5,
              .request = 1.5, .response = 21}),
      leg(2, {.client_port = 40003, .server_port = 9000, .key = "same", .syn = 2, .request = 3,
              .response = 4}),
  };
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 3u);
  for (const auto& c : chains) EXPECT_EQ(c.legs.size(), 1u);
  ASSERT_EQ(chains[2].notes.size(), 1u);
  EXPECT_NE(chains[2].notes[0].find("ambiguous"), std::string::npos) << chains[2].notes[0];
}

TEST(Chain, TwoClientsOfOneServerAreNeverOneChain) {
  // Nested in time, same target and frames, but both to the same server endpoint.
  std::vector<Connection> legs = {
      leg(0, {.client_port = 40001, .key = "a", .syn = 0, .request = 1, .response = 9}),
      leg(1, {.client_port = 40002, .key = "b", .syn = 2, .request = 3, .response = 8}),
  };
  EXPECT_EQ(find_chains(legs).size(), 2u);
}

TEST(Chain, WithoutASharedKeyTimingTargetAndFramesLink) {
  auto legs = seed_chain();
  legs[1].handshake.key = "made-by-the-proxy";
  legs[2].handshake.key = "made-by-the-sidecar";
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].legs, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(chains[0].linked_by, "timing");
}

// An RFC 8441 stream on the browser's side, the HTTP/1.1 leg HAProxy opened for it upstream (its
// own key; the stream has none), next to another stream of the same h2 connection whose upstream
// leg came at another time: each stream is linked to its own upstream leg by timing, target and
// the relayed Close, and the hop's END_STREAM + RST_STREAM read as its FIN and RST.
TEST(Chain, AnH2StreamLinksToTheHttp1LegAProxyOpenedForIt) {
  LegSpec down{.client_port = 40001, .server_port = 8443, .key = "", .syn = 0, .request = 1,
               .response = 9, .server_close = 10.2, .client_close = -1, .server_fin = 10.2,
               .client_fin = -1};
  LegSpec up{.client_port = 40002, .server_port = 9000, .key = "haproxy-own", .syn = 2,
             .request = 3, .response = 8, .server_close = 10, .client_close = -1,
             .server_fin = 10.1, .client_fin = -1, .server_rst = -1};
  Connection stream = leg(0, down);
  stream.h2_stream = 1;
  for (Event& e : stream.events) {
    if (e.kind == kind::fin) e.kind = kind::h2_end_stream;
  }
  stream.events.push_back(ev(10.2, Side::server, kind::h2_rst_stream));
  // A second stream of the same connection (same addresses), opened later, with its own upstream.
  LegSpec down2 = down;
  down2.syn = 20;
  down2.request = 21;
  down2.response = 29;
  down2.server_close = 40;
  down2.server_fin = -1;
  LegSpec up2 = up;
  up2.client_port = 40003;
  up2.key = "haproxy-own-2";
  up2.syn = 22;
  up2.request = 23;
  up2.response = 28;
  up2.server_close = 39;
  up2.server_fin = -1;
  Connection stream2 = leg(0, down2);
  stream2.h2_stream = 3;
  Connection h2_connection = leg(0, down);
  h2_connection.websocket = false;
  h2_connection.h2_connection = true;
  const std::vector<Connection> legs = {h2_connection, stream, leg(1, up), stream2, leg(2, up2)};
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[0].legs, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(chains[0].linked_by, "timing");
  EXPECT_EQ(chains[1].legs, (std::vector<std::size_t>{3, 4}));
  ASSERT_EQ(chains[0].hops.size(), 1u);
  EXPECT_EQ(chains[0].hops[0].closed_with, "fin+rst");  // END_STREAM, then RST_STREAM
  ASSERT_TRUE(chains[0].hops[0].hold.has_value());
  EXPECT_EQ(*chains[0].hops[0].hold, testing::ms(0.1));
}

TEST(Chain, RelayedFramesThatDisagreeDoNotLinkByTiming) {
  auto legs = seed_chain();
  legs[1].handshake.key = "x";
  legs[2].handshake.key = "y";
  for (auto& e : legs[2].events) {
    if (e.kind == kind::close && e.from == Side::server) e.code = 1000;
  }
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[0].legs, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(chains[1].legs, (std::vector<std::size_t>{2}));
}

TEST(Chain, AMissingMiddleLegIsAStatedGap) {
  // gateway 10.0.0.1 -> (sidecar 10.0.0.2 missing) -> app: the key links the two legs the
  // capture holds, and the addresses show a leg between them is not there.
  auto all = seed_chain();
  std::vector<Connection> legs = {all[0], all[2]};
  legs[0].client.ip = "10.0.0.9";
  legs[0].server.ip = "10.0.0.1";
  legs[1].client.ip = "10.0.0.2";
  legs[1].server.ip = "10.0.0.3";
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].legs.size(), 2u);
  ASSERT_FALSE(chains[0].notes.empty());
  EXPECT_NE(chains[0].notes[0].find("gap"), std::string::npos) << chains[0].notes[0];
}

TEST(Chain, LegsCutByTheCaptureAreNoted) {
  auto legs = seed_chain();
  legs[0].syn_seen = false;  // the capture began after its SYN
  legs[2].events.erase(std::remove_if(legs[2].events.begin(), legs[2].events.end(),
                                      [](const Event& e) { return e.kind == kind::fin; }),
                       legs[2].events.end());  // still open at the capture's end
  const auto chains = find_chains(legs);
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(chains[0].legs.size(), 3u);
  std::string notes;
  for (const auto& n : chains[0].notes) notes += n + "\n";
  EXPECT_NE(notes.find("began after its SYN"), std::string::npos) << notes;
  EXPECT_NE(notes.find("still open"), std::string::npos) << notes;
}

TEST(Hop, AnAbortiveCloseAfterTheFinAndAnRstAnsweringLateData) {
  auto legs = seed_chain();
  legs[0].events.push_back(ev(2012.5, Side::server, kind::rst));
  EXPECT_EQ(hop_facts(legs[0], legs[1]).closed_with, "fin+rst");
  auto late = seed_chain();
  late[0].events = {ev(0, Side::client, kind::syn), ev(10, Side::server, kind::close, 4321),
                    ev(10.1, Side::server, kind::fin), ev(10.2, Side::client, kind::close, 4321),
                    ev(10.3, Side::server, kind::rst)};
  EXPECT_EQ(hop_facts(late[0], late[1]).closed_with, "rst-on-data");
}

TEST(Hop, AnIdleTimeoutIsOriginatedWithItsIdleTime) {
  auto legs = seed_chain();
  // The proxy closes both legs 300 ms after the last frame; the server never closed.
  legs[0].events = {ev(0, Side::client, kind::syn), ev(1, Side::client, kind::upgrade),
                    ev(9, Side::server, kind::upgrade), ev(309, Side::server, kind::fin)};
  legs[1].events = {ev(2, Side::client, kind::syn), ev(3, Side::client, kind::upgrade),
                    ev(8, Side::server, kind::upgrade), ev(309, Side::client, kind::fin)};
  const Hop h = hop_facts(legs[0], legs[1]);
  EXPECT_EQ(h.originated, (std::vector<std::string>{"fin"}));
  ASSERT_TRUE(h.idle);
  EXPECT_NEAR(static_cast<double>(*h.idle) / kNanosPerMilli, 300.0, 1e-6);
  EXPECT_FALSE(h.hold);
}

TEST(Hop, TheProductIsWhatItsOwn101Says) {
  auto legs = seed_chain();
  legs[0].handshake.server = "istio-envoy";
  legs[1].handshake.server = "envoy";
  EXPECT_EQ(hop_facts(legs[0], legs[1]).product, "istio-envoy");
  EXPECT_EQ(hop_facts(legs[0], legs[1]).product_evidence, "Server: istio-envoy in its 101");
  legs[0].handshake.server = "nginx/1.22.1";
  EXPECT_EQ(hop_facts(legs[0], legs[1]).product, "nginx");
  // Passed through unchanged (HAProxy adds nothing): not the hop's own word.
  legs[1].handshake.server = "nginx/1.22.1";
  EXPECT_EQ(hop_facts(legs[0], legs[1]).product, "");
}

}  // namespace
}  // namespace closewire
