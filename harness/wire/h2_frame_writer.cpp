#include "harness/wire/h2_frame_writer.h"

#include <nghttp2/nghttp2.h>

#include <stdexcept>

namespace closewire::wire {

std::string h2_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                     std::string_view payload) {
  std::string f;
  f.reserve(9 + payload.size());
  const std::size_t n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += h2_u32(stream & 0x7FFFFFFF);
  f.append(payload);
  return f;
}

std::string h2_u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

HpackEncoder::HpackEncoder() {
  if (nghttp2_hd_deflate_new(&deflater_, 4096) != 0)
    throw std::runtime_error("nghttp2_hd_deflate_new failed");
}

HpackEncoder::~HpackEncoder() {
  nghttp2_hd_deflate_del(deflater_);
}

std::string HpackEncoder::block(const H2Headers& headers) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size());
  for (const auto& [n, v] : headers) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                  reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater_, nv.data(), nv.size()), '\0');
  const auto n = nghttp2_hd_deflate_hd(deflater_, reinterpret_cast<std::uint8_t*>(out.data()),
                                       out.size(), nv.data(), nv.size());
  if (n < 0) throw std::runtime_error("HPACK encoding failed");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace closewire::wire
