// The sweep matrix: tables, the flips in words, JSON round trip, shards merged, CSV, HTML.
#include "harness/report/sweep_report.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace closewire::report {
namespace {

SweepCell cell(std::size_t index, std::vector<std::string> values,
               std::optional<std::uint16_t> code, bool clean, std::string mechanism = "clean") {
  SweepCell c;
  c.index = index;
  c.values = std::move(values);
  c.name = "s-p" + std::to_string(index + 1);
  c.status = "PASS";
  c.profile = "chrome-legacy";
  c.closed = true;
  c.code = code;
  c.was_clean = clean;
  c.mechanism = std::move(mechanism);
  c.json = "out/s/s-p" + std::to_string(index + 1) + ".json";
  return c;
}

// delay (rows) x profile (columns): chrome-legacy flips from 4321 to 1006 at 1s.
SweepTable threshold() {
  SweepTable t;
  t.file = "scenarios/sweeps/s.yaml";
  t.name = "s";
  t.keys = {"proxies[*].delayed_close_timeout", "client.profile"};
  t.values = {{"0s", "900ms", "1s", "1.5s"}, {"chrome", "chrome-legacy"}};
  t.total_points = 8;
  std::size_t i = 0;
  for (const auto& d : t.values[0]) {
    for (const auto& p : t.values[1]) {
      const bool broken = p == "chrome-legacy" && (d == "1s" || d == "1.5s");
      t.cells.push_back(
          cell(i++, {d, p}, broken ? 1006 : 4321, !broken, broken ? "close-timeout" : "clean"));
    }
  }
  return t;
}

TEST(SweepReport, StatesWhereAColumnFlipsAndBetweenWhichValues) {
  const auto words = sweep_boundaries(threshold());
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0],
            "client.profile=chrome-legacy, over proxies[*].delayed_close_timeout: 4321 clean up to "
            "900ms; 1006 unclean from 1s (flips between 900ms and 1s)");
}

TEST(SweepReport, OrderedColumnsFlipAlongRowsToo) {
  SweepTable t;
  t.name = "hops";
  t.keys = {"client.profile", "proxies[*].latency"};
  t.values = {{"chrome", "firefox"}, {"0ms", "10ms", "20ms"}};
  t.total_points = 6;
  t.cells = {cell(0, {"chrome", "0ms"}, 4321, true),   cell(1, {"chrome", "10ms"}, 1006, false),
             cell(2, {"chrome", "20ms"}, 4321, true),  cell(3, {"firefox", "0ms"}, 4321, true),
             cell(4, {"firefox", "10ms"}, 4321, true), cell(5, {"firefox", "20ms"}, 4321, true)};
  const auto words = sweep_boundaries(t);
  // Columns: categorical rows (chrome, firefox) grouped by outcome.
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0],
            "proxies[*].latency=10ms, over client.profile: 1006 unclean with chrome; "
            "4321 clean with firefox");
  EXPECT_EQ(words[1],
            "client.profile=chrome, over proxies[*].latency: 4321 clean at 0ms; 1006 "
            "unclean at 10ms; 4321 clean at 20ms (flips between 0ms and 10ms, 10ms and "
            "20ms)");
}

TEST(SweepReport, TheTextMatrixHasARowPerFirstValueAndMarksFailures) {
  SweepTable t = threshold();
  t.cells[7].failed = {"verdict chrome-legacy: 4321"};
  t.cells[7].status = "FAIL";
  const std::string text = sweep_matrix_text(t, TextStyle{});
  EXPECT_NE(text.find("8 of 8 points ran: 7 passed, 1 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("proxies[*].delayed_close_timeout \\ client.profile  chrome"),
            std::string::npos);
  EXPECT_NE(text.find("1.5s    "), std::string::npos);
  EXPECT_NE(text.find("! 1006 unclean · close-timeout"), std::string::npos) << text;
  EXPECT_NE(text.find("s-p8 (1.5s, chrome-legacy): verdict chrome-legacy: 4321"),
            std::string::npos);
  // One line per row value, plus the header.
  std::size_t rows = 0;
  for (const auto& v : t.values[0]) rows += text.find("\n  " + v + " ") != std::string::npos;
  EXPECT_EQ(rows, 4u);
}

TEST(SweepReport, ThirdKeysMakeOneTableEach) {
  SweepTable t;
  t.name = "three";
  t.keys = {"a", "b", "c"};
  t.values = {{"1"}, {"x"}, {"p", "q"}};
  t.total_points = 2;
  t.cells = {cell(0, {"1", "x", "p"}, 4321, true), cell(1, {"1", "x", "q"}, 1006, false)};
  const std::string text = sweep_matrix_text(t, TextStyle{});
  EXPECT_NE(text.find("with c=p"), std::string::npos);
  EXPECT_NE(text.find("with c=q"), std::string::npos);
}

TEST(SweepReport, JsonRoundTripsAndShardsMerge) {
  const SweepTable t = threshold();
  SweepTable a = t, b = t;
  a.cells.clear();
  b.cells.clear();
  for (const auto& c : t.cells) (c.index % 2 ? b : a).cells.push_back(c);
  const SweepTable ra = sweep_table_from_json(sweep_json(a));
  const SweepTable rb = sweep_table_from_json(sweep_json(b));
  const SweepTable merged = merge_sweep_tables({rb, ra});
  ASSERT_EQ(merged.cells.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(merged.cells[i].index, i);
    EXPECT_EQ(merged.cells[i].code, t.cells[i].code);
    EXPECT_EQ(merged.cells[i].was_clean, t.cells[i].was_clean);
    EXPECT_EQ(merged.cells[i].values, t.cells[i].values);
  }
  EXPECT_EQ(sweep_boundaries(merged), sweep_boundaries(t));
  EXPECT_THROW(merge_sweep_tables({ra, ra}), std::runtime_error);  // a point twice
  SweepTable other = rb;
  other.values[0].pop_back();
  EXPECT_THROW(merge_sweep_tables({ra, other}), std::runtime_error);
  EXPECT_THROW(sweep_table_from_json(nlohmann::json::parse(R"({"sweep": {}})")),
               std::runtime_error);
  auto bad = sweep_json(a);
  bad["points"][0]["values"]["client.profile"] = "netscape";
  EXPECT_THROW(sweep_table_from_json(bad), std::runtime_error);
}

TEST(SweepReport, CsvQuotesWhatNeedsIt) {
  SweepTable t = threshold();
  t.cells.resize(1);
  t.cells[0].pcap = "out/a,b.pcap";
  EXPECT_EQ(sweep_csv(t, true),
            "sweep,point,proxies[*].delayed_close_timeout,client.profile,status,profile,code,"
            "was_clean,mechanism,pcap\n"
            "s,1,0s,chrome,PASS,chrome-legacy,4321,true,clean,\"out/a,b.pcap\"\n");
}

TEST(SweepReport, TheHtmlMatrixColoursAndLinksEveryCell) {
  SweepTable t = threshold();
  t.values[1][0] = "<chrome>";
  for (auto& c : t.cells)
    if (c.values[1] == "chrome") c.values[1] = "<chrome>";
  t.cells[0].failed = {"x"};
  t.cells[0].status = "FAIL";
  const HtmlSection s = sweep_html(t, "m1", [](const SweepCell& c) { return "#" + c.name; });
  std::size_t links = 0, bad = 0;
  for (std::size_t at = 0; (at = s.body.find("<td class=", at)) != std::string::npos; ++at) {
    ++links;
    bad += s.body.compare(at, 15, "<td class=\"bad\"") == 0;
  }
  EXPECT_EQ(links, 8u);
  EXPECT_EQ(bad, 2u);
  EXPECT_NE(s.body.find("<td class=\"ok failed\""), std::string::npos);
  EXPECT_NE(s.body.find("href=\"#s-p8\""), std::string::npos);
  EXPECT_NE(s.body.find("&lt;chrome&gt;"), std::string::npos);
  EXPECT_EQ(s.body.find("<chrome>"), std::string::npos);
  EXPECT_NE(s.index.find("FAIL"), std::string::npos);  // not every point passed
}

}  // namespace
}  // namespace closewire::report
