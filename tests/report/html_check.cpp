#include "tests/report/html_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "harness/report/html_report.h"

namespace closewire::htmlcheck {
namespace {

// One capture's or scenario's share: legs by index, then each chain's drawn events.
void count_entry(const nlohmann::json& entry, const char* legs_key, PageCounts& counts) {
  if (!entry.contains("chains")) return;       // a skipped scenario or an unreadable capture
  std::map<std::uint64_t, std::size_t> drawn;  // leg index -> its drawn events
  for (const auto& leg : entry.at(legs_key)) {
    std::size_t n = 0;
    for (const auto& e : leg.at("events"))
      n += report::drawn_kind(e.at("kind").get<std::string>()) ? 1 : 0;
    drawn[leg.at("index").get<std::uint64_t>()] = n;
  }
  for (const auto& chain : entry.at("chains")) {
    ++counts.chains;
    for (const auto& index : chain.at("legs")) {
      const auto it = drawn.find(index.get<std::uint64_t>());
      if (it == drawn.end())
        throw std::runtime_error(
            fmt::format("a chain names leg {}, which is not in {}", index.dump(), legs_key));
      counts.arrows += it->second;
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

PageCounts expected_counts(const nlohmann::json& output) {
  PageCounts counts;
  try {
    if (output.contains("scenarios")) {
      for (const auto& s : output.at("scenarios")) count_entry(s, "legs", counts);
    } else if (output.contains("captures")) {
      for (const auto& c : output.at("captures")) count_entry(c, "connections", counts);
    } else {
      throw std::runtime_error(
          "neither \"scenarios\" (run --json) nor \"captures\" (replay --json)");
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(e.what());
  }
  return counts;
}

std::optional<std::pair<std::size_t, std::size_t>> first_overlap(const std::vector<TextBox>& boxes,
                                                                 double slack) {
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const TextBox& a = boxes[i];
    if (a.width <= 0 || a.height <= 0) continue;
    for (std::size_t j = i + 1; j < boxes.size(); ++j) {
      const TextBox& b = boxes[j];
      if (b.width <= 0 || b.height <= 0) continue;
      const double across = std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x);
      const double down = std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y);
      if (across > slack && down > slack) return std::pair{i, j};
    }
  }
  return std::nullopt;
}

std::vector<std::string> page_errors(const std::vector<nlohmann::json>& events) {
  std::map<std::string, std::string> urls;  // requestId -> URL
  std::vector<std::string> out;
  for (const auto& e : events) {
    const std::string method = e.value("method", "");
    const nlohmann::json p = e.value("params", nlohmann::json::object());
    if (method == "Network.requestWillBeSent") {
      urls[p.value("requestId", "")] =
          p.value("request", nlohmann::json::object()).value("url", "");
    } else if (method == "Runtime.consoleAPICalled") {
      const std::string type = p.value("type", "");
      if (type != "error" && type != "assert") continue;
      std::string text;
      for (const auto& arg : p.value("args", nlohmann::json::array())) {
        const auto value = arg.value("value", nlohmann::json());
        text += (text.empty() ? "" : " ") + (value.is_string() ? value.get<std::string>()
                                             : value.is_null()
                                                 ? arg.value("description", arg.value("type", "?"))
                                                 : value.dump());
      }
      out.push_back(fmt::format("console.{}: {}", type, text));
    } else if (method == "Runtime.exceptionThrown") {
      // The description's first line ("TypeError: ..."), not its stack; the place instead.
      const auto d = p.value("exceptionDetails", nlohmann::json::object());
      std::string what = d.value("exception", nlohmann::json::object())
                             .value("description", d.value("text", std::string("?")));
      what = what.substr(0, what.find('\n'));
      const std::string url = d.value("url", "");
      out.push_back(fmt::format(
          "uncaught exception: {}{}", what,
          url.empty() ? "" : fmt::format(" at {}:{}", url, d.value("lineNumber", -1) + 1)));
    } else if (method == "Log.entryAdded") {
      const auto entry = p.value("entry", nlohmann::json::object());
      if (entry.value("level", "") != "error") continue;
      const std::string url = entry.value("url", "");
      out.push_back(fmt::format("log error ({}): {}{}", entry.value("source", "?"),
                                entry.value("text", ""), url.empty() ? "" : " at " + url));
    } else if (method == "Network.loadingFailed") {
      const auto it = urls.find(p.value("requestId", ""));
      out.push_back(
          fmt::format("failed to load {}: {}{}",
                      it == urls.end() ? "request " + p.value("requestId", "?") : it->second,
                      p.value("errorText", "?"), p.value("canceled", false) ? " (canceled)" : ""));
    }
  }
  return out;
}

std::vector<std::string> requests_besides(const std::vector<nlohmann::json>& events,
                                          const std::string& page_url) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.value("method", "") != "Network.requestWillBeSent") continue;
    const std::string url = e.value("params", nlohmann::json::object())
                                .value("request", nlohmann::json::object())
                                .value("url", "");
    if (url != page_url) out.push_back(url);
  }
  return out;
}

std::optional<std::string> file_url_path(std::string_view url) {
  constexpr std::string_view scheme = "file://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  if (!url.starts_with('/')) return std::nullopt;  // file://host/... is not this machine's
  url = url.substr(0, url.find_first_of("?#"));
  std::string path;
  for (std::size_t i = 0; i < url.size(); ++i) {
    if (url[i] != '%') {
      path += url[i];
      continue;
    }
    const int hi = i + 2 < url.size() ? hex_value(url[i + 1]) : -1;
    const int lo = i + 2 < url.size() ? hex_value(url[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    path += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return path;
}

std::string file_url(std::string_view absolute_path) {
  std::string url = "file://";
  for (const char c : absolute_path) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '/' || c == '.' || c == '_' || c == '~' || c == '-';
    url += plain ? std::string(1, c) : fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return url;
}

std::string base64_decode(std::string_view text) {
  std::string out;
  unsigned bits = 0;
  int have = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=')
      break;
    else
      throw std::runtime_error(
          fmt::format("not base64: byte {:#04x}", static_cast<unsigned char>(c)));
    bits = (bits << 6) | static_cast<unsigned>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      out += static_cast<char>((bits >> have) & 0xFF);
    }
  }
  return out;
}

bool is_png(std::string_view bytes) {
  return bytes.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace closewire::htmlcheck
