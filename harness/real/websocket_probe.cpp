#include "harness/real/websocket_probe.h"

#include <fmt/format.h>

namespace closewire::real {

std::string describe(const BrowserOutcome& o) {
  if (!o.code) return o.error.empty() ? "no close event" : o.error;
  return fmt::format("{} '{}' {}{} (open {:.1f} ms, close {:.1f} ms)", *o.code, o.reason,
                     o.was_clean ? "clean" : "not clean", o.error_event ? " + error event" : "",
                     o.open_ms, o.close_ms);
}

bool page_may_close_with(std::optional<std::uint16_t> code) {
  return !code || *code == 1000 || (*code >= 3000 && *code <= 4999);
}

std::string websocket_probe_script(const std::string& url, std::chrono::milliseconds give_up,
                                   const std::optional<PageClose>& close) {
  // Times are from `new WebSocket`; the page reports and acts only on a scripted close:
  // closewire judges the wire.
  std::string on_open;
  if (close) {
    const std::string args =
        close->code ? fmt::format("{}, {}", *close->code, nlohmann::json(close->reason).dump())
                    : std::string();
    on_open = fmt::format(" setTimeout(() => ws.close({}), {});", args, close->after_open.count());
  }
  return fmt::format(R"JS(new Promise((resolve) => {{
  const t0 = performance.now();
  const r = {{ open_ms: -1, error_ms: -1 }};
  const ws = new WebSocket({});
  ws.onopen = () => {{ r.open_ms = performance.now() - t0;{} }};
  ws.onerror = () => {{ r.error_ms = performance.now() - t0; }};
  ws.onclose = (e) => resolve(Object.assign(r, {{
    code: e.code, reason: e.reason, wasClean: e.wasClean, close_ms: performance.now() - t0 }}));
  setTimeout(() => resolve(Object.assign(r, {{ timedOut: true }})), {});
}}))JS",
                     nlohmann::json(url).dump(), on_open, give_up.count());
}

BrowserOutcome probe_outcome(const nlohmann::json& report, std::chrono::milliseconds give_up) {
  BrowserOutcome o;
  if (!report.is_object()) {
    o.error = "the page's report is not an object: " + report.dump();
    return o;
  }
  o.open_ms = report.value("open_ms", -1.0);
  o.error_ms = report.value("error_ms", -1.0);
  o.error_event = o.error_ms >= 0;
  if (report.value("timedOut", false)) {
    o.error = fmt::format("the browser reported no close event within {} ms", give_up.count());
    return o;
  }
  o.code = report.value("code", 0);
  o.reason = report.value("reason", "");
  o.was_clean = report.value("wasClean", false);
  o.close_ms = report.value("close_ms", -1.0);
  return o;
}

}  // namespace closewire::real
