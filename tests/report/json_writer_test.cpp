#include "harness/report/json_writer.h"

#include <gtest/gtest.h>

#include "harness/report/json_report.h"

namespace closewire::report {
namespace {

Connection sample(bool websocket, std::string reason) {
  Connection c;
  c.index = 7;
  c.client = {"127.0.0.1", 40000};
  c.server = {"::1", 9800};
  c.websocket = websocket;
  c.start = 1'764'000'000'123'456'789;
  auto add = [&](Nanos dt, Side from, std::string_view k, std::optional<std::uint16_t> code,
                 std::string text, std::string note) {
    Event e;
    e.t = c.start + dt;
    e.from = from;
    e.kind = std::string(k);
    e.code = code;
    (k == kind::close ? e.reason : e.text) = std::move(text);
    e.note = std::move(note);
    e.bytes = code ? 6 : 0;
    e.packet = c.events.size() + 1;
    c.events.push_back(e);
  };
  add(0, Side::client, kind::syn, {}, "", "");
  add(1'500, Side::client, kind::upgrade, {}, "GET /chat HTTP/1.1", "");
  add(3'000'001, Side::server, kind::close, 4321, reason, "");
  add(4'000'000, Side::server, kind::close, std::nullopt, "", std::string(close_note::malformed));
  add(5'000'000, Side::server, kind::rst, {}, "", "peer data unacknowledged: 12 bytes \"x\"\n");
  return c;
}

// The fast writer must say exactly what the JSON tree says.
void expect_same(const Connection& c) {
  std::string fast;
  append_connection_json(fast, c);
  EXPECT_EQ(nlohmann::json::parse(fast), connection_json(c)) << fast;
}

TEST(JsonWriter, SameAsTheJsonTreeForAWebSocketLeg) {
  expect_same(sample(true, "test"));
}

// A TLS leg: its "tls" object, and for one no key opened, the undecided verdicts.
TEST(JsonWriter, SameAsTheJsonTreeForTlsLegs) {
  for (const bool decrypted : {true, false}) {
    Connection c = sample(decrypted, "test");
    c.tls = TlsInfo{"TLS 1.3", "TLS_AES_128_GCM_SHA256", decrypted ? "localhost" : "", decrypted};
    if (!decrypted) {
      Event e = make_event(kind::tls_undecryptable, Side::server, c.start + 10, 9);
      e.note = "no key for this TLS session";
      c.events.push_back(e);
    }
    expect_same(c);
    const nlohmann::json j = connection_json(c);
    EXPECT_EQ(j["tls"]["version"], "TLS 1.3");
    EXPECT_EQ(j["tls"]["decrypted"], decrypted);
    EXPECT_EQ(j["tls"]["sni"].is_null(), !decrypted);
    EXPECT_EQ(j["verdicts"]["chrome"].contains("undecided"), !decrypted) << j.dump();
    if (!decrypted) {
      EXPECT_EQ(j["verdicts"]["chrome"]["why"], "no key for this TLS session");
    }
  }
}

// h2: the connection says "transport": "h2", its stream legs their stream id too; HTTP/1.1 legs
// carry neither.
TEST(JsonWriter, SameAsTheJsonTreeForH2Legs) {
  Connection connection = sample(false, "test");
  connection.h2_connection = true;
  Connection stream = sample(true, "test");
  stream.h2_stream = 7;
  stream.events.push_back(make_event(kind::h2_rst_stream, Side::server, stream.start + 5, 11));
  stream.events.back().text = "CANCEL";
  expect_same(connection);
  expect_same(stream);
  EXPECT_EQ(connection_json(connection)["transport"], "h2");
  EXPECT_FALSE(connection_json(connection).contains("stream"));
  EXPECT_EQ(connection_json(stream)["stream"], 7);
  EXPECT_FALSE(connection_json(sample(true, "test")).contains("transport"));
}

TEST(JsonWriter, SameAsTheJsonTreeForAPlainTcpLeg) {
  expect_same(sample(false, "test"));
}
TEST(JsonWriter, EscapesQuotesControlAndNonAscii) {
  expect_same(sample(true, "a \"b\" \\ c\t ü € \x01\x1f"));
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  std::string fast;
  append_json_string(fast, std::string("bad\xff", 4));
  EXPECT_EQ(nlohmann::json::parse(fast), "bad\xEF\xBF\xBD");
}

}  // namespace
}  // namespace closewire::report
