#include "tools/closewire/ws_url.h"

#include <fmt/format.h>

#include <charconv>

namespace closewire::cli {

std::optional<WsUrl> parse_ws_url(std::string_view url, std::string& error) {
  WsUrl u;
  u.tls = url.starts_with("wss://");
  if (!u.tls && !url.starts_with("ws://")) {
    error = fmt::format("'{}': expected ws://HOST[:PORT][/PATH] or wss://...", url);
    return std::nullopt;
  }
  if (u.tls) u.port = 443;
  std::string_view rest = url.substr(u.tls ? 6 : 5);
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    u.target = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      error = fmt::format("'{}': unterminated [IPv6] address", url);
      return std::nullopt;
    }
    u.host = std::string(rest.substr(1, close - 1));
    if (rest.size() > close + 1) {
      if (rest[close + 1] != ':') {
        error = fmt::format("'{}': expected ':' after the [IPv6] address", url);
        return std::nullopt;
      }
      port_text = rest.substr(close + 2);
    }
  } else {
    const auto colon = rest.find(':');
    u.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (u.host.empty()) {
    error = fmt::format("'{}': no host", url);
    return std::nullopt;
  }
  if (!port_text.empty() || (rest.find(':') != std::string_view::npos && !rest.starts_with('['))) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      error = fmt::format("'{}': the port must be a number from 1 to 65535", url);
      return std::nullopt;
    }
    u.port = static_cast<std::uint16_t>(port);
  }
  return u;
}

}  // namespace closewire::cli
