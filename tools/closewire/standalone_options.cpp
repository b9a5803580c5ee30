#include "tools/closewire/standalone_options.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <charconv>

#include "harness/spec/duration.h"

namespace closewire::cli {

namespace asio = boost::asio;

std::string HostPort::str() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

std::optional<std::string> resolve_host(const std::string& host, std::string& error) {
  boost::system::error_code ec;
  const auto numeric = asio::ip::make_address(host, ec);
  if (!ec) return numeric.to_string();
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    error = fmt::format("cannot resolve '{}': {}", host, ec ? ec.message() : "no address");
    return std::nullopt;
  }
  return results.begin()->endpoint().address().to_string();
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string& error) {
  std::string host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) {
      error = fmt::format("'{}': expected [IPV6]:PORT", text);
      return std::nullopt;
    }
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = fmt::format("'{}': expected ADDR:PORT, e.g. 127.0.0.1:9000", text);
      return std::nullopt;
    }
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    error = fmt::format("'{}': the port must be a number from 0 to 65535", text);
    return std::nullopt;
  }
  const auto numeric = resolve_host(host, error);
  if (!numeric) return std::nullopt;
  return HostPort{*numeric, static_cast<std::uint16_t>(port)};
}

std::string remote_refusal(const HostPort& hp, bool allow_remote, std::string_view flag) {
  if (allow_remote || is_loopback(hp.host)) return {};
  return fmt::format("{} {}: not a loopback address; pass --allow-remote to use it (see --help)",
                     flag, hp.str());
}

std::optional<std::chrono::milliseconds> parse_millis(std::string_view text) {
  const auto ns = parse_duration(text);
  if (!ns || *ns < 0) return std::nullopt;
  return std::chrono::milliseconds((*ns + kNanosPerMilli - 1) / kNanosPerMilli);
}

void add_standalone_options(CLI::App& cmd, StandaloneOptions& o, std::string_view ports) {
  cmd.add_option("--capture", o.capture,
                 fmt::format("Capture {} into this pcap file and print each connection's verdicts "
                             "when it ends; the file replays with 'closewire replay'",
                             ports));
  cmd.add_option("--interface", o.interface,
                 "Interface to capture on: lo, or the one that routes to a remote address")
      ->capture_default_str();
  cmd.add_flag("--allow-remote", o.allow_remote, kAllowRemoteHelp);
}

}  // namespace closewire::cli
