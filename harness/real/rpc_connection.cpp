#include "harness/real/rpc_connection.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "harness/real/process.h"

namespace closewire::real {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

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

std::string rpc_answer_error(const json& answer) {
  if (!answer.is_object()) return "the answer is not a JSON object";
  if (!answer.contains("error") && answer.value("type", "") != "error") return "";
  const json& e = answer.contains("error") ? answer["error"] : json();
  if (e.is_object()) return e.value("message", e.dump());  // DevTools
  std::string why = e.is_string() ? e.get<std::string>() : "error";
  if (answer.contains("message") && answer["message"].is_string() &&
      !answer["message"].get<std::string>().empty())
    why += ": " + answer["message"].get<std::string>();
  return why;
}

struct RpcConnection::Impl {
  explicit Impl(std::string p) : protocol(std::move(p)) {}

  struct Pending {
    std::string method;
    Answer answer;
  };

  std::string protocol;
  asio::io_context io;
  // Keeps the thread's io.run() going after a failure, so answers to later calls still run (not
  // before the thread starts: run() below ends when its operation has).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  std::deque<std::string> outbox;  // the connection's thread only; front() is being written
  std::thread thread;

  std::mutex mutex;  // guards what follows
  int next_id = 1;
  std::map<int, Pending> pending;
  std::string broken;  // why the connection ended; "" while it is up
  std::function<void(const json&)> event_handler;

  // Before the thread starts: async operations on the io_context, run for at most the timeout
  // (the way to bound a Beast operation without a second thread).
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
          fmt::format("{} {}: no answer within {} ms", protocol, what, timeout.count()));
    }
    if (*result)
      throw EnvironmentError(fmt::format("{} {}: {}", protocol, what, result->message()));
  }

  void read() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      if (ec) return fail("connection lost: " + ec.message());
      const auto m = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      buffer.consume(buffer.size());
      deliver(m);
      read();
    });
  }

  void write() {
    ws.async_write(asio::buffer(outbox.front()), [this](beast::error_code ec, std::size_t) {
      if (ec) return fail("connection lost: " + ec.message());
      outbox.pop_front();
      if (!outbox.empty()) write();
    });
  }

  void deliver(const json& m) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_number_integer()) {  // an event
      std::function<void(const json&)> handler;
      {
        std::lock_guard lock(mutex);
        handler = event_handler;
      }
      if (handler && m.is_object()) handler(m);
      return;
    }
    Pending p;
    {
      std::lock_guard lock(mutex);
      const auto it = pending.find(m["id"].get<int>());
      if (it == pending.end()) return;  // its caller gave up waiting
      p = std::move(it->second);
      pending.erase(it);
    }
    const std::string why = rpc_answer_error(m);
    p.answer(m.value("result", json::object()),
             why.empty() ? "" : fmt::format("{} {}: {}", protocol, p.method, why));
  }

  void fail(const std::string& why) {
    std::map<int, Pending> due;
    {
      std::lock_guard lock(mutex);
      if (broken.empty()) broken = why;
      due.swap(pending);
    }
    for (auto& [id, p] : due)
      p.answer(json::object(), fmt::format("{} {}: {}", protocol, p.method, why));
  }
};

RpcConnection::RpcConnection(std::string protocol, const std::string& ws_url,
                             std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(protocol))) {
  const std::string& name = impl_->protocol;
  WsUrl u;
  try {
    u = parse_ws_url(ws_url);
  } catch (const std::exception& e) {
    throw EnvironmentError(fmt::format("{}: {}", name, e.what()));
  }
  auto& ws = impl_->ws;
  tcp::resolver resolver(impl_->io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) throw EnvironmentError(fmt::format("{}: resolve {}: {}", name, u.host, ec.message()));
  impl_->run(
      [&](auto handler) {
        beast::get_lowest_layer(ws).async_connect(endpoints, std::move(handler));
      },
      timeout, "connect");
  beast::get_lowest_layer(ws).expires_never();
  // A page's whole result may come in one frame; no Origin header is sent, which DevTools accepts
  // without --remote-allow-origins and WebDriver BiDi accepts as it is.
  ws.read_message_max(64 * 1024 * 1024);
  const std::string host = u.host + ":" + u.port;
  impl_->run([&](auto handler) { ws.async_handshake(host, u.path, std::move(handler)); }, timeout,
             "handshake");
  beast::get_lowest_layer(ws).expires_never();  // calls wait as long as their callers choose
  impl_->read();
  impl_->io.restart();
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

RpcConnection::~RpcConnection() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

void RpcConnection::on_event(std::function<void(const json& event)> handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->event_handler = std::move(handler);
}

void RpcConnection::async_call(const std::string& method, const json& params, Answer on_answer) {
  Impl& impl = *impl_;
  std::string request;
  std::string broken;
  {
    std::lock_guard lock(impl.mutex);
    broken = impl.broken;
    if (broken.empty()) {
      const int id = impl.next_id++;
      impl.pending[id] = Impl::Pending{method, std::move(on_answer)};
      request = json{{"id", id}, {"method", method}, {"params", params}}.dump();
    }
  }
  if (!broken.empty()) {
    // Still on the connection's thread, as every answer.
    asio::post(impl.io, [on_answer = std::move(on_answer),
                         why = fmt::format("{} {}: {}", impl.protocol, method, broken)] {
      on_answer(json::object(), why);
    });
    return;
  }
  asio::post(impl.io, [&impl, request = std::move(request)]() mutable {
    impl.outbox.push_back(std::move(request));
    if (impl.outbox.size() == 1) impl.write();
  });
}

json RpcConnection::call(const std::string& method, const json& params,
                         std::chrono::milliseconds timeout) {
  // Shared with the answer: it may come after this call gave up.
  auto answer = std::make_shared<std::promise<std::pair<json, std::string>>>();
  auto future = answer->get_future();
  async_call(method, params, [answer](const json& result, const std::string& error) {
    answer->set_value({result, error});
  });
  if (future.wait_for(timeout) != std::future_status::ready) {
    throw EnvironmentError(
        fmt::format("{} {}: no answer within {} ms", impl_->protocol, method, timeout.count()));
  }
  auto [result, error] = future.get();
  if (!error.empty()) throw EnvironmentError(error);
  return result;
}

}  // namespace closewire::real
