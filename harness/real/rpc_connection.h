// A connection to a browser's remote protocol over one WebSocket (Boost.Beast): Chromium's
// DevTools and Firefox's WebDriver BiDi both take {id, method, params} and answer by id. Its own
// thread reads and writes, so calls from any thread may be in flight at once: WebDriver BiDi
// allows one connection per browser, which every scenario of a run shares.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace closewire::real {

// ws://HOST:PORT/PATH split into its parts.
struct WsUrl {
  std::string host;
  std::string port;
  std::string path;
};
WsUrl parse_ws_url(const std::string& url);  // throws std::runtime_error

// Why an answer is an error, in one line; "" for a success. DevTools answers
// {id, error: {code, message}}, WebDriver BiDi {type: "error", id, error, message}.
std::string rpc_answer_error(const nlohmann::json& answer);

class RpcConnection {
 public:
  // `result` is the answer's "result"; `error` is "" or why the call failed, as
  // "PROTOCOL METHOD: why" (an error answer, or the connection broke).
  using Answer = std::function<void(const nlohmann::json& result, const std::string& error)>;

  // Connects and does the WebSocket handshake within `timeout`; throws EnvironmentError.
  // `protocol` names it in errors ("DevTools", "WebDriver BiDi").
  RpcConnection(std::string protocol, const std::string& ws_url, std::chrono::milliseconds timeout);
  ~RpcConnection();  // closes; answers still due are dropped, never called
  RpcConnection(const RpcConnection&) = delete;
  RpcConnection& operator=(const RpcConnection&) = delete;

  // Sends {id, method, params}; `on_answer` runs once on the connection's thread (events are
  // skipped). It must not own the connection: the last owner would join its own thread.
  void async_call(const std::string& method, const nlohmann::json& params, Answer on_answer);
  // Waits for the answer's "result"; throws EnvironmentError on an error answer, a broken
  // connection or the timeout.
  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      std::chrono::milliseconds timeout);

  // Every event (a message without an id) from now on goes to `handler`, on the connection's
  // thread; without one they are dropped. Set it before the call that enables them.
  void on_event(std::function<void(const nlohmann::json& event)> handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace closewire::real
