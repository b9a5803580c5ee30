#include "harness/analysis/verdict.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/wire/close_payload.h"

namespace closewire {
namespace {

bool is_frame(std::string_view k) {
  return k.starts_with("ws.") && k != kind::protocol_error;
}

// Bytes after the server's Close that are no frame at all (a server writing an HTTP response on
// the upgraded socket): Chromium, still reading in CLOSE_WAIT, fails with "Invalid frame header"
// as it does for a frame after the Close (simple-websocket#42). A frame cut off by the end of the
// stream is no such thing: the stream ended first.
bool is_bad_bytes_after_close(const Event& e) {
  return e.kind == kind::protocol_error && e.note.find(frame_note::cut_off_by) == std::string::npos;
}

}  // namespace

std::string_view end_name(const Event& e) {
  if (e.kind == kind::fin) return "FIN";
  if (e.kind == kind::tls_close_notify) return "close_notify";
  if (e.kind == kind::h2_end_stream) return "END_STREAM";
  if (e.kind == kind::h2_rst_stream) return "RST_STREAM";
  return "RST";
}

CloseFacts close_facts(const Connection& leg) {
  CloseFacts f;
  f.h2 = leg.h2_stream != 0;
  for (const Event& e : leg.events) {
    f.last_seen = std::max(f.last_seen, e.t);
    if (e.from == Side::server) {
      if (e.kind == kind::close && !f.server_close) {
        f.server_close = &e;
      } else if (f.server_close && !f.frame_after_close &&
                 (is_frame(e.kind) || is_bad_bytes_after_close(e))) {
        f.frame_after_close = &e;
      } else if (e.kind == kind::protocol_error && !f.server_close && !f.server_error) {
        f.server_error = &e;
      } else if ((e.kind == kind::fin || e.kind == kind::tls_close_notify ||
                  e.kind == kind::h2_end_stream) &&
                 !f.server_fin) {
        // A close_notify reads as EOF in Chromium and NSS, like the FIN after it (§6).
        f.server_fin = &e;
      } else if ((e.kind == kind::rst || e.kind == kind::h2_rst_stream) && !f.server_rst) {
        // A RST_STREAM behind the client's own (they crossed) reaches a stream the browser has
        // already given up: Chromium cancels on Close + END_STREAM, having read them as EOF.
        const bool after_client_reset = e.kind == kind::h2_rst_stream && f.client_end &&
                                        f.client_end->kind == kind::h2_rst_stream;
        if (!after_client_reset) f.server_rst = &e;
      }
    } else {
      if (e.kind == kind::close && !f.client_close) {
        f.client_close = &e;
      } else if ((e.kind == kind::fin || e.kind == kind::rst || e.kind == kind::h2_rst_stream) &&
                 !f.client_end) {
        // (A client's END_STREAM only half-closes its stream: Chromium sends it with its Close.)
        f.client_end = &e;
      }
    }
  }
  if (leg.observed_until > f.last_seen) f.last_seen = leg.observed_until;
  return f;
}

bool CloseFacts::reset_before_reply() const {
  // Events are in capture order in one vector: their addresses give their order.
  return server_rst && (!client_close || server_rst < client_close);
}

const Event* CloseFacts::server_end() const {
  if (server_fin && server_rst) return server_fin->t <= server_rst->t ? server_fin : server_rst;
  return server_fin ? server_fin : server_rst;
}

Nanos CloseFacts::handshake_done() const {
  return std::max(server_close->t, client_close ? client_close->t : server_close->t);
}

Nanos CloseFacts::close_timeout_at() const {
  const Nanos mark = handshake_done() + kChromeCloseTimeout;
  const Event* end = server_end();
  if (client_end && client_end->t >= mark - kClientTimeoutSlack) {
    // The real client's own close at the mark: packet order decides, both ways. Real 105 got
    // the FIN 2001.7 ms after its reply, sent its own 0.5 ms later and reported clean (§3).
    const bool client_first = !end || client_end->t < end->t;
    if (client_first || client_end->t <= mark + kClientTimeoutSlack) return client_end->t;
  }
  return mark;
}

namespace {

std::string ms_after(Nanos later, Nanos earlier) {
  return fmt::format("{:.1f} ms", static_cast<double>(later - earlier) / kNanosPerMilli);
}

Verdict abnormal(std::string why) {
  return Verdict{wire::kAbnormalClosure, "", false, true, std::move(why), std::nullopt, false};
}

Verdict received(const Event& close, bool clean, std::string why) {
  return Verdict{close.code, close.reason, clean, true, std::move(why), std::nullopt, false};
}

Verdict open_leg(std::string why) {
  return Verdict{std::nullopt, "", false, false, std::move(why), std::nullopt, false};
}

// Chromium (websocket_channel.cc): a failed write of the reply -> 1006; after the handshake the
// first of EOF (clean), read error (not clean) and its own 2 s timeout (clean; 1006 up to 105).
// Over h2 (§6, real Chromium 156 behind HAProxy): a RST_STREAM before its reply is 1006 like an
// RST; after its reply a reset stream changes nothing (inferred for a RST_STREAM alone).
Verdict judge_chrome(const CloseFacts& f, bool legacy) {
  const Event& s = *f.server_close;
  const Event* end = f.server_end();
  if (f.frame_after_close) return abnormal("server sent a frame after its Close");
  if (f.h2 && f.reset_before_reply()) {
    return abnormal(fmt::format("{} from the server side before its Close reply: stream gone",
                                end_name(*f.server_rst)));
  }
  if (f.server_rst && !f.client_close) {
    return abnormal(
        "RST from the server side and no Close reply on the wire: the reply's write failed");
  }
  const Nanos handshake_done = f.handshake_done();
  const Nanos timeout_at = f.close_timeout_at();
  if (end && end->t < timeout_at) {
    if (reads_as_eof(*end)) {
      if (end->t < handshake_done)
        return received(
            s, true, fmt::format("server {} before the Close reply: read as EOF", end_name(*end)));
      return received(s, true,
                      fmt::format("server {} {} after the closing handshake", end_name(*end),
                                  ms_after(end->t, handshake_done)));
    }
    if (f.h2) {
      return received(s, true,
                      fmt::format("{} from the server side after the Close reply was written",
                                  end_name(*end)));
    }
    return received(s, false, "RST from the server side after the Close reply was written");
  }
  if (!end && !f.client_end && f.last_seen < timeout_at) {
    return open_leg("capture ends before Chrome's 2 s close timeout");
  }
  if (legacy)
    return abnormal(
        "no FIN from the server side within 2 s: close timeout (Chrome <= 105 reports 1006)");
  return received(s, true, "no FIN from the server side within 2 s: closed by its own timeout");
}

// Firefox (WebSocketChannel.cpp): the close event fires once its reply is queued; not clean
// exactly when it read the server side's FIN or RST before that, and then it sends no reply. So on
// the wire: clean <=> its Close reply is there, whatever the order of a server FIN and that reply
// (real ESR 153 reported clean with the FIN on the wire 1.8 ms before its reply: §3).
// Over h2 (§6, real ESR 153 behind HAProxy): a RST_STREAM before its reply is 1006, with an
// error event; its reply ahead of the reset is clean.
Verdict judge_firefox(const CloseFacts& f) {
  const Event& s = *f.server_close;
  if (f.h2 && f.reset_before_reply()) {
    return abnormal(fmt::format("{} from the server side before its Close reply: stream gone",
                                end_name(*f.server_rst)));
  }
  if (f.client_close) return received(s, true, "its Close reply is on the wire");
  if (const Event* end = f.server_end()) {
    return received(s, false,
                    fmt::format("server {} reached it before it queued its reply: no reply sent",
                                end_name(*end)));
  }
  return open_leg("capture ends before Firefox's Close reply");
}

// RFC 6455 7.1.4: clean when the closing handshake completed, whatever closed TCP afterwards.
Verdict judge_rfc(const CloseFacts& f) {
  const Event& s = *f.server_close;
  if (f.frame_after_close)
    return abnormal("server sent a frame after its Close: connection failed");
  if (f.server_rst && (f.h2 ? f.reset_before_reply() : !f.client_close)) {
    return received(s, false,
                    fmt::format("{} before the Close reply: handshake incomplete",
                                end_name(*f.server_rst)));
  }
  return received(s, true, "closing handshake completed");
}

Verdict judge_facts(const CloseFacts& f, Profile profile) {
  if (!f.server_close) {
    if (f.server_fin || f.server_rst || f.client_end) {
      return abnormal(f.h2 ? "stream ended without a Close frame from the server side"
                           : "TCP closed without a Close frame from the server side");
    }
    return open_leg("no Close frame and no TCP close in the capture");
  }
  if (f.server_error)
    return abnormal("server protocol error before its Close: " + f.server_error->note);
  const std::string& note = f.server_close->note;
  if (!f.server_close->code || (!note.empty() && note != close_note::no_status)) {
    return abnormal("invalid Close frame from the server side: " + note);
  }
  switch (profile) {
    case Profile::chrome:
      return judge_chrome(f, false);
    case Profile::chrome_legacy:
      return judge_chrome(f, true);
    case Profile::firefox:
      return judge_firefox(f);
    case Profile::safari:
      return received(*f.server_close, true, "Close received: transport errors ignored");
    case Profile::rfc:
      return judge_rfc(f);
  }
  return open_leg("unknown profile");
}

// The error events real browsers fired (close-semantics.md §3): Chromium (156 and 105) only when
// it failed the connection for a protocol violation (a frame after the Close, an invalid Close
// frame, a bad frame), not for an RST before its reply, its close timeout or a FIN without a
// Close; Firefox when the connection failed that way or an RST (a socket error, not EOF) reached
// it before it queued its reply. Unknown for Safari and RFC 6455 clients.
std::optional<bool> error_event(const CloseFacts& f, Profile profile) {
  const bool invalid_close =
      f.server_close && (!f.server_close->code || (!f.server_close->note.empty() &&
                                                   f.server_close->note != close_note::no_status));
  const bool violation = f.server_error || invalid_close;
  switch (profile) {
    case Profile::chrome:
    case Profile::chrome_legacy:
      return violation || (f.server_close && f.frame_after_close);
    case Profile::firefox: {
      if (violation) return true;
      // h2 (§6): a reset right behind the server's Close fired it; an idle timeout's reset with
      // no Close did not.
      if (f.h2) return f.server_close != nullptr && f.reset_before_reply();
      const Event* end = f.server_end();
      return !f.client_close && end && end->kind == kind::rst;
    }
    default:
      return std::nullopt;
  }
}

Verdict judge_with_error(const CloseFacts& f, Profile profile) {
  Verdict v = judge_facts(f, profile);
  if (v.closed) v.error_event = error_event(f, profile);
  return v;
}

// Encrypted records hide the Close frames: a FIN or RST alone must not be taken for the close.
Verdict undecided(const Connection& leg) {
  Verdict v{std::nullopt, "", false, false, "no key for this TLS session", std::nullopt, true};
  for (const Event& e : leg.events) {
    if (e.kind == kind::tls_undecryptable && !e.note.empty()) {
      v.why = e.note;
      break;
    }
  }
  return v;
}

}  // namespace

Verdict judge(const Connection& leg, Profile profile) {
  if (undecryptable_tls(leg)) return undecided(leg);
  return judge_with_error(close_facts(leg), profile);
}

std::array<Verdict, kAllProfiles.size()> judge_all(const Connection& leg) {
  if (undecryptable_tls(leg)) {
    std::array<Verdict, kAllProfiles.size()> verdicts;
    verdicts.fill(undecided(leg));
    return verdicts;
  }
  const CloseFacts f = close_facts(leg);
  std::array<Verdict, kAllProfiles.size()> verdicts;
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i)
    verdicts[i] = judge_with_error(f, kAllProfiles[i]);
  return verdicts;
}

}  // namespace closewire
