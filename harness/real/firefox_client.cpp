#include "harness/real/firefox_client.h"

namespace closewire::real {

std::string firefox_probe_expression(const std::string& url, std::chrono::milliseconds give_up,
                                     const std::optional<PageClose>& close) {
  return "(" + websocket_probe_script(url, give_up, close) + ").then((r) => JSON.stringify(r))";
}

BrowserOutcome firefox_evaluation_outcome(const nlohmann::json& result,
                                          std::chrono::milliseconds give_up) {
  BrowserOutcome o;
  const std::string type = result.value("type", "");
  if (type == "exception") {
    o.error = "the page threw: " +
              result.value("exceptionDetails", nlohmann::json::object()).value("text", "");
    return o;
  }
  const auto value = result.value("result", nlohmann::json::object());
  if (type != "success" || value.value("type", "") != "string") {
    o.error = "script.evaluate did not return the probe's report: " + result.dump();
    return o;
  }
  return probe_outcome(nlohmann::json::parse(value.value("value", ""), nullptr, false), give_up);
}

std::unique_ptr<BrowserClient> open_firefox_client(boost::asio::io_context& io,
                                                   std::shared_ptr<Firefox> browser,
                                                   const std::string& url,
                                                   std::chrono::milliseconds give_up,
                                                   const std::optional<PageClose>& close,
                                                   const std::string& origin_page) {
  BrowserPage p;
  const std::string context = browser->open_context();
  p.connection = browser->connection();
  if (!origin_page.empty()) {
    p.navigate_method = "browsingContext.navigate";
    p.navigate_params = {{"context", context}, {"url", origin_page}, {"wait", "complete"}};
  }
  p.method = "script.evaluate";
  p.params = {{"expression", firefox_probe_expression(url, give_up, close)},
              {"target", {{"context", context}}},
              {"awaitPromise", true},
              {"resultOwnership", "none"}};
  p.read_result = [give_up](const nlohmann::json& r) {
    return firefox_evaluation_outcome(r, give_up);
  };
  p.close = [browser, context] { browser->close_context(context); };
  return std::make_unique<BrowserClient>(io, std::move(p));
}

}  // namespace closewire::real
