// BrowserClient against a small DevTools-like server on loopback (no browser): a page with a
// navigation loads its origin first and evaluates the probe only once that page loaded (an h2
// run's browser must hold an h2 connection to the origin before it opens the WebSocket).
#include "harness/real/browser_client.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <thread>

#include "harness/real/chromium_client.h"

namespace closewire::real {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// One connection: Page.navigate is answered with `navigation`, Runtime.evaluate with a close
// event 4321 'test' clean. Every method asked for is kept, in order, until the client hangs up.
class FakePage {
 public:
  explicit FakePage(json navigation)
      : navigation_(std::move(navigation)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakePage() { join(); }
  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/page";
  }
  // The methods asked for, once the client has closed the connection.
  std::vector<std::string> methods() {
    join();
    return methods_;
  }

 private:
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  void serve() {
    beast::websocket::stream<tcp::socket> ws(acceptor_.accept());
    ws.accept();
    for (;;) {
      beast::flat_buffer buffer;
      beast::error_code ec;
      ws.read(buffer, ec);
      if (ec) return;
      const json m = json::parse(beast::buffers_to_string(buffer.data()));
      methods_.push_back(m.value("method", ""));
      json result = navigation_;
      if (methods_.back() == "Runtime.evaluate") {
        result = {{"result",
                   {{"type", "object"},
                    {"value",
                     {{"open_ms", 1},
                      {"error_ms", -1},
                      {"code", 4321},
                      {"reason", "test"},
                      {"wasClean", true},
                      {"close_ms", 2}}}}}};
      }
      ws.write(asio::buffer(json{{"id", m["id"]}, {"result", result}}.dump()));
    }
  }

  json navigation_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::vector<std::string> methods_;
};

BrowserPage page_on(const FakePage& fake, bool navigate) {
  BrowserPage p;
  p.connection = std::make_shared<RpcConnection>("DevTools", fake.url(), 2000ms);
  if (navigate) {
    p.navigate_method = "Page.navigate";
    p.navigate_params = {{"url", "https://127.0.0.1:1/"}};
    p.read_navigation = chromium_navigation_error;
  }
  p.method = "Runtime.evaluate";
  p.params = json::object();
  p.read_result = [](const json& r) { return chromium_evaluation_outcome(r, 1000ms); };
  return p;
}

// Runs the client until it finished; its outcome.
BrowserOutcome run(BrowserPage page) {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  BrowserClient client(io, std::move(page));
  client.on_finished([&] { io.stop(); });
  client.start();
  io.run();
  EXPECT_TRUE(client.finished());
  client.stop();  // closes the page's connection: the fake's list is complete
  return client.outcome().value_or(BrowserOutcome{});
}

TEST(BrowserClient_Navigation, ThePageLoadsItsOriginBeforeTheProbe) {
  FakePage fake({{"frameId", "F"}, {"loaderId", "L"}});
  const BrowserOutcome o = run(page_on(fake, true));
  ASSERT_TRUE(o.code) << o.error;
  EXPECT_EQ(*o.code, 4321);
  EXPECT_EQ(fake.methods(), (std::vector<std::string>{"Page.navigate", "Runtime.evaluate"}));
}

TEST(BrowserClient_Navigation, APageThatDidNotLoadIsTheOutcomesErrorAndNoProbeRuns) {
  FakePage fake({{"frameId", "F"}, {"errorText", "net::ERR_CONNECTION_REFUSED"}});
  const BrowserOutcome o = run(page_on(fake, true));
  EXPECT_FALSE(o.code);
  EXPECT_EQ(o.error,
            "the page of the WebSocket's origin did not load: net::ERR_CONNECTION_REFUSED");
  EXPECT_EQ(fake.methods(), std::vector<std::string>{"Page.navigate"});
}

TEST(BrowserClient_Navigation, WithoutANavigationOnlyTheProbeRuns) {
  FakePage fake(json::object());
  const BrowserOutcome o = run(page_on(fake, false));
  ASSERT_TRUE(o.code) << o.error;
  EXPECT_EQ(fake.methods(), std::vector<std::string>{"Runtime.evaluate"});
}

}  // namespace
}  // namespace closewire::real
