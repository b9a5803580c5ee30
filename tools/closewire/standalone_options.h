// Flags and checks that the standalone commands (serve, proxy, probe) share.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "harness/standalone/capture_scope.h"

namespace closewire::cli {

// A numeric address and port; `str()` is "127.0.0.1:9000" or "[::1]:9000".
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string str() const;
};

// "127.0.0.1:9000", "[::1]:9000", "localhost:9000"; a name is resolved to its first address.
// On failure returns nullopt and sets `error` to one line.
std::optional<HostPort> parse_host_port(std::string_view text, std::string& error);

// Resolves `host` (a name or a numeric address) to a numeric address.
std::optional<std::string> resolve_host(const std::string& host, std::string& error);

using standalone::is_loopback;

// Empty when `hp` may be used; otherwise the one-line error naming `flag`.
std::string remote_refusal(const HostPort& hp, bool allow_remote, std::string_view flag);

// "1s", "250ms", "0" (closewire's duration syntax) -> milliseconds, rounded up.
std::optional<std::chrono::milliseconds> parse_millis(std::string_view text);

struct StandaloneOptions {
  std::string capture;  // --capture FILE.pcap
  std::string interface = "lo";
  bool allow_remote = false;
};

inline constexpr const char* kAllowRemoteHelp =
    "Allow addresses outside loopback. Off by default: these endpoints inject close faults (RSTs, "
    "stalled closes, unread bytes) and exist for experiments on this machine; pointing them at a "
    "network, e.g. a probe at a real gateway, must be a deliberate choice";

void add_standalone_options(CLI::App& cmd, StandaloneOptions& options, std::string_view ports);

}  // namespace closewire::cli
