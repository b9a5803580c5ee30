// The remote-protocol connection against a small WebSocket server on loopback that plays a
// browser: answers by id (in any order), events in between, errors in either protocol's form.
#include "harness/real/rpc_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "harness/real/process.h"

namespace closewire::real {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// One connection: "echo" answers with its params, "hold" is answered after the next request,
// "bidi-error" and "cdp-error" answer with an error, "hang-up" closes the connection. An event
// precedes every answer.
class FakeBrowser {
 public:
  FakeBrowser() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeBrowser() { thread_.join(); }
  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/session";
  }

 private:
  void serve() {
    beast::websocket::stream<tcp::socket> ws(acceptor_.accept());
    ws.accept();
    std::optional<json> held;
    for (;;) {
      beast::flat_buffer buffer;
      beast::error_code ec;
      ws.read(buffer, ec);
      if (ec) return;
      const json m = json::parse(beast::buffers_to_string(buffer.data()));
      const std::string method = m["method"];
      if (method == "hang-up") return ws.close(beast::websocket::close_code::going_away);
      if (method == "hold") {
        held = m;
        continue;
      }
      send(ws, {{"type", "event"}, {"method", "log.entryAdded"}, {"params", json::object()}});
      if (method == "echo") {
        send(ws, {{"type", "success"}, {"id", m["id"]}, {"result", m["params"]}});
      } else if (method == "bidi-error") {
        send(ws, {{"type", "error"},
                  {"id", m["id"]},
                  {"error", "no such frame"},
                  {"message", "Browsing Context with id x not found"}});
      } else {
        send(ws, {{"id", m["id"]}, {"error", {{"code", -32000}, {"message", "No target"}}}});
      }
      if (held) {
        send(ws, {{"type", "success"}, {"id", (*held)["id"]}, {"result", {{"held", true}}}});
        held.reset();
      }
    }
  }
  static void send(beast::websocket::stream<tcp::socket>& ws, const json& m) {
    ws.write(asio::buffer(m.dump()));
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST(RpcConnection_Answers, ReadsErrorsOfBothProtocols) {
  EXPECT_EQ(rpc_answer_error({{"type", "success"}, {"id", 1}, {"result", json::object()}}), "");
  EXPECT_EQ(rpc_answer_error({{"id", 1}, {"result", json::object()}}), "");
  EXPECT_EQ(rpc_answer_error({{"id", 1}, {"error", {{"code", -32000}, {"message", "No target"}}}}),
            "No target");
  EXPECT_EQ(rpc_answer_error({{"type", "error"},
                              {"id", 1},
                              {"error", "session not created"},
                              {"message", "Maximum number of active sessions"}}),
            "session not created: Maximum number of active sessions");
  EXPECT_EQ(rpc_answer_error({{"type", "error"}, {"id", 1}, {"error", "unknown error"}}),
            "unknown error");
  EXPECT_NE(rpc_answer_error(json::array()), "");
}

TEST(RpcConnection_Answers, SplitsAWsUrl) {
  const WsUrl u = parse_ws_url("ws://127.0.0.1:41879/session");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "41879");
  EXPECT_EQ(u.path, "/session");
  EXPECT_EQ(parse_ws_url("ws://[::1]:9222").host, "::1");
  EXPECT_EQ(parse_ws_url("ws://[::1]:9222").path, "/");
  EXPECT_THROW(parse_ws_url("http://127.0.0.1:1/"), std::runtime_error);
}

TEST(RpcConnection_Calls, AnswersByIdPastEventsAndErrors) {
  FakeBrowser browser;
  RpcConnection c("WebDriver BiDi", browser.url(), 2000ms);
  EXPECT_EQ(c.call("echo", {{"context", "a"}}, 2000ms), (json{{"context", "a"}}));
  try {
    c.call("bidi-error", json::object(), 2000ms);
    ADD_FAILURE() << "no error";
  } catch (const EnvironmentError& e) {
    EXPECT_STREQ(e.what(),
                 "WebDriver BiDi bidi-error: no such frame: Browsing Context with id x not found");
  }
  try {
    c.call("cdp-error", json::object(), 2000ms);
    ADD_FAILURE() << "no error";
  } catch (const EnvironmentError& e) {
    EXPECT_STREQ(e.what(), "WebDriver BiDi cdp-error: No target");
  }
}

TEST(RpcConnection_Calls, EventsGoToTheHandlerBeforeTheAnswerAfterThem) {
  FakeBrowser browser;
  RpcConnection c("DevTools", browser.url(), 2000ms);
  EXPECT_EQ(c.call("echo", json::object(), 2000ms), json::object());  // its event is dropped
  std::mutex mutex;
  std::vector<std::string> seen;
  c.on_event([&](const json& e) {
    std::lock_guard lock(mutex);
    seen.push_back(e.value("method", ""));
  });
  // The event precedes the answer on the wire: it has been handed over when the call returns.
  c.call("echo", json::object(), 2000ms);
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(seen, std::vector<std::string>{"log.entryAdded"});
  }
  EXPECT_THROW(c.call("cdp-error", json::object(), 2000ms), EnvironmentError);
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(RpcConnection_Calls, ALaterAnswerDoesNotHoldUpOthers) {
  FakeBrowser browser;
  RpcConnection c("WebDriver BiDi", browser.url(), 2000ms);
  std::promise<json> held;
  c.async_call("hold", json::object(), [&](const json& result, const std::string& error) {
    EXPECT_EQ(error, "");
    held.set_value(result);
  });
  // Another thread's call is answered while the first still waits (BiDi's script.evaluate).
  std::thread other([&] { EXPECT_EQ(c.call("echo", {{"n", 2}}, 2000ms), (json{{"n", 2}})); });
  other.join();
  auto f = held.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get(), (json{{"held", true}}));
}

TEST(RpcConnection_Calls, ABrokenConnectionFailsWhatIsDueAndWhatComes) {
  FakeBrowser browser;
  RpcConnection c("DevTools", browser.url(), 2000ms);
  std::promise<std::string> due;
  c.async_call("hold", json::object(),
               [&](const json&, const std::string& error) { due.set_value(error); });
  c.async_call("hang-up", json::object(), [](const json&, const std::string&) {});
  auto f = due.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_TRUE(f.get().starts_with("DevTools hold: connection lost")) << f.get();
  try {
    c.call("echo", json::object(), 2000ms);
    ADD_FAILURE() << "no error";
  } catch (const EnvironmentError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("DevTools echo: connection lost")) << e.what();
  }
}

TEST(RpcConnection_Calls, NoEndpointIsAnEnvironmentError) {
  EXPECT_THROW(RpcConnection("WebDriver BiDi", "ws://127.0.0.1:1/session", 500ms),
               EnvironmentError);
  EXPECT_THROW(RpcConnection("WebDriver BiDi", "http://127.0.0.1:1/", 500ms), EnvironmentError);
}

}  // namespace
}  // namespace closewire::real
