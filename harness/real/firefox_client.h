// Real Firefox in the client slot: a tab of the shared browser evaluates the WebSocket probe
// (script.evaluate with awaitPromise) over the browser's one WebDriver BiDi connection.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "harness/real/browser_client.h"
#include "harness/real/firefox.h"

namespace closewire::real {

// Opens a tab now (before the capture starts); throws EnvironmentError. `origin_page`: as in
// open_chromium_client (browsingContext.navigate, waiting for its load).
std::unique_ptr<BrowserClient> open_firefox_client(
    boost::asio::io_context& io, std::shared_ptr<Firefox> browser, const std::string& url,
    std::chrono::milliseconds give_up, const std::optional<PageClose>& close = std::nullopt,
    const std::string& origin_page = "");

// The expression evaluated: the probe, its report turned into a JSON string (BiDi would send an
// object as a list of [key, remote value] pairs).
std::string firefox_probe_expression(const std::string& url, std::chrono::milliseconds give_up,
                                     const std::optional<PageClose>& close = std::nullopt);

// script.evaluate's result ({type: "success", result: {type: "string", value}} or
// {type: "exception", exceptionDetails}) as an outcome.
BrowserOutcome firefox_evaluation_outcome(const nlohmann::json& result,
                                          std::chrono::milliseconds give_up);

}  // namespace closewire::real
