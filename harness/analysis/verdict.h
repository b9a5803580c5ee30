// Verdicts: what a browser (profile) would report for a WebSocket leg, judged from its packets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/analysis/connection.h"
#include "harness/analysis/profile.h"

namespace closewire {

// A client FIN/RST this close to the 2 s mark is the real client's own close timeout firing
// (Chromium fires at ~2003 ms): then the packets' order, not the nominal mark, decides.
inline constexpr Nanos kClientTimeoutSlack = 50 * kNanosPerMilli;

struct Verdict {
  std::optional<std::uint16_t> code;  // the close event's code; absent while the leg is still open
  std::string reason;
  bool was_clean = false;
  bool closed = true;  // false: the capture ends before this client would have reported a close
  std::string why;     // one phrase: which packets decided it
  // Whether an `error` event fires before the close event; absent where it is not known (Safari,
  // RFC 6455 clients).
  std::optional<bool> error_event;
  // A TLS leg whose records could not be decrypted: no profile can be judged (closed is false,
  // no code); `why` says what was missing ("no key for this TLS session").
  bool undecided = false;
};

// The facts of a leg that decide every profile's verdict (what judge() reads; diagnose() reads the
// same, so a mechanism and a verdict never disagree about which packet came first). Pointers into
// the leg's events: valid while the leg is.
struct CloseFacts {
  const Event* server_close = nullptr;  // the server's first Close frame
  const Event* client_close = nullptr;  // the client's first Close frame (reply or initiative)
  // On an h2 stream leg (h2) the stream's own ends count like TCP's: END_STREAM like a FIN,
  // RST_STREAM like an RST (and the connection's own FIN or RST, which ends every stream).
  const Event* server_fin = nullptr;  // its FIN, or an earlier close_notify on a TLS leg (§6)
  const Event* server_rst = nullptr;         // only RSTs inside the window
  const Event* client_end = nullptr;         // the client's first FIN or RST
  const Event* server_error = nullptr;       // protocol error by the server before its Close
  const Event* frame_after_close = nullptr;  // a server frame (or bytes no frame) after its Close
  Nanos last_seen = 0;
  bool h2 = false;  // an h2 stream leg (docs/close-semantics.md §6)

  // An h2 leg: the server's reset came before the client's Close (or with none on the wire), so
  // the browser never sent its reply.
  bool reset_before_reply() const;
  // The server side's first FIN or RST: what ends the browser's wait after the closing handshake.
  const Event* server_end() const;
  // The closing handshake's end: the later of the server's Close and the client's Close frame
  // (the server's Close alone while no client Close is on the wire). Needs server_close.
  Nanos handshake_done() const;
  // When Chromium's close timeout fires: 2 s after handshake_done(), or the client's own FIN/RST
  // when that lies within kClientTimeoutSlack of the mark (the real timer firing, so packet order
  // decides: a server FIN/RST just before it is in time, one after it is not) or came first
  // after it. A server FIN/RST before this ends the wait. Needs server_close.
  Nanos close_timeout_at() const;
};

CloseFacts close_facts(const Connection& leg);

// Whether the server side's end `e` (CloseFacts::server_end) reads as EOF in the browser: a FIN,
// or on a TLS leg a close_notify (docs/close-semantics.md §6); else it is an RST.
inline bool reads_as_eof(const Event& e) {
  return e.kind == kind::fin || e.kind == kind::tls_close_notify || e.kind == kind::h2_end_stream;
}
// "FIN", "close_notify", "END_STREAM", "RST_STREAM" or "RST": the end's name in verdicts and
// diagnoses.
std::string_view end_name(const Event& e);

// Judges `leg` from its own events only (docs/close-semantics.md §3). The leg's client side is the
// browser, its server side the proxy or server it talks to.
Verdict judge(const Connection& leg, Profile profile);
// judge() for every profile, in kAllProfiles order, reading the leg's events once.
std::array<Verdict, kAllProfiles.size()> judge_all(const Connection& leg);

}  // namespace closewire
