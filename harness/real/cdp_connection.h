// A blocking DevTools protocol connection (Boost.Beast WebSocket): one call at a time, each
// bounded by a timeout. Used for the browser-level session and for pages checked from outside
// (the HTML report's test); pages in a scenario use ChromiumClient.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

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

  // Sends {id, method, params} and returns the answer's "result"; the events read meanwhile are
  // kept (take_events). Throws EnvironmentError on an "error" answer, a broken connection or the
  // timeout.
  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      std::chrono::milliseconds timeout);

  // The first kept event named `method` ({"method", "params"}), reading more until it comes; it
  // stays kept. Throws EnvironmentError on a broken connection or the timeout.
  nlohmann::json wait_for_event(const std::string& method, std::chrono::milliseconds timeout);

  // Every event kept so far, oldest first, and none kept after.
  std::vector<nlohmann::json> take_events();

  // A session nobody takes events from (the browser's) stays bounded: past this many, the oldest
  // are dropped.
  static constexpr std::size_t kMaxKeptEvents = 10000;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::deque<nlohmann::json> events_;
  void keep(nlohmann::json event);
};

}  // namespace closewire::real
