// The HTML page's ladder model on chains written by hand: one arrow per drawn event, rows that
// never go back in time nor overlap, quiet stretches cut to a labelled break, the legend, and
// escaping of everything that comes from input.
#include "harness/report/html_report.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/event_builder.h"

namespace closewire {
namespace {

using testing::ev;

// client -> hop (9001) -> server (9000): the server's Close, the client's reply, the server's FIN
// held 1 s by the hop (Envoy's delayed close), then the hop's RST toward the client.
std::vector<Connection> two_legs() {
  Connection a;
  a.index = 0;
  a.client = {"127.0.0.1", 40001};
  a.server = {"127.0.0.1", 9001};
  a.websocket = true;
  a.handshake = {"k1", "acc", "/ws", "", false};
  a.events = {ev(0, Side::client, kind::syn),       ev(1, Side::client, kind::upgrade),
              ev(9, Side::server, kind::upgrade),   ev(10, Side::server, kind::close, 4321),
              ev(10.05, Side::client, kind::close, 4321), ev(1012, Side::server, kind::fin),
              ev(1012.02, Side::server, kind::rst)};
  Connection b;
  b.index = 1;
  b.client = {"127.0.0.1", 40002};
  b.server = {"127.0.0.1", 9000};
  b.websocket = true;
  b.start = testing::ms(2);
  b.handshake = {"k1", "acc", "/ws", "", false};
  b.events = {ev(2, Side::client, kind::syn),         ev(3, Side::client, kind::upgrade),
              ev(8, Side::server, kind::upgrade),     ev(9, Side::server, kind::close, 4321),
              ev(11, Side::client, kind::close, 4321), ev(12, Side::server, kind::fin),
              ev(12.3, Side::client, kind::fin)};
  return {a, b};
}

Chain the_chain(const std::vector<Connection>& legs) {
  return chain_of(legs, {0, 1});
}

TEST(HtmlReport, OneArrowPerDrawnEventFromSenderToReceiver) {
  const auto legs = two_legs();
  const auto l = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  ASSERT_EQ(l.lifelines.size(), 3u);
  std::size_t drawn = 0;
  for (const auto& c : legs)
    drawn += std::count_if(c.events.begin(), c.events.end(),
                           [](const Event& e) { return report::drawn_kind(e.kind); });
  EXPECT_EQ(drawn, 12u);  // every event but the two SYNs
  ASSERT_EQ(l.arrows.size(), drawn);
  // The first arrow: the client's upgrade on leg 0, client (0) to gateway (1).
  EXPECT_EQ(l.arrows[0].kind, kind::upgrade);
  EXPECT_EQ(l.arrows[0].from, 0u);
  EXPECT_EQ(l.arrows[0].to, 1u);
  // The server's Close on leg 1: server (2) to gateway (1).
  const auto close = std::find_if(l.arrows.begin(), l.arrows.end(),
                                  [](const auto& a) { return a.kind == kind::close; });
  EXPECT_EQ(close->from, 2u);
  EXPECT_EQ(close->to, 1u);
  EXPECT_EQ(close->label, "ws.close 4321 test");
  // The hop's RST toward the client, its exact ns in the title.
  const auto& rst = l.arrows.back();
  EXPECT_EQ(rst.label, "RST");
  EXPECT_EQ(rst.from, 1u);
  EXPECT_EQ(rst.to, 0u);
  EXPECT_EQ(rst.t, legs[0].events.back().t - legs[0].start);
  EXPECT_NE(rst.title.find(std::to_string(rst.t) + " ns"), std::string::npos) << rst.title;
}

TEST(HtmlReport, RowsGoDownWithTimeAndLabelsNeverOverlap) {
  const auto legs = two_legs();
  const auto l = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  for (std::size_t i = 1; i < l.arrows.size(); ++i) {
    EXPECT_LE(l.arrows[i - 1].t, l.arrows[i].t);
    EXPECT_GT(l.arrows[i].y, l.arrows[i - 1].y) << i;
    // Every row has its time label on the left and its event label above the arrow: one row
    // apart is at least one label's height.
    EXPECT_GE(l.arrows[i].y - l.arrows[i - 1].y, report::kLadderLabelHeight) << i;
  }
  EXPECT_GT(l.height, l.arrows.back().y);
}

TEST(HtmlReport, AQuietSecondIsCutToABreakThatSaysHowLong) {
  const auto legs = two_legs();
  const auto l = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  // 12.3 ms (the client's FIN on leg 1) to 1,012 ms (the hop's FIN): 999.7 ms with no event.
  ASSERT_EQ(l.breaks.size(), 1u);
  EXPECT_EQ(l.breaks[0].skipped, legs[0].events[5].t - legs[1].events[6].t);
  EXPECT_NEAR(static_cast<double>(l.breaks[0].skipped), 999.7e6, 2);
  EXPECT_EQ(l.breaks[0].label, "⋯ 999.7 ms ⋯");
  // The whole chain fits in a few hundred pixels, the 0.05 ms race still on two rows.
  EXPECT_LT(l.height, 600);
  // The hop's hold: a bracket from the server's FIN (12 ms) to its own (1,012 ms).
  ASSERT_EQ(l.holds.size(), 1u);
  EXPECT_EQ(l.holds[0].lifeline, 1u);
  EXPECT_EQ(l.holds[0].length, testing::ms(1000));
  EXPECT_LT(l.holds[0].y0, l.holds[0].y1);
  EXPECT_EQ(l.holds[0].label, "hold 1,000.0 ms");
}

TEST(HtmlReport, EveryKindDrawnIsInTheLegend) {
  const auto legs = two_legs();
  const auto l = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  const std::string legend = report::ladder_legend(l);
  for (const auto& a : l.arrows) {
    EXPECT_NE(std::find(l.kinds.begin(), l.kinds.end(), a.kind), l.kinds.end()) << a.kind;
    EXPECT_NE(legend.find("data-kind=\"" + a.kind + "\""), std::string::npos) << a.kind;
  }
  EXPECT_NE(legend.find("tcp.syn"), std::string::npos);  // says what it leaves out
  const std::string svg = report::ladder_svg(l);
  EXPECT_NE(svg.find("class=\"ev tcp-rst\""), std::string::npos);
}

TEST(HtmlReport, AReplayNamesHopsByAddressAndProduct) {
  auto legs = two_legs();
  Chain c = the_chain(legs);
  c.hops[0].product = "envoy";
  const auto l = report::ladder(legs, c, {"client", "hop 0", "server"});
  EXPECT_EQ(l.lifelines[1], "hop 0 (127.0.0.1:9001, envoy)");
}

TEST(HtmlReport, EscapesEverythingFromInput) {
  EXPECT_EQ(report::html_escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
  EXPECT_EQ(report::html_escape("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(report::html_escape("é→"), "é→");  // UTF-8 stays

  auto legs = two_legs();
  const std::string evil = "<script>alert(1)</script> & \"q\" \xc3";
  for (auto& e : legs[0].events)
    if (e.kind == kind::close) e.reason = evil;
  const Chain c = the_chain(legs);
  report::HtmlSource s;
  s.anchor = "c1";
  s.title = "captures/<script>x&\"y\xfe.pcap";
  s.status = "1 chain";
  s.links.emplace_back("capture", s.title);
  s.legs = &legs;
  s.chains = {c};
  s.diagnoses = {diagnose(legs, c)};
  s.names = {{"client", "<script>gw", "server"}};
  const std::string page = report::html_page("replay <script>", {report::html_section(s)});
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; \xEF\xBF\xBD"),
            std::string::npos);
  EXPECT_NE(page.find("captures/&lt;script&gt;x&amp;&quot;y\xEF\xBF\xBD.pcap"), std::string::npos);
  EXPECT_EQ(page.find('\xfe'), std::string::npos);
  EXPECT_EQ(page.find("\xc3 "), std::string::npos);
}

TEST(HtmlReport, TheIndexLinksEachChainWithItsFirstDiagnosis) {
  auto legs = two_legs();
  const Chain c = the_chain(legs);
  report::HtmlSource s;
  s.anchor = "s1";
  s.title = "bug";
  s.status = "FAIL";
  s.legs = &legs;
  s.chains = {c};
  s.diagnoses = {diagnose(legs, c)};
  s.names = {{"client", "gateway", "server"}};
  ASSERT_FALSE(s.diagnoses[0].empty());
  const auto section = report::html_section(s);
  EXPECT_NE(section.index.find("href=\"#s1-c1\""), std::string::npos);
  EXPECT_NE(section.index.find(s.diagnoses[0][0].mechanism), std::string::npos);
  EXPECT_NE(section.body.find("id=\"s1-c1\""), std::string::npos);
  EXPECT_NE(section.body.find("<svg"), std::string::npos);
}

}  // namespace
}  // namespace closewire
