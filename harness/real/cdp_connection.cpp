#include "harness/real/cdp_connection.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <optional>

#include "harness/real/process.h"

namespace closewire::real {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

WsUrl parse_ws_url(const std::string& url) {
  const std::string scheme = "ws://";
  if (!url.starts_with(scheme)) throw std::runtime_error("not a ws:// URL: " + url);
  const std::size_t slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash - scheme.size());
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("no port in " + url);
  WsUrl u;
  u.host = authority.substr(0, colon);
  if (u.host.size() > 1 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  u.port = authority.substr(colon + 1);
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  return u;
}

// Async operations on a private io_context, run for at most the timeout: the way to bound a
// Beast operation without a second thread.
struct CdpConnection::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  int next_id = 1;

  template <class Op>
  void run(Op op, std::chrono::milliseconds timeout, const char* what) {
    std::optional<beast::error_code> result;
    beast::get_lowest_layer(ws).expires_after(timeout);
    op([&](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run_for(timeout + std::chrono::milliseconds(100));
    if (!result) {
      // Let the handler run (aborted) while `result` still exists.
      beast::get_lowest_layer(ws).close();
      io.restart();
      io.run();
      throw EnvironmentError(
          fmt::format("DevTools {}: no answer within {} ms", what, timeout.count()));
    }
    if (*result) throw EnvironmentError(fmt::format("DevTools {}: {}", what, result->message()));
  }

  // One message, read before `deadline`; anything but a JSON object comes back as null.
  nlohmann::json read(std::chrono::steady_clock::time_point deadline,
                      std::chrono::milliseconds timeout, const std::string& what) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw EnvironmentError(
          fmt::format("DevTools {}: no answer within {} ms", what, timeout.count()));
    buffer.clear();
    run([&](auto handler) { ws.async_read(buffer, std::move(handler)); }, left, what.c_str());
    auto message = nlohmann::json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
    return message.is_object() ? message : nlohmann::json();
  }
};

CdpConnection::CdpConnection(const std::string& ws_url, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  WsUrl u;
  try {
    u = parse_ws_url(ws_url);
  } catch (const std::exception& e) {
    throw EnvironmentError(fmt::format("DevTools: {}", e.what()));
  }
  auto& ws = impl_->ws;
  tcp::resolver resolver(impl_->io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) throw EnvironmentError(fmt::format("DevTools: resolve {}: {}", u.host, ec.message()));
  impl_->run(
      [&](auto handler) {
        beast::get_lowest_layer(ws).async_connect(endpoints, std::move(handler));
      },
      timeout, "connect");
  beast::get_lowest_layer(ws).expires_never();
  // Chromium's frames can be large (a page's whole result); no Origin header is sent, which
  // DevTools accepts without --remote-allow-origins.
  ws.read_message_max(64 * 1024 * 1024);
  const std::string host = u.host + ":" + u.port;
  impl_->run([&](auto handler) { ws.async_handshake(host, u.path, std::move(handler)); }, timeout,
             "handshake");
}

CdpConnection::~CdpConnection() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

void CdpConnection::keep(nlohmann::json event) {
  if (events_.size() == kMaxKeptEvents) events_.pop_front();
  events_.push_back(std::move(event));
}

nlohmann::json CdpConnection::call(const std::string& method, const nlohmann::json& params,
                                   std::chrono::milliseconds timeout) {
  const int id = impl_->next_id++;
  const std::string request =
      nlohmann::json{{"id", id}, {"method", method}, {"params", params}}.dump();
  auto& ws = impl_->ws;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  impl_->run([&](auto handler) { ws.async_write(asio::buffer(request), std::move(handler)); },
             timeout, method.c_str());
  for (;;) {
    auto message = impl_->read(deadline, timeout, method);
    if (message.contains("method")) {
      keep(std::move(message));
      continue;
    }
    if (!message.contains("id") || message["id"] != id) continue;  // an earlier call's, late
    if (message.contains("error")) {
      throw EnvironmentError(fmt::format(
          "DevTools {}: {}", method, message["error"].value("message", message["error"].dump())));
    }
    return message.value("result", nlohmann::json::object());
  }
}

nlohmann::json CdpConnection::wait_for_event(const std::string& method,
                                             std::chrono::milliseconds timeout) {
  for (const auto& e : events_)
    if (e.value("method", "") == method) return e;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string what = "event " + method;
  for (;;) {
    auto message = impl_->read(deadline, timeout, what);
    if (!message.contains("method")) continue;  // an earlier call's answer, late
    const bool found = message["method"] == method;
    keep(message);
    if (found) return message;
  }
}

std::vector<nlohmann::json> CdpConnection::take_events() {
  std::vector<nlohmann::json> out(std::make_move_iterator(events_.begin()),
                                  std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

}  // namespace closewire::real
