// What a page does as the real client, in any browser: the JavaScript that opens
// `new WebSocket(url)` and resolves with its close event, and that report read back.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace closewire::real {

// What the page's close event said, with the page's own timings (performance.now(), ms from
// `new WebSocket`).
struct BrowserOutcome {
  std::optional<std::uint16_t> code;  // absent: no close event (timed out, or an error)
  std::string reason;
  bool was_clean = false;
  bool error_event = false;  // onerror fired before onclose
  double open_ms = -1;       // onopen; -1 if it never opened
  double error_ms = -1;
  double close_ms = -1;
  std::string error;  // protocol or page failure, when there is no close event
};

std::string describe(const BrowserOutcome& o);  // "4321 'test' clean (open 1.2 ms, close 5.0 ms)"

// A close the page starts itself: ws.close(code, reason) this long after onopen (a scenario's
// `at: T, client: { close: ... }` step). A page may only send 1000 or 3000-4999, or no code.
struct PageClose {
  std::chrono::milliseconds after_open{0};
  std::optional<std::uint16_t> code;
  std::string reason;
};
// Whether a page may close with `code` (the WebSocket API throws InvalidAccessError otherwise).
bool page_may_close_with(std::optional<std::uint16_t> code);

// The JavaScript evaluated in the page: a promise that resolves with the report
// {open_ms, error_ms, code, reason, wasClean, close_ms} on onclose, or after `give_up` with
// {timedOut: true}. With `close`, the page also closes the WebSocket itself.
std::string websocket_probe_script(const std::string& url, std::chrono::milliseconds give_up,
                                   const std::optional<PageClose>& close = std::nullopt);

// The report the probe's promise resolved with, as an outcome.
BrowserOutcome probe_outcome(const nlohmann::json& report, std::chrono::milliseconds give_up);

}  // namespace closewire::real
