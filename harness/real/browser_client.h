// The real browser in the client slot, Chromium or Firefox: one page evaluates the WebSocket probe
// (websocket_probe.h) over the browser's remote protocol, and the close event it reports comes
// back on the scenario's io_context, so the model endpoints and the browser share one loop.
// chromium_client.h and firefox_client.h fill in the protocol.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "harness/real/rpc_connection.h"
#include "harness/real/websocket_probe.h"

namespace closewire::real {

struct BrowserPage {
  std::shared_ptr<RpcConnection> connection;  // the page's own (DevTools) or the browser's (BiDi)
  // When set, a call made first: loads a page of the WebSocket's own origin, so that the browser
  // holds an HTTP/2 connection to it and sends the WebSocket on that connection (RFC 8441,
  // close-semantics.md §6). `read_navigation` says why the page did not load ("" when it did).
  std::string navigate_method;
  nlohmann::json navigate_params;
  std::function<std::string(const nlohmann::json& result)> read_navigation;
  std::string method;                         // the evaluation of the probe
  nlohmann::json params;
  // The evaluation's answer ("result") as an outcome.
  std::function<BrowserOutcome(const nlohmann::json& result)> read_result;
  std::function<void()> close;  // closes the page; called once, by stop()
};

class BrowserClient {
 public:
  BrowserClient(boost::asio::io_context& io, BrowserPage page);
  ~BrowserClient();  // stop()
  BrowserClient(const BrowserClient&) = delete;
  BrowserClient& operator=(const BrowserClient&) = delete;

  // Loads the page (when the page has a navigation), then sends the evaluation; `on_finished`
  // runs on the io_context with the outcome (a navigation that failed is its error).
  void start();
  void on_finished(std::function<void()> fn);
  void stop();  // abandons the evaluation (a late answer is dropped), closes the page

  bool finished() const;
  std::optional<BrowserOutcome> outcome() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace closewire::real
