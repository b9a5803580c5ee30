// Events: timestamped facts on one leg (TCP connection), from one side.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/spec/duration.h"  // Nanos

namespace closewire {

// The client side of a leg is the side that sent the SYN.
enum class Side : std::uint8_t { client, server };
inline Side peer_of(Side s) {
  return s == Side::client ? Side::server : Side::client;
}
inline std::string_view to_string(Side s) {
  return s == Side::client ? "client" : "server";
}

// Event kinds, as they appear in output and expectations.
namespace kind {
inline constexpr std::string_view syn = "tcp.syn";
inline constexpr std::string_view fin = "tcp.fin";
inline constexpr std::string_view rst = "tcp.rst";
inline constexpr std::string_view retransmit = "tcp.retransmit";
// A RST that does not fall in the receiver's window: the receiver ignores it.
inline constexpr std::string_view rst_ignored = "tcp.rst_ignored";
// A RST sent while data from the peer was still unacknowledged by the RST's sender, or data the
// peer sent that arrived after the RST: that data is lost.
inline constexpr std::string_view rst_data_lost = "tcp.rst_data_lost";
// Bytes of the stream the capture missed (the receiver acknowledged them, or the capture ended with
// data waiting behind them): frames after it in that direction cannot be decoded.
inline constexpr std::string_view gap = "tcp.gap";
inline constexpr std::string_view upgrade = "http.upgrade";
inline constexpr std::string_view http_response = "http.response";  // a non-101 answer
inline constexpr std::string_view text = "ws.text";
inline constexpr std::string_view binary = "ws.binary";
inline constexpr std::string_view continuation = "ws.continuation";
inline constexpr std::string_view ping = "ws.ping";
inline constexpr std::string_view pong = "ws.pong";
inline constexpr std::string_view close = "ws.close";
// A frame that breaks RFC 6455 (bad opcode, oversized control frame, ...).
inline constexpr std::string_view protocol_error = "ws.protocol_error";
// TLS legs: the ServerHello (from the server: version and cipher, note sni=), a close_notify alert
// and any other alert (text "fatal handshake_failure") from the side that sent it, and a
// direction whose records cannot be decrypted (once; the note says why).
inline constexpr std::string_view tls_handshake = "tls.handshake";
inline constexpr std::string_view tls_close_notify = "tls.close_notify";
inline constexpr std::string_view tls_alert = "tls.alert";
inline constexpr std::string_view tls_undecryptable = "tls.undecryptable";
// HTTP/2 legs (RFC 8441: a WebSocket is one extended-CONNECT stream): a stream's END_STREAM flag
// and RST_STREAM (text: its error code, "CANCEL"), from the side that sent it; a GOAWAY (text: its
// error code, note: the last stream); a frame that breaks RFC 9113 or cannot be read (note: what).
inline constexpr std::string_view h2_end_stream = "h2.end_stream";
inline constexpr std::string_view h2_rst_stream = "h2.rst_stream";
inline constexpr std::string_view h2_goaway = "h2.goaway";
inline constexpr std::string_view h2_protocol_error = "h2.protocol_error";
// Every kind above: what expectations may name.
inline constexpr std::array kAll = {syn,           fin,
                                    rst,           retransmit,
                                    rst_ignored,   rst_data_lost,
                                    gap,           upgrade,
                                    http_response, text,
                                    binary,        continuation,
                                    ping,          pong,
                                    close,         protocol_error,
                                    tls_handshake, tls_close_notify,
                                    tls_alert,     tls_undecryptable,
                                    h2_end_stream, h2_rst_stream,
                                    h2_goaway,     h2_protocol_error};
}  // namespace kind

// Notes on ws.close events that say how the payload parsed (leg builder writes, verdicts read).
// Notes of a ws.protocol_error for a frame (or header) the end of the stream cut off: the stream
// ended first, so no browser read it as a broken frame.
namespace frame_note {
inline constexpr std::string_view cut_off_by = "cut off by ";
}  // namespace frame_note

namespace close_note {
inline constexpr std::string_view no_status = "no status code";
inline constexpr std::string_view malformed = "malformed close payload";
inline constexpr std::string_view invalid_code = "invalid close code";
inline constexpr std::string_view invalid_utf8 = "invalid UTF-8 in reason";
}  // namespace close_note

struct Event {
  Nanos t = 0;
  Side from = Side::client;
  std::string kind;
  // ws.close: the status code (1005 when the frame had no payload; absent when malformed).
  std::optional<std::uint16_t> code;
  std::string reason;        // ws.close: the close reason
  std::string text;          // a text frame's preview, the HTTP request or status line, the
                             // opcode of a frame that breaks RFC 6455
  std::uint64_t bytes = 0;   // payload bytes (ws.* frames), segment bytes (tcp.retransmit)
  std::string note;          // what else a reader should know: "no status code", "unread: 12 bytes"
  std::uint64_t packet = 0;  // 1-based packet number in the capture
};

inline Event make_event(std::string_view kind, Side from, Nanos t, std::uint64_t packet) {
  Event e;
  e.t = t;
  e.from = from;
  e.kind = kind;
  e.packet = packet;
  return e;
}

}  // namespace closewire
