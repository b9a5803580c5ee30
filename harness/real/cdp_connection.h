// A blocking DevTools protocol connection (Boost.Beast WebSocket): one call at a time, each
// bounded by a timeout. Used for the browser-level session; pages use ChromiumClient.
#pragma once

#include <chrono>
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

class CdpConnection {
 public:
  // Connects and does the WebSocket handshake; throws EnvironmentError.
  CdpConnection(const std::string& ws_url, std::chrono::milliseconds timeout);
  ~CdpConnection();
  CdpConnection(const CdpConnection&) = delete;
  CdpConnection& operator=(const CdpConnection&) = delete;

  // Sends {id, method, params} and returns the answer's "result", skipping events; throws
  // EnvironmentError on an "error" answer, a broken connection or the timeout.
  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace closewire::real
