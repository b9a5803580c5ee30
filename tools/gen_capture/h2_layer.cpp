#include "tools/gen_capture/h2_layer.h"

#include <nghttp2/nghttp2.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "harness/wire/h2_frame_reader.h"

namespace closewire::gen {
namespace {

void put_frame(std::string& out, wire::H2Type type, std::uint8_t flags, std::uint32_t stream,
               std::string_view payload) {
  const std::size_t n = payload.size();
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>(stream >> shift);
  out.append(payload);
}

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string setting(std::uint16_t id, std::uint32_t value) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id)} + u32(value);
}

std::string encode(nghttp2_hd_deflater* deflater,
                   const std::vector<std::pair<std::string_view, std::string_view>>& headers) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size());
  for (const auto& [n, v] : headers) {
    nv.push_back({const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(n.data())),
                  const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(v.data())),
                  n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater, nv.data(), nv.size()), '\0');
  const auto n = nghttp2_hd_deflate_hd(deflater, reinterpret_cast<std::uint8_t*>(out.data()),
                                       out.size(), nv.data(), nv.size());
  if (n < 0) throw std::runtime_error("HPACK encoding failed");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

H2Layer::H2Layer() {
  begin();
}

H2Layer::~H2Layer() {
  if (client_ != nullptr) nghttp2_hd_deflate_del(client_);
  if (server_ != nullptr) nghttp2_hd_deflate_del(server_);
}

void H2Layer::begin() {
  if (client_ != nullptr) nghttp2_hd_deflate_del(client_);
  if (server_ != nullptr) nghttp2_hd_deflate_del(server_);
  client_ = nullptr;
  server_ = nullptr;
  if (nghttp2_hd_deflate_new(&client_, 4096) != 0 || nghttp2_hd_deflate_new(&server_, 4096) != 0)
    throw std::runtime_error("nghttp2_hd_deflate_new failed");
}

std::string H2Layer::client_open(std::string_view path, std::string_view authority) {
  std::string out(wire::kH2Preface);
  // Chromium's SETTINGS: HEADER_TABLE_SIZE 64 KiB, ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 6 MiB,
  // MAX_HEADER_LIST_SIZE 256 KiB; then a connection WINDOW_UPDATE.
  put_frame(out, wire::H2Type::settings, 0, 0,
            setting(0x1, 65536) + setting(0x2, 0) + setting(0x4, 6291456) + setting(0x6, 262144));
  put_frame(out, wire::H2Type::window_update, 0, 0, u32(15663105));
  const std::string block = encode(client_, {{":method", "CONNECT"},
                                             {":authority", authority},
                                             {":scheme", "https"},
                                             {":path", path},
                                             {":protocol", "websocket"},
                                             {"origin", "https://127.0.0.1"},
                                             {"sec-websocket-version", "13"},
                                             {"sec-websocket-extensions",
                                              "permessage-deflate; client_max_window_bits"}});
  put_frame(out, wire::H2Type::headers, wire::h2_flag::end_headers, kH2Stream, block);
  return out;
}

std::string H2Layer::server_open() {
  std::string out;
  // HAProxy's SETTINGS: INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE 16384, ENABLE_CONNECT_PROTOCOL 1.
  put_frame(out, wire::H2Type::settings, 0, 0,
            setting(0x4, 65535) + setting(0x5, 16384) + setting(0x8, 1));
  put_frame(out, wire::H2Type::settings, wire::h2_flag::ack, 0, "");
  put_frame(out, wire::H2Type::headers, wire::h2_flag::end_headers, kH2Stream,
            encode(server_, {{":status", "200"}}));
  return out;
}

std::string H2Layer::data(std::string_view bytes, bool end_stream) {
  std::string out;
  put_frame(out, wire::H2Type::data, end_stream ? wire::h2_flag::end_stream : 0, kH2Stream, bytes);
  return out;
}

std::string H2Layer::rst_stream(std::uint32_t code) {
  std::string out;
  put_frame(out, wire::H2Type::rst_stream, 0, kH2Stream, u32(code));
  return out;
}

}  // namespace closewire::gen
