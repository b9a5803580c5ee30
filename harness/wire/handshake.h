// The HTTP/1.1 WebSocket upgrade (RFC 6455 §4) as closewire's own endpoints speak it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace closewire::wire {

// Standard base64 (RFC 4648, with '=' padding) of `n` bytes at `data`.
std::string base64(const void* data, std::size_t n);

// base64(SHA-1(key + RFC 6455 GUID)).
std::string websocket_accept(std::string_view key);

// A fresh Sec-WebSocket-Key: base64 of 16 random bytes.
std::string make_websocket_key();

// "GET <target> HTTP/1.1 ... Sec-WebSocket-Key: <key> ..." with a blank line at the end.
std::string upgrade_request(std::string_view host, std::string_view target, std::string_view key);

// "HTTP/1.1 101 Switching Protocols ... Sec-WebSocket-Accept: ..." for `key`.
std::string upgrade_response(std::string_view key);

}  // namespace closewire::wire
