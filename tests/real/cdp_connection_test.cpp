// The DevTools connection against a scripted endpoint: a call's answer among events, the events
// kept in order for whoever takes them, waiting for one event, and the timeout.
#include "harness/real/cdp_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <thread>

#include "harness/real/process.h"

namespace closewire::real {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

using Replies = std::vector<std::string>;

// A DevTools endpoint that answers the n-th request with script[n]: messages sent in order, "ID"
// in them replaced by the request's id. Then it reads until the client goes.
class ScriptedDevTools {
 public:
  explicit ScriptedDevTools(std::vector<Replies> script)
      : script_(std::move(script)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedDevTools() { thread_.join(); }

  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/devtools/x";
  }

 private:
  void serve() {
    try {
      beast::websocket::stream<tcp::socket> ws(acceptor_.accept());
      ws.accept();
      for (const auto& replies : script_) {
        beast::flat_buffer in;
        ws.read(in);
        const auto request = nlohmann::json::parse(beast::buffers_to_string(in.data()));
        for (std::string m : replies) {
          const auto at = m.find("ID");
          if (at != std::string::npos) m.replace(at, 2, std::to_string(request["id"].get<int>()));
          ws.write(asio::buffer(m));
        }
      }
      for (beast::flat_buffer in;;) ws.read(in);
    } catch (const std::exception&) {
      // The client went.
    }
  }

  std::vector<Replies> script_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

std::vector<std::string> methods(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.value("method", "?"));
  return out;
}

TEST(CdpConnection, ACallKeepsTheEventsReadBeforeItsAnswer) {
  ScriptedDevTools devtools(
      {Replies{R"({"method":"Runtime.consoleAPICalled","params":{"type":"error"}})",
               R"({"method":"Log.entryAdded","params":{}})", R"({"id":ID,"result":{"ok":true}})"}});
  CdpConnection c(devtools.url(), 2s);
  EXPECT_EQ(c.call("Runtime.enable", nlohmann::json::object(), 2s), nlohmann::json({{"ok", true}}));
  const auto events = c.take_events();
  EXPECT_EQ(methods(events),
            (std::vector<std::string>{"Runtime.consoleAPICalled", "Log.entryAdded"}));
  EXPECT_EQ(events[0]["params"]["type"], "error");
  EXPECT_TRUE(c.take_events().empty());  // taken
}

TEST(CdpConnection, WaitForEventReadsUntilItComesAndKeepsWhatCameBefore) {
  ScriptedDevTools devtools(
      {Replies{R"({"id":ID,"result":{}})", R"({"method":"Runtime.exceptionThrown","params":{}})",
               R"({"method":"Page.loadEventFired","params":{"timestamp":1}})"}});
  CdpConnection c(devtools.url(), 2s);
  c.call("Page.navigate", {{"url", "file:///x"}}, 2s);
  const auto load = c.wait_for_event("Page.loadEventFired", 2s);
  EXPECT_EQ(load["params"]["timestamp"], 1);
  EXPECT_EQ(methods(c.take_events()),
            (std::vector<std::string>{"Runtime.exceptionThrown", "Page.loadEventFired"}));
}

TEST(CdpConnection, WaitForEventFindsOneAlreadyKept) {
  ScriptedDevTools devtools(
      {Replies{R"({"method":"Page.loadEventFired","params":{}})", R"({"id":ID,"result":{}})"}});
  CdpConnection c(devtools.url(), 2s);
  c.call("Page.navigate", {{"url", "file:///x"}}, 2s);
  // Nothing more comes: it is found among the kept events, not read.
  EXPECT_EQ(c.wait_for_event("Page.loadEventFired", 100ms)["method"], "Page.loadEventFired");
}

TEST(CdpConnection, WaitForEventGivesUpAtItsTimeout) {
  ScriptedDevTools devtools({Replies{R"({"id":ID,"result":{}})"}});
  CdpConnection c(devtools.url(), 2s);
  c.call("Page.navigate", {{"url", "file:///x"}}, 2s);
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_THROW(c.wait_for_event("Page.loadEventFired", 200ms), EnvironmentError);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
}

TEST(CdpConnection, AnErrorAnswerThrowsWithItsMessage) {
  ScriptedDevTools devtools(
      {Replies{R"({"id":ID,"error":{"code":-32601,"message":"no such method"}})"}});
  CdpConnection c(devtools.url(), 2s);
  try {
    c.call("Nope.nothing", nlohmann::json::object(), 2s);
    FAIL() << "no throw";
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("no such method"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace closewire::real
