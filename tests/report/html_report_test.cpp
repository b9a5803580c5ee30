// The HTML page's ladder model on chains written by hand: one arrow per drawn event, rows that
// never go back in time nor overlap, quiet stretches cut to a labelled break, the legend, and
// escaping of everything that comes from input.
#include "harness/report/html_report.h"

#include <fmt/format.h>
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

// Real Chromium behind a hop holding its close 3 s (captures/chromium-156/...delayedfin_3000):
// the hop passes the server's FIN upstream at 2,011 ms, in the middle of its hold toward the
// client, so that arrow's label sits where the hold's label would.
std::vector<Connection> hold_over_an_arrow() {
  auto legs = two_legs();
  legs[0].events = {
      ev(0, Side::client, kind::syn),           ev(0.3, Side::client, kind::upgrade),
      ev(4.3, Side::server, kind::upgrade),     ev(4.6, Side::server, kind::close, 4321),
      ev(5.5, Side::client, kind::close, 4321), ev(2008.7, Side::client, kind::fin),
      ev(3007.1, Side::server, kind::fin)};
  legs[1].events = {
      ev(3.4, Side::client, kind::syn),         ev(3.7, Side::client, kind::upgrade),
      ev(4.2, Side::server, kind::upgrade),     ev(4.5, Side::server, kind::close, 4321),
      ev(6.1, Side::client, kind::close, 4321), ev(6.6, Side::server, kind::fin),
      ev(2011.4, Side::client, kind::fin)};
  return legs;
}

bool bands_meet(report::LabelBand a, report::LabelBand b) {
  return a.top < b.bottom && b.top < a.bottom;
}

TEST(HtmlReport, AHoldsLabelMovesOffTheLabelOfAnArrowBesideIt) {
  const auto legs = hold_over_an_arrow();
  const auto l = report::ladder(legs, the_chain(legs), {"client", "hop", "server"});
  ASSERT_EQ(l.holds.size(), 1u);
  const auto& h = l.holds[0];
  EXPECT_EQ(h.length, testing::ms(3000.5));
  const auto beside = std::find_if(l.arrows.begin(), l.arrows.end(), [](const auto& a) {
    return a.kind == kind::fin && a.from == 1 && a.to == 2;
  });
  ASSERT_NE(beside, l.arrows.end());
  // The bracket's middle is on that arrow's label: where the label was drawn before.
  ASSERT_TRUE(
      bands_meet(report::hold_label_band((h.y0 + h.y1) / 2), report::arrow_label_band(beside->y)));
  for (const auto& a : l.arrows) {
    if (std::min(a.from, a.to) != 1 || std::max(a.from, a.to) != 2) continue;
    EXPECT_FALSE(bands_meet(report::hold_label_band(h.label_y), report::arrow_label_band(a.y)))
        << a.label << " at " << a.y << ", hold label at " << h.label_y;
  }
  // Still beside its bracket, and drawn there.
  EXPECT_GE(h.label_y, h.y0);
  EXPECT_LE(h.label_y, h.y1);
  EXPECT_NE(report::ladder_svg(l).find(fmt::format("y=\"{:.1f}\">hold 3,000.5 ms", h.label_y + 4)),
            std::string::npos);
}

TEST(HtmlReport, AHoldsLabelWithNothingBesideItStaysInTheMiddle) {
  const auto legs = two_legs();
  const auto l = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  ASSERT_EQ(l.holds.size(), 1u);
  EXPECT_DOUBLE_EQ(l.holds[0].label_y, (l.holds[0].y0 + l.holds[0].y1) / 2);
}

TEST(HtmlReport, LongNamesSideBySideWidenTheColumnsShortOnesKeepThem) {
  const auto legs = two_legs();
  const auto short_names = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  EXPECT_EQ(short_names.column, report::kLadderColumn);
  EXPECT_EQ(short_names.x(1), short_names.x(0) + report::kLadderColumn);
  // 33 characters each (as in a scenario naming its hops after their pods), 256 px drawn: two
  // such names 230 px apart met.
  const std::string a = "envoy-gateway-2025-1208-0930-0001",
                    b = "client-with-a-long-long-name-0002";
  const auto l = report::ladder(legs, the_chain(legs), {b, a, "server"});
  EXPECT_GE(l.column, (report::ladder_name_width(a) + report::ladder_name_width(b)) / 2);
  EXPECT_GE(l.x(0), report::ladder_name_width(b) / 2);  // the first name starts inside the svg
  EXPECT_GE(report::ladder_name_width(a), 256);
  // The svg draws its lifelines that far apart.
  EXPECT_NE(report::ladder_svg(l).find(fmt::format("x1=\"{:.1f}\"", l.x(1))), std::string::npos);
  // A name past kLadderNameChars is cut, and only as wide as what is left.
  const std::string longer(60, 'x');
  EXPECT_EQ(report::ladder_name(longer), std::string(report::kLadderNameChars, 'x') + "…");
  EXPECT_EQ(report::ladder_name_width(longer),
            (report::kLadderNameChars + 1) * report::kLadderNameCharWidth);
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

TEST(HtmlReport, TlsClosesAndAlertsAreArrowsOfTheirOwn) {
  auto legs = two_legs();
  auto& events = legs[0].events;
  Event hello = ev(0.5, Side::server, kind::tls_handshake);
  hello.text = "TLS 1.3 TLS_AES_128_GCM_SHA256 (sni=localhost)";
  Event notify = ev(1011.9, Side::server, kind::tls_close_notify);
  Event alert = ev(1012.01, Side::client, kind::tls_alert);
  alert.text = "fatal bad_record_mac";
  events.insert(events.begin() + 1, hello);
  events.insert(events.end() - 2, notify);
  events.insert(events.end() - 1, alert);
  const auto l = report::ladder(legs, the_chain(legs), {"client", "gateway", "server"});
  const auto find = [&](std::string_view k) {
    return std::find_if(l.arrows.begin(), l.arrows.end(),
                        [&](const auto& a) { return a.kind == k; });
  };
  ASSERT_NE(find(kind::tls_handshake), l.arrows.end());
  EXPECT_EQ(find(kind::tls_handshake)->label, "TLS handshake TLS 1.3");
  ASSERT_NE(find(kind::tls_close_notify), l.arrows.end());
  EXPECT_EQ(find(kind::tls_close_notify)->label, "close_notify");
  EXPECT_EQ(find(kind::tls_close_notify)->from, 1u);  // the gateway, toward the client
  EXPECT_EQ(find(kind::tls_close_notify)->to, 0u);
  ASSERT_NE(find(kind::tls_alert), l.arrows.end());
  EXPECT_EQ(find(kind::tls_alert)->label, "TLS alert fatal bad_record_mac");
  // The close_notify comes before the FIN it precedes on the wire.
  const auto fin_to_client = std::find_if(l.arrows.begin(), l.arrows.end(), [](const auto& a) {
    return a.kind == kind::fin && a.from == 1u && a.to == 0u;
  });
  ASSERT_NE(fin_to_client, l.arrows.end());
  EXPECT_LT(find(kind::tls_close_notify)->y, fin_to_client->y);
  const std::string legend = report::ladder_legend(l);
  EXPECT_NE(legend.find("data-kind=\"tls.close_notify\""), std::string::npos);
  EXPECT_NE(report::ladder_svg(l).find("class=\"ev tls-close-notify\""), std::string::npos);
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
