// Real Chromium in the client slot: a page of the shared browser, with its own DevTools
// connection, evaluates the WebSocket probe (Runtime.evaluate with awaitPromise).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "harness/real/browser_client.h"
#include "harness/real/chromium.h"

namespace closewire::real {

// Opens a page and connects to it now (before the capture starts); throws EnvironmentError.
// `origin_page` (e.g. "https://127.0.0.1:PORT/"): the page loads it before it opens the WebSocket
// (BrowserPage::navigate_method), so an h2 connection to the origin carries the WebSocket.
std::unique_ptr<BrowserClient> open_chromium_client(
    boost::asio::io_context& io, std::shared_ptr<Chromium> browser, const std::string& url,
    std::chrono::milliseconds give_up, const std::optional<PageClose>& close = std::nullopt,
    const std::string& origin_page = "");

// Page.navigate's result ({frameId, loaderId, errorText?}): "" when the page loaded, else why not.
std::string chromium_navigation_error(const nlohmann::json& result);

// Runtime.evaluate's result ({result: {value}} or {exceptionDetails}) as an outcome.
BrowserOutcome chromium_evaluation_outcome(const nlohmann::json& result,
                                           std::chrono::milliseconds give_up);

}  // namespace closewire::real
