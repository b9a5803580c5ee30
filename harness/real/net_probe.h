// Loopback helpers for external endpoints: a free port to hand a program, a connect probe that
// says when it listens, and the kernel's socket table to say when its connections are gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace closewire::real {

class ChildProcess;

// A port nothing uses now, below the kernel's ephemeral range, for programs that need one in
// their configuration.
std::uint16_t pick_free_port(const std::string& host);

// Connects to host:port until it is accepted, `process` exits or `timeout` passes (throws
// EnvironmentError naming `process`). The probe connection is closed at once.
void wait_until_listening(const std::string& host, std::uint16_t port, ChildProcess& process,
                          std::chrono::milliseconds timeout);

// Sockets in /proc/net/tcp and tcp6 with a local or remote port in `ports` that are not closed:
// any state but LISTEN, TIME_WAIT and CLOSE. A run with external endpoints is over when this is 0.
// Sockets with a port in `except` (a connection known to stay open) do not count.
std::size_t live_sockets_on(const std::vector<std::uint16_t>& ports,
                            const std::vector<std::uint16_t>& except = {});

}  // namespace closewire::real
