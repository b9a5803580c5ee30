#include "harness/wire/handshake.h"

#include <array>
#include <cstdint>
#include <random>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/detail/sha1.hpp>

namespace closewire::wire {

std::string base64(const void* data, std::size_t n) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(n), '\0');
  out.resize(b64::encode(out.data(), data, n));
  return out;
}

std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  namespace detail = boost::beast::detail;
  detail::sha1_context ctx;
  detail::init(ctx);
  detail::update(ctx, key.data(), key.size());
  detail::update(ctx, kGuid.data(), kGuid.size());
  std::array<char, detail::sha1_context::digest_size> digest{};
  detail::finish(ctx, digest.data());
  return base64(digest.data(), digest.size());
}

std::string make_websocket_key() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::array<std::uint8_t, 16> raw{};
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  return base64(raw.data(), raw.size());
}

std::string upgrade_request(std::string_view host, std::string_view target, std::string_view key) {
  std::string r;
  r.append("GET ").append(target).append(" HTTP/1.1\r\n");
  r.append("Host: ").append(host).append("\r\n");
  r.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
  r.append("Sec-WebSocket-Key: ").append(key).append("\r\n");
  r.append("Sec-WebSocket-Version: 13\r\n\r\n");
  return r;
}

std::string upgrade_response(std::string_view key) {
  std::string r =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  r.append("Sec-WebSocket-Accept: ").append(websocket_accept(key)).append("\r\n\r\n");
  return r;
}

}  // namespace closewire::wire
