#include "tools/gen_capture/h2_layer.h"

#include "harness/wire/h2_frame_reader.h"

namespace closewire::gen {
namespace {

using wire::h2_frame;
using wire::h2_u32;

std::string setting(std::uint16_t id, std::uint32_t value) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id)} + h2_u32(value);
}

std::uint8_t type(wire::H2Type t) {
  return static_cast<std::uint8_t>(t);
}

}  // namespace

H2Layer::H2Layer() {
  begin();
}

H2Layer::~H2Layer() = default;

void H2Layer::begin() {
  client_ = std::make_unique<wire::HpackEncoder>();
  server_ = std::make_unique<wire::HpackEncoder>();
}

std::string H2Layer::client_open(std::string_view path, std::string_view authority) {
  std::string out(wire::kH2Preface);
  // Chromium's SETTINGS: HEADER_TABLE_SIZE 64 KiB, ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 6 MiB,
  // MAX_HEADER_LIST_SIZE 256 KiB; then a connection WINDOW_UPDATE.
  out += h2_frame(
      type(wire::H2Type::settings), 0, 0,
      setting(0x1, 65536) + setting(0x2, 0) + setting(0x4, 6291456) + setting(0x6, 262144));
  out += h2_frame(type(wire::H2Type::window_update), 0, 0, h2_u32(15663105));
  const std::string block =
      client_->block({{":method", "CONNECT"},
                      {":authority", std::string(authority)},
                      {":scheme", "https"},
                      {":path", std::string(path)},
                      {":protocol", "websocket"},
                      {"origin", "https://127.0.0.1"},
                      {"sec-websocket-version", "13"},
                      {"sec-websocket-extensions", "permessage-deflate; client_max_window_bits"}});
  out += h2_frame(type(wire::H2Type::headers), wire::h2_flag::end_headers, kH2Stream, block);
  return out;
}

std::string H2Layer::server_open() {
  std::string out;
  // HAProxy's SETTINGS: INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE 16384, ENABLE_CONNECT_PROTOCOL 1.
  out += h2_frame(type(wire::H2Type::settings), 0, 0,
                  setting(0x4, 65535) + setting(0x5, 16384) + setting(0x8, 1));
  out += h2_frame(type(wire::H2Type::settings), wire::h2_flag::ack, 0, "");
  out += h2_frame(type(wire::H2Type::headers), wire::h2_flag::end_headers, kH2Stream,
                  server_->block({{":status", "200"}}));
  return out;
}

std::string H2Layer::data(std::string_view bytes, bool end_stream) {
  return h2_frame(type(wire::H2Type::data), end_stream ? wire::h2_flag::end_stream : 0, kH2Stream,
                  bytes);
}

std::string H2Layer::rst_stream(std::uint32_t code) {
  return h2_frame(type(wire::H2Type::rst_stream), 0, kH2Stream, h2_u32(code));
}

}  // namespace closewire::gen
