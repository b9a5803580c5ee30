#include "harness/endpoints/client_profile.h"

#include <utility>

#include "harness/wire/close_payload.h"
#include "harness/wire/frame.h"

namespace closewire::endpoints {

namespace {
using K = ObservationKind;

// The facts the rules look at, pulled from the log once.
struct Facts {
  const Observation* close = nullptr;  // the first Close frame received
  const Observation* reply = nullptr;  // our Close frame written (after or before theirs)
  const Observation* write_failed = nullptr;
  const Observation* gone_before_reply = nullptr;
  const Observation* frame_after_close = nullptr;
  const Observation* end = nullptr;     // first eof / read_error / timeout after the Close
  const Observation* closed = nullptr;  // our socket closed
  bool h2 = false;
  const Observation* reset = nullptr;  // h2: the first RST_STREAM (or lost connection), any time
  // h2 (close-semantics §7: "the RST_STREAM is what makes the 1006"): a RST_STREAM from the server that left
  // before our Close reply: read before the reply was written (or the reply's write failed),
  // already waiting in the socket when the reply left (the stream logs peer_gone_before_reply
  // "rst": on loopback it was on the wire first), or behind an END_STREAM that had come before
  // the reply ("fin"): HAProxy sends END_STREAM and RST_STREAM back to back, tens of
  // microseconds apart, so that reset left before our reply reached it.
  bool reset_before_reply() const {
    if (write_failed && (!reply || write_failed < reply)) return true;
    if (!reset) return false;
    return !reply || reset < reply || gone_before_reply != nullptr;
  }
};

Facts collect(const std::vector<Observation>& log, bool h2) {
  Facts f;
  f.h2 = h2;
  for (const auto& o : log) {
    if (!o.side.empty()) continue;  // the h2 connection's, not the WebSocket's
    switch (o.kind) {
      case K::frame_received:
        if (f.close)
          f.frame_after_close = f.frame_after_close ? f.frame_after_close : &o;
        else if (o.opcode == static_cast<std::uint8_t>(wire::Opcode::close))
          f.close = &o;
        break;
      case K::frame_sent:
        if (!f.reply && o.opcode == static_cast<std::uint8_t>(wire::Opcode::close)) f.reply = &o;
        break;
      case K::write_failed:
        if (!f.write_failed) f.write_failed = &o;
        break;
      case K::peer_gone_before_reply:
        if (!f.gone_before_reply) f.gone_before_reply = &o;
        break;
      case K::read_error:
        if (!f.reset) f.reset = &o;
        [[fallthrough]];
      case K::eof:
      case K::close_notify_received:  // reads as EOF (docs/close-semantics.md §6)
      case K::timeout:
        if (f.close && !f.end) f.end = &o;
        break;
      case K::closed:
        if (!f.closed) f.closed = &o;
        break;
      default:
        break;
    }
  }
  return f;
}

ClientOutcome abnormal(std::string why) {
  return {wire::kAbnormalClosure, {}, false, std::move(why), std::nullopt};
}

ClientOutcome received(const Facts& f, bool clean, std::string why) {
  std::optional<std::uint16_t> code = f.close->code ? f.close->code : wire::kAbnormalClosure;
  return {code, f.close->reason, clean, std::move(why), std::nullopt};
}

// Chromium websocket_channel.cc: the first thing that ends the connection decides.
// Over h2 (close-semantics §7): END_STREAM is its EOF; a RST_STREAM before its reply is 1006 (the reply cannot be
// sent), after its reply it changes nothing.
std::optional<ClientOutcome> judge_chrome(const Facts& f, bool legacy) {
  if (f.write_failed) return abnormal("a write failed (the Close reply never reached the wire)");
  if (!f.close) {
    if (f.closed)
      return abnormal(f.h2 ? "stream ended without a Close frame"
                           : "connection ended without a Close frame");
    return std::nullopt;
  }
  if (f.frame_after_close) return abnormal("a frame arrived after the Close frame");
  if (f.h2 && f.reset_before_reply())
    return abnormal("RST_STREAM from the server before its Close reply: stream gone");
  if (!f.end) return std::nullopt;
  switch (f.end->kind) {
    case K::read_error:
      if (f.h2) {
        if (f.reply) return received(f, true, "RST_STREAM after its Close reply");
        return abnormal("RST_STREAM before its Close reply: stream gone");
      }
      return received(f, false, "read error after the Close frame");
    case K::eof:
      return received(f, true, f.h2 ? "server's END_STREAM (EOF)" : "server closed TCP (EOF)");
    case K::close_notify_received:  // SSL_ERROR_ZERO_RETURN: EOF, whatever follows on TCP
      return received(f, true, "server's TLS close_notify (EOF)");
    default:  // timeout
      if (legacy) return abnormal("own close timeout fired (CloseTimeout, legacy build)");
      return received(f, true, "own close timeout fired");
  }
}

// Gecko WebSocketChannel.cpp: never 1006 after a received Close; not clean exactly when the
// server's FIN or RST came before the reply went out. Over h2 (close-semantics §7, ESR 153): a RST_STREAM before
// its reply is 1006 (with an error event); END_STREAM alone changes nothing.
std::optional<ClientOutcome> judge_firefox(const Facts& f) {
  if (!f.close) {
    if (f.closed)
      return abnormal(f.h2 ? "stream ended without a Close frame"
                           : "connection ended without a Close frame");
    return std::nullopt;
  }
  if (f.h2) {
    if (f.reset_before_reply()) return abnormal("RST_STREAM before its Close reply: stream gone");
    if (f.reply) return received(f, true, "reply sent");
    if (f.closed) return received(f, false, "closed before replying");
    return std::nullopt;
  }
  if (f.gone_before_reply)
    return received(f, false,
                    "the server's " + f.gone_before_reply->note + " came before the reply");
  if (f.write_failed) return received(f, false, "the Close reply's write failed");
  if (f.reply) return received(f, true, "reply sent");
  if (f.closed) return received(f, false, "closed before replying");
  return std::nullopt;
}

// WebKit WebSocketTaskCocoa.mm: transport errors are ignored once a Close was parsed.
std::optional<ClientOutcome> judge_safari(const Facts& f) {
  if (f.close) return received(f, true, "Close frame parsed");
  if (f.closed) return abnormal("connection ended without a Close frame");
  return std::nullopt;
}

// RFC 6455 §7.1.4/7.1.5: clean when TCP closed after the closing handshake completed.
std::optional<ClientOutcome> judge_rfc(const Facts& f) {
  if (!f.close) {
    if (f.closed) return abnormal("connection ended without a Close frame");
    return std::nullopt;
  }
  if (f.h2 && f.reset_before_reply())
    return received(f, false, "RST_STREAM before the Close reply: handshake incomplete");
  if (f.reply) return received(f, true, "closing handshake completed");
  if (f.write_failed) return received(f, false, "the Close reply's write failed");
  if (f.closed) return received(f, false, "closed before replying");
  return std::nullopt;
}
}  // namespace

std::optional<std::chrono::milliseconds> default_close_timeout(Profile p) {
  const auto timeout = info(p).close_timeout;
  if (!timeout) return std::nullopt;
  return std::chrono::milliseconds(*timeout / kNanosPerMilli);
}

bool sends_close_notify(Profile p) {
  return p != Profile::chrome && p != Profile::chrome_legacy;
}

std::optional<ClientOutcome> judge_outcome(Profile profile, const std::vector<Observation>& log,
                                           bool over_h2) {
  Facts f = collect(log, over_h2);
  switch (profile) {
    case Profile::chrome:
      return judge_chrome(f, false);
    case Profile::chrome_legacy:
      return judge_chrome(f, true);
    case Profile::firefox:
      return judge_firefox(f);
    case Profile::safari:
      return judge_safari(f);
    case Profile::rfc:
      return judge_rfc(f);
  }
  return std::nullopt;
}

bool agrees(const std::optional<ClientOutcome>& outcome, const Verdict& verdict) {
  return outcome && verdict.closed && outcome->code == verdict.code &&
         outcome->was_clean == verdict.was_clean;
}

}  // namespace closewire::endpoints
