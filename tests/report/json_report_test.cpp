#include "harness/report/json_report.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace closewire::report {
namespace {

Connection leg_with_close(std::string reason) {
  Connection c;
  c.client = {"::1", 40000};
  c.server = {"::1", 9800};
  c.websocket = true;
  c.start = 1'700'000'000 * kNanosPerSecond;
  Event close;
  close.t = c.start + 3 * kNanosPerMilli;
  close.from = Side::server;
  close.kind = std::string(kind::close);
  close.code = 4321;
  close.reason = std::move(reason);
  Event fin;
  fin.t = c.start + 5 * kNanosPerMilli;
  fin.kind = std::string(kind::fin);
  c.events = {close, fin};
  return c;
}

TEST(JsonReport, ConnectionHasTheStableNames) {
  const auto j = connection_json(leg_with_close("test"));
  EXPECT_EQ(j["client"], "[::1]:40000");
  EXPECT_EQ(j["server"], "[::1]:9800");
  EXPECT_EQ(j["websocket"], true);
  ASSERT_EQ(j["events"].size(), 2u);
  EXPECT_EQ(j["events"][0]["kind"], "ws.close");
  EXPECT_EQ(j["events"][0]["from"], "server");
  EXPECT_EQ(j["events"][0]["code"], 4321);
  EXPECT_EQ(j["events"][0]["reason"], "test");
  EXPECT_DOUBLE_EQ(j["events"][0]["ms"].get<double>(), 3.0);
  EXPECT_EQ(j["events"][0]["t_ns"], 1'700'000'000 * kNanosPerSecond + 3 * kNanosPerMilli);
  // The server's Close, then the client's FIN with no reply and no server FIN: each profile's
  // verdict with its own values (legacy Chrome's close timeout, Firefox still waiting to reply).
  const auto& v = j["verdicts"];
  EXPECT_EQ(v["chrome"]["code"], 4321);
  EXPECT_EQ(v["chrome"]["was_clean"], true);
  EXPECT_EQ(v["chrome"]["error_event"], false);
  EXPECT_EQ(v["chrome-legacy"]["code"], 1006);
  EXPECT_EQ(v["chrome-legacy"]["was_clean"], false);
  EXPECT_EQ(v["chrome-legacy"]["closed"], true);
  EXPECT_EQ(v["firefox"]["closed"], false);
  EXPECT_TRUE(v["firefox"]["code"].is_null());
  EXPECT_FALSE(v["firefox"].contains("error_event"));
  EXPECT_EQ(v["safari"]["code"], 4321);
  EXPECT_EQ(v["safari"]["reason"], "test");
  EXPECT_EQ(v["safari"]["was_clean"], true);
  EXPECT_FALSE(v["safari"].contains("error_event"));  // not known for Safari
  EXPECT_EQ(v["rfc"]["was_clean"], true);
}

TEST(JsonReport, StreamIsOneValidObjectEvenWithInvalidUtf8) {
  std::FILE* f = std::tmpfile();
  JsonStream s(f);
  s.begin();
  s.begin_capture("caf\xe9.pcap");  // a Latin-1 file name: not UTF-8
  s.connection(leg_with_close(std::string("bad\xff", 4)));
  s.connection(leg_with_close("ok"));
  CaptureSummary summary;
  summary.connections = 2;
  s.end_capture(summary, nullptr);
  s.begin_capture("b.pcap");
  s.end_capture_with_error("b\xff.pcap: not a capture");
  s.end();
  std::rewind(f);
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  std::fclose(f);
  const auto j = nlohmann::json::parse(text);
  ASSERT_EQ(j["captures"].size(), 2u);
  EXPECT_EQ(j["captures"][0]["connections"].size(), 2u);
  EXPECT_EQ(j["captures"][0]["summary"]["connections"], 2);
  EXPECT_EQ(j["captures"][0]["file"], "caf\ufffd.pcap");
  EXPECT_EQ(j["captures"][1]["error"], "b\ufffd.pcap: not a capture");
}

}  // namespace
}  // namespace closewire::report
