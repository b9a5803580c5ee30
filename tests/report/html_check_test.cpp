// The judgements of the HTML report's real-browser test, without a browser: counts from a run's
// JSON agree with the ladder drawn from the same legs, and a wrong count, an overlap, a foreign
// URL or a non-PNG are told apart from the good ones.
#include "tests/report/html_check.h"

#include <gtest/gtest.h>

#include "harness/report/chain_report.h"
#include "harness/report/html_report.h"
#include "harness/report/json_report.h"
#include "tests/support/event_builder.h"

namespace closewire {
namespace {

using testing::ev;

// Two chains: a two-leg one (0 and 2, through a hop) and a one-leg one (1).
std::vector<Connection> three_legs() {
  std::vector<Connection> legs(3);
  for (std::size_t i = 0; i < 3; ++i) {
    legs[i] = testing::websocket_leg(
        {ev(5, Side::server, kind::close, 4321), ev(6, Side::client, kind::close, 4321),
         ev(7, Side::server, kind::fin), ev(8, Side::client, kind::fin)});
    legs[i].index = i;
    legs[i].client = {"127.0.0.1", static_cast<std::uint16_t>(40000 + i)};
    legs[i].server = {"127.0.0.1", static_cast<std::uint16_t>(i == 2 ? 9000 : 9001)};
  }
  legs[1].events.push_back(ev(9, Side::server, kind::rst));
  return legs;
}

// As `closewire replay --json` writes a capture.
nlohmann::json replay_output(const std::vector<Connection>& legs,
                             const std::vector<Chain>& chains) {
  nlohmann::json capture = {{"file", "x.pcap"},
                            {"connections", nlohmann::json::array()},
                            {"chains", nlohmann::json::array()}};
  for (const auto& c : legs) capture["connections"].push_back(report::connection_json(c));
  for (const auto& c : chains)
    capture["chains"].push_back(report::chain_json(legs, c, diagnose(legs, c)));
  return {{"captures", {capture}}};
}

TEST(HtmlCheck, CountsFromTheJsonAreWhatTheLadderDraws) {
  const auto legs = three_legs();
  const std::vector<Chain> chains = {chain_of(legs, {0, 2}), chain_of(legs, {1})};
  std::size_t arrows = 0;
  for (const auto& c : chains)
    arrows += report::ladder(legs, c, report::endpoint_names(legs, c)).arrows.size();
  const auto counts = htmlcheck::expected_counts(replay_output(legs, chains));
  EXPECT_EQ(counts.chains, 2u);
  EXPECT_EQ(counts.arrows, arrows);
  EXPECT_EQ(counts.arrows, 3u * 6 + 1);  // upgrades, Closes and FINs on each leg; one RST
}

TEST(HtmlCheck, ARunsScenariosCountTheirLegsAndSkipTheUnjudged) {
  const auto legs = three_legs();
  const auto replayed = replay_output(legs, {chain_of(legs, {1})});
  nlohmann::json scenario = {{"scenario", "a"},
                             {"legs", replayed["captures"][0]["connections"]},
                             {"chains", replayed["captures"][0]["chains"]}};
  const nlohmann::json run = {
      {"scenarios", {scenario, {{"scenario", "b"}, {"skipped", "a page cannot ping"}}}}};
  const auto counts = htmlcheck::expected_counts(run);
  EXPECT_EQ(counts.chains, 1u);
  EXPECT_EQ(counts.arrows, 7u);
}

TEST(HtmlCheck, AChainNamingAMissingLegOrAnUnknownShapeThrows) {
  const auto legs = three_legs();
  auto output = replay_output(legs, {chain_of(legs, {1})});
  output["captures"][0]["chains"][0]["legs"] = {7};
  EXPECT_THROW(htmlcheck::expected_counts(output), std::runtime_error);
  EXPECT_THROW(htmlcheck::expected_counts(nlohmann::json::parse(R"({"legs": 1})")),
               std::runtime_error);
  EXPECT_THROW(htmlcheck::expected_counts(
                   nlohmann::json::parse(R"({"captures": [{"chains": [{"legs": [0]}]}]})")),
               std::runtime_error);  // no "connections"
}

TEST(HtmlCheck, ConsoleErrorsExceptionsLogErrorsAndFailedLoadsAreEachOneLine) {
  const auto events = nlohmann::json::parse(R"([
    {"method": "Runtime.consoleAPICalled", "params": {"type": "log", "args": [{"type": "string", "value": "fine"}]}},
    {"method": "Runtime.consoleAPICalled", "params": {"type": "error", "args": [{"type": "string", "value": "boom"}, {"type": "number", "value": 2}]}},
    {"method": "Runtime.exceptionThrown", "params": {"exceptionDetails": {"text": "Uncaught", "url": "file:///r/p.html", "lineNumber": 341, "exception": {"description": "TypeError: x is null\n    at file:///r/p.html:342:14"}}}},
    {"method": "Log.entryAdded", "params": {"entry": {"level": "warning", "source": "other", "text": "meh"}}},
    {"method": "Log.entryAdded", "params": {"entry": {"level": "error", "source": "network", "text": "Failed to load", "url": "file:///r/a.css"}}},
    {"method": "Network.requestWillBeSent", "params": {"requestId": "7", "request": {"url": "file:///r/a.css"}}},
    {"method": "Network.loadingFailed", "params": {"requestId": "7", "errorText": "net::ERR_FILE_NOT_FOUND"}},
    {"method": "Page.loadEventFired", "params": {}}
  ])");
  const auto errors = htmlcheck::page_errors(events.get<std::vector<nlohmann::json>>());
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "console.error: boom 2",
                        "uncaught exception: TypeError: x is null at file:///r/p.html:342",
                        "log error (network): Failed to load at file:///r/a.css",
                        "failed to load file:///r/a.css: net::ERR_FILE_NOT_FOUND"}));
  EXPECT_TRUE(htmlcheck::page_errors({events[0], events[3], events[7]}).empty());
}

TEST(HtmlCheck, EveryRequestButThePageItselfIsNamed) {
  const auto events = nlohmann::json::parse(R"([
    {"method": "Network.requestWillBeSent", "params": {"requestId": "1", "request": {"url": "file:///r/p.html"}}},
    {"method": "Network.responseReceived", "params": {"requestId": "1"}},
    {"method": "Network.requestWillBeSent", "params": {"requestId": "2", "request": {"url": "file:///r/a.png"}}}
  ])")
                          .get<std::vector<nlohmann::json>>();
  EXPECT_EQ(htmlcheck::requests_besides(events, "file:///r/p.html"),
            std::vector<std::string>{"file:///r/a.png"});
  EXPECT_TRUE(htmlcheck::requests_besides({events[0], events[1]}, "file:///r/p.html").empty());
}

TEST(HtmlCheck, OverlapsAreFoundAndTouchingIsNot) {
  using htmlcheck::TextBox;
  // Rows 22 px apart with 14 px labels, a label at the left: none overlap.
  std::vector<TextBox> boxes = {{"FIN", 200, 10, 22, 14},
                                {"FIN", 200, 32, 22, 14},
                                {"0.043", 8, 10, 40, 14},
                                {"edge", 222, 10, 10, 14}};
  EXPECT_FALSE(htmlcheck::first_overlap(boxes, 0.5));
  boxes.push_back({"empty", 205, 12, 0, 0});  // no area: not a label
  EXPECT_FALSE(htmlcheck::first_overlap(boxes, 0.5));
  boxes.push_back({"hold 1,000.0 ms", 190, 40, 90, 14});
  const auto pair = htmlcheck::first_overlap(boxes, 0.5);
  ASSERT_TRUE(pair);
  EXPECT_EQ(pair->first, 1u);
  EXPECT_EQ(pair->second, 5u);
}

TEST(HtmlCheck, FileUrlsRoundTripAndOtherSchemesAreNotFiles) {
  const std::string path = "/tmp/a b/ré%port.html";
  EXPECT_EQ(htmlcheck::file_url(path), "file:///tmp/a%20b/r%C3%A9%25port.html");
  EXPECT_EQ(htmlcheck::file_url_path(htmlcheck::file_url(path)), path);
  EXPECT_EQ(htmlcheck::file_url_path("file:///x/y.pcap#top"), "/x/y.pcap");
  EXPECT_FALSE(htmlcheck::file_url_path("https://example.com/y.pcap"));
  EXPECT_FALSE(htmlcheck::file_url_path("file://host/y.pcap"));
  EXPECT_FALSE(htmlcheck::file_url_path("file:///bad%2"));
}

TEST(HtmlCheck, ScreenshotBytesDecodeAndArePngOnlyWithTheSignature) {
  EXPECT_EQ(htmlcheck::base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(htmlcheck::base64_decode("iVBORw0KGgo="), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_TRUE(htmlcheck::is_png(htmlcheck::base64_decode("iVBORw0KGgoAAAA=")));
  EXPECT_FALSE(htmlcheck::is_png("GIF89a.."));
  EXPECT_FALSE(htmlcheck::is_png(""));
  EXPECT_THROW(htmlcheck::base64_decode("a*b"), std::runtime_error);
}

}  // namespace
}  // namespace closewire
