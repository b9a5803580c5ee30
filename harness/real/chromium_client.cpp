#include "harness/real/chromium_client.h"

#include <fmt/format.h>

namespace closewire::real {

namespace {
constexpr std::chrono::milliseconds kConnectTimeout{10000};
}

std::string chromium_navigation_error(const nlohmann::json& result) {
  return result.value("errorText", "");
}

BrowserOutcome chromium_evaluation_outcome(const nlohmann::json& result,
                                           std::chrono::milliseconds give_up) {
  if (result.contains("exceptionDetails")) {
    const auto& d = result["exceptionDetails"];
    BrowserOutcome o;
    o.error = "the page threw: " + d.value("text", "") + " " +
              d.value("exception", nlohmann::json::object()).value("description", "");
    return o;
  }
  return probe_outcome(
      result.value("result", nlohmann::json::object()).value("value", nlohmann::json::object()),
      give_up);
}

std::unique_ptr<BrowserClient> open_chromium_client(boost::asio::io_context& io,
                                                    std::shared_ptr<Chromium> browser,
                                                    const std::string& url,
                                                    std::chrono::milliseconds give_up,
                                                    const std::optional<PageClose>& close,
                                                    const std::string& origin_page) {
  const ChromiumPage page = browser->open_page();
  BrowserPage p;
  try {
    p.connection = std::make_shared<RpcConnection>("DevTools", page.ws_url, kConnectTimeout);
  } catch (const EnvironmentError& e) {
    browser->close_page(page.target_id);
    throw EnvironmentError(
        fmt::format("chromium: cannot connect to the page's DevTools endpoint: {}", e.what()));
  }
  if (!origin_page.empty()) {
    p.navigate_method = "Page.navigate";
    p.navigate_params = {{"url", origin_page}};
    p.read_navigation = chromium_navigation_error;
  }
  p.method = "Runtime.evaluate";
  p.params = {{"expression", websocket_probe_script(url, give_up, close)},
              {"awaitPromise", true},
              {"returnByValue", true}};
  p.read_result = [give_up](const nlohmann::json& r) {
    return chromium_evaluation_outcome(r, give_up);
  };
  p.close = [browser, target = page.target_id] { browser->close_page(target); };
  return std::make_unique<BrowserClient>(io, std::move(p));
}

}  // namespace closewire::real
