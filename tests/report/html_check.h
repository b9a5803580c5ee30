// What the HTML report's real-browser test (html_in_chromium.cpp) judges, without a browser: the
// counts a page must show, taken from the run's own JSON rather than from the renderer; text
// boxes that overlap; file URLs; a screenshot's bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace closewire::htmlcheck {

struct PageCounts {
  std::size_t chains = 0;  // one <article> each
  std::size_t arrows = 0;  // one g.ev in a ladder per event of a drawn kind on a chain's legs
};

// From `closewire run --json` ({"scenarios": [...]}, legs under "legs") or `closewire replay
// --json` ({"captures": [...]}, legs under "connections"); each chain names its legs by "index".
// Throws std::runtime_error naming what it cannot find.
PageCounts expected_counts(const nlohmann::json& output);

struct TextBox {
  std::string text;
  double x = 0, y = 0, width = 0, height = 0;
};

// The first pair (i < j, in document order) whose boxes overlap by more than `slack` px both
// across and down; boxes with no area are left out.
std::optional<std::pair<std::size_t, std::size_t>> first_overlap(const std::vector<TextBox>& boxes,
                                                                 double slack);

// What went wrong in a page, one line each, from its DevTools events ({"method", "params"}):
// console.error and console.assert calls, uncaught exceptions, log entries of level error, and
// loads that failed (named by URL, from the matching Network.requestWillBeSent).
std::vector<std::string> page_errors(const std::vector<nlohmann::json>& events);

// The URLs the page asked for besides itself (`page_url`), in order, from its
// Network.requestWillBeSent events: Resource Timing lists no file:// loads, the network domain
// does.
std::vector<std::string> requests_besides(const std::vector<nlohmann::json>& events,
                                          const std::string& page_url);

// "file:///a%20b/c" -> "/a b/c"; nothing for any other scheme or a bad escape.
std::optional<std::string> file_url_path(std::string_view url);
// An absolute path as a file:// URL, every byte but [A-Za-z0-9/._~-] percent-encoded.
std::string file_url(std::string_view absolute_path);

// RFC 4648 base64 (DevTools' screenshots); throws std::runtime_error on a bad character.
std::string base64_decode(std::string_view text);
// Starts with the 8-byte PNG signature.
bool is_png(std::string_view bytes);

}  // namespace closewire::htmlcheck
