#include "harness/real/chromium_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

namespace closewire::real {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

std::string describe(const BrowserOutcome& o) {
  if (!o.code) return o.error.empty() ? "no close event" : o.error;
  return fmt::format("{} '{}' {}{} (open {:.1f} ms, close {:.1f} ms)", *o.code, o.reason,
                     o.was_clean ? "clean" : "not clean", o.error_event ? " + error event" : "",
                     o.open_ms, o.close_ms);
}

std::string websocket_probe_script(const std::string& url, std::chrono::milliseconds give_up) {
  // Times are from `new WebSocket`; the page reports, it does not act: closewire judges the wire.
  return fmt::format(R"JS(new Promise((resolve) => {{
  const t0 = performance.now();
  const r = {{ open_ms: -1, error_ms: -1 }};
  const ws = new WebSocket({});
  ws.onopen = () => {{ r.open_ms = performance.now() - t0; }};
  ws.onerror = () => {{ r.error_ms = performance.now() - t0; }};
  ws.onclose = (e) => resolve(Object.assign(r, {{
    code: e.code, reason: e.reason, wasClean: e.wasClean, close_ms: performance.now() - t0 }}));
  setTimeout(() => resolve(Object.assign(r, {{ timedOut: true }})), {});
}}))JS",
                     nlohmann::json(url).dump(), give_up.count());
}

struct ChromiumClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::shared_ptr<Chromium> b, std::string u,
       std::chrono::milliseconds g)
      : browser(std::move(b)), url(std::move(u)), give_up(g), ws(io) {}

  std::shared_ptr<Chromium> browser;
  std::string url;
  std::chrono::milliseconds give_up;
  ChromiumPage page;
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::string request;
  std::optional<BrowserOutcome> outcome;
  std::function<void()> finished_cb;
  bool stopped = false;

  void connect() {
    page = browser->open_page();
    const WsUrl u = parse_ws_url(page.ws_url);
    tcp::resolver resolver(ws.get_executor());
    // Blocking: the io_context is not running yet, and this is loopback.
    beast::get_lowest_layer(ws).connect(resolver.resolve(u.host, u.port));
    ws.read_message_max(64 * 1024 * 1024);
    ws.handshake(u.host + ":" + u.port, u.path);
  }

  void start() {
    nlohmann::json params = {{"expression", websocket_probe_script(url, give_up)},
                             {"awaitPromise", true},
                             {"returnByValue", true}};
    request = nlohmann::json{{"id", 1}, {"method", "Runtime.evaluate"}, {"params", params}}.dump();
    auto self = shared_from_this();
    ws.async_write(asio::buffer(request), [self](beast::error_code ec, std::size_t) {
      if (self->stopped) return;
      if (ec) return self->finish_with_error("DevTools write: " + ec.message());
      self->read();
    });
  }

  void read() {
    auto self = shared_from_this();
    buffer.clear();
    ws.async_read(buffer, [self](beast::error_code ec, std::size_t) {
      if (self->stopped) return;
      if (ec) return self->finish_with_error("DevTools read: " + ec.message());
      const auto m =
          nlohmann::json::parse(beast::buffers_to_string(self->buffer.data()), nullptr, false);
      if (!m.is_object() || m.value("id", 0) != 1) return self->read();  // an event
      self->finish(m);
    });
  }

  void finish(const nlohmann::json& m) {
    BrowserOutcome o;
    if (m.contains("error")) {
      o.error = "DevTools Runtime.evaluate: " + m["error"].value("message", m["error"].dump());
    } else if (m["result"].contains("exceptionDetails")) {
      o.error = "the page threw: " + m["result"]["exceptionDetails"].value("text", "") + " " +
                m["result"]["exceptionDetails"]
                    .value("exception", nlohmann::json::object())
                    .value("description", "");
    } else {
      const auto& v = m["result"]["result"]["value"];
      o.open_ms = v.value("open_ms", -1.0);
      o.error_ms = v.value("error_ms", -1.0);
      o.error_event = o.error_ms >= 0;
      if (v.value("timedOut", false)) {
        o.error = fmt::format("the browser reported no close event within {} ms", give_up.count());
      } else {
        o.code = v.value("code", 0);
        o.reason = v.value("reason", "");
        o.was_clean = v.value("wasClean", false);
        o.close_ms = v.value("close_ms", -1.0);
      }
    }
    outcome = std::move(o);
    if (finished_cb) finished_cb();
  }

  void finish_with_error(std::string why) {
    BrowserOutcome o;
    o.error = std::move(why);
    outcome = std::move(o);
    if (finished_cb) finished_cb();
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    if (!page.target_id.empty()) browser->close_page(page.target_id);
  }
};

ChromiumClient::ChromiumClient(asio::io_context& io, std::shared_ptr<Chromium> browser,
                               std::string url, std::chrono::milliseconds give_up)
    : impl_(std::make_shared<Impl>(io, std::move(browser), std::move(url), give_up)) {
  try {
    impl_->connect();
  } catch (const boost::system::system_error& e) {
    throw EnvironmentError(
        fmt::format("chromium: cannot connect to the page's DevTools endpoint: {}", e.what()));
  }
}

ChromiumClient::~ChromiumClient() {
  stop();
}
void ChromiumClient::start() {
  impl_->start();
}
void ChromiumClient::on_finished(std::function<void()> fn) {
  impl_->finished_cb = std::move(fn);
}
void ChromiumClient::stop() {
  impl_->stop();
}
bool ChromiumClient::finished() const {
  return impl_->outcome.has_value();
}
std::optional<BrowserOutcome> ChromiumClient::outcome() const {
  return impl_->outcome;
}

}  // namespace closewire::real
