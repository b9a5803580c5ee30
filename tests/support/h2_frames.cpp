#include "tests/support/h2_frames.h"

namespace closewire::test {

std::string h2_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                     const std::string& payload) {
  std::string f;
  const std::size_t n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) f += static_cast<char>(stream >> shift);
  return f + payload;
}

std::string h2_u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

HpackEncoder::HpackEncoder() {
  nghttp2_hd_deflate_new(&deflater_, 4096);
}

HpackEncoder::~HpackEncoder() {
  nghttp2_hd_deflate_del(deflater_);
}

std::string HpackEncoder::block(const H2Headers& headers) {
  std::vector<nghttp2_nv> nv;
  for (const auto& [n, v] : headers) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                  reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater_, nv.data(), nv.size()), '\0');
  const auto n = nghttp2_hd_deflate_hd(deflater_, reinterpret_cast<std::uint8_t*>(out.data()),
                                       out.size(), nv.data(), nv.size());
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

H2Headers websocket_connect(const std::string& path) {
  return {{":method", "CONNECT"}, {":protocol", "websocket"},  {":scheme", "https"},
          {":path", path},        {":authority", "localhost"}, {"sec-websocket-version", "13"}};
}

std::string h2_settings_enable_connect() {
  return h2_frame(0x4, 0, 0, std::string("\x00\x08", 2) + h2_u32(1));
}

}  // namespace closewire::test
