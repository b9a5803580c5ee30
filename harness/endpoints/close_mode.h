// How an endpoint ends its TCP connection (docs/close-semantics.md §1, §2).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace closewire::endpoints {

enum class CloseMode : std::uint8_t {
  fin,           // flush, shutdown(SHUT_RDWR), close(): FIN after the queued data
  half_close,    // flush, shutdown(SHUT_WR): FIN, keep reading; close() at the peer's FIN
  rst,           // SO_LINGER {1, 0} then close(): RST at once, queued data dropped
  close_unread,  // stop reading, close() once received bytes sit unread: the kernel sends RST
  delayed,       // Envoy FlushWriteAndDelay: flush, stop reading, wait for the peer's FIN or a
                 // timer re-armed by every write, then a plain close()
};

std::string_view to_string(
    CloseMode mode);  // "fin", "half-close", "rst", "close-unread", "delayed"
std::optional<CloseMode> close_mode_from_string(std::string_view name);

// On a TLS stream every close mode sends close_notify first unless told not to (a normal TLS stack
// does; Envoy's SslSocket::closeSocket on every close): `close_notify: false` is the FIN (or RST)
// with no close_notify before it. The stream carries the setting (TcpStream::set_close_notify).
inline constexpr bool kDefaultCloseNotify = true;

// Envoy's default delayed_close_timeout; also how long close-unread waits for bytes to arrive.
inline constexpr std::chrono::milliseconds kDefaultCloseDelay{1000};

}  // namespace closewire::endpoints
