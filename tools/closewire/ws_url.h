// ws://host[:port][/path] as the probe takes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace closewire::cli {

struct WsUrl {
  std::string host;  // as written (a name or an address, IPv6 without brackets)
  std::uint16_t port = 80;
  std::string target = "/";
  bool tls = false;  // wss://: the port defaults to 443
};

// ws:// or wss://; nullopt with a one-line `error` for anything else.
std::optional<WsUrl> parse_ws_url(std::string_view url, std::string& error);

}  // namespace closewire::cli
