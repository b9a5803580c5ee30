#include "harness/real/net_probe.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/real/process.h"

namespace closewire::real {
namespace {

using boost::asio::ip::tcp;

// host:port as a socket address (IPv4 or IPv6, as the host is written) for the plain socket
// calls below: ep.data(), ep.size(), ep.protocol().family().
tcp::endpoint address_of(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) throw EnvironmentError("bad address " + host);
  return {addr, port};
}

}  // namespace

std::uint16_t pick_free_port(const std::string& host) {
  // Below the kernel's ephemeral range: nginx and HAProxy listen with SO_REUSEADDR, and a port
  // from that range could then also serve as the source port of another scenario's connection,
  // whose packets this run's capture (filtered by port) would take for its own.
  unsigned low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
  const unsigned first = 10000, last = low > first + 100 ? low - 1 : 30999;
  thread_local std::uint32_t seed =
      static_cast<std::uint32_t>(getpid()) * 2654435761u ^
      static_cast<std::uint32_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 1664525u + 1013904223u;
    const auto port = static_cast<std::uint16_t>(first + (seed >> 8) % (last - first + 1));
    const tcp::endpoint a = address_of(host, port);
    const int fd = socket(a.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    const bool free = bind(fd, a.data(), static_cast<socklen_t>(a.size())) == 0;
    close(fd);
    if (free) return port;
  }
  throw EnvironmentError("cannot find a free port on " + host);
}

void wait_until_listening(const std::string& host, std::uint16_t port, ChildProcess& process,
                          std::chrono::milliseconds timeout) {
  const tcp::endpoint a = address_of(host, port);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    const int fd = socket(a.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool up = fd >= 0 && connect(fd, a.data(), static_cast<socklen_t>(a.size())) == 0;
    if (up) {
      // End the probe completely before returning: the program's FIN must not reach the capture
      // that starts next, where it would look like a leg of the scenario.
      shutdown(fd, SHUT_WR);
      pollfd p{fd, POLLIN, 0};
      char buf[256];
      while (poll(&p, 1, 2000) > 0 && read(fd, buf, sizeof buf) > 0) {
      }
    }
    if (fd >= 0) close(fd);
    if (up) return;
    if (!process.running()) {
      throw EnvironmentError(fmt::format("{} exited before it listened on {}: {}", process.label(),
                                         port, process.output_tail()));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw EnvironmentError(fmt::format("{} did not listen on {} within {} ms: {}",
                                         process.label(), port, timeout.count(),
                                         process.output_tail()));
    }
    // Refused: the program is still starting. Retry soon, backing off (a bounded poll, not a
    // fixed sleep standing in for readiness).
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

std::size_t live_sockets_on(const std::vector<std::uint16_t>& ports,
                            const std::vector<std::uint16_t>& except) {
  std::size_t live = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // "  0: 0100007F:1F90 0100007F:C35A 01 ..." : local, remote, state (hex)
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto port_of = [](const std::string& addr) {
        const auto colon = addr.rfind(':');
        return colon == std::string::npos
                   ? 0
                   : static_cast<std::uint16_t>(std::stoul(addr.substr(colon + 1), nullptr, 16));
      };
      const int st = static_cast<int>(std::stoul(state, nullptr, 16));
      // 0x0A LISTEN, 0x06 TIME_WAIT, 0x07 CLOSE
      if (st == 0x0A || st == 0x06 || st == 0x07) continue;
      const auto lp = port_of(local);
      const auto rp = port_of(remote);
      const auto excepted = [&](std::uint16_t p) {
        return std::find(except.begin(), except.end(), p) != except.end();
      };
      if (excepted(lp) || excepted(rp)) continue;
      if (std::find(ports.begin(), ports.end(), lp) != ports.end() ||
          std::find(ports.begin(), ports.end(), rp) != ports.end()) {
        ++live;
      }
    }
  }
  return live;
}

}  // namespace closewire::real
