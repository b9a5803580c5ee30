#include "harness/report/json_writer.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "harness/analysis/verdict.h"

namespace closewire::report {
namespace {

// Builds text in a reused scratch buffer through a raw pointer: capacity is checked once per
// item, not per character or small std::string::append call (which cost most of the writer's
// time), and nothing is zero-filled; the result is appended to `out` in one copy at the end.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out), buf_(scratch()), p_(buf_.data()) {}
  ~Writer() { out_.append(buf_.data(), static_cast<std::size_t>(p_ - buf_.data())); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Room for `n` more bytes at the returned pointer; commit() the end of what was written.
  char* room(std::size_t n) {
    if (n > static_cast<std::size_t>(buf_.data() + buf_.size() - p_)) [[unlikely]]
      grow(n);
    return p_;
  }
  void commit(char* end) { p_ = end; }

  void put(char c) {
    *room(1) = c;
    ++p_;
  }
  void put(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
    p_ += s.size();
  }
  template <std::size_t N>
  void lit(const char (&s)[N]) {  // a literal, length known at compile time
    std::memcpy(room(N - 1), s, N - 1);
    p_ += N - 1;
  }
  // fmt's compiled "{}": the same shortest text as the runtime "{}", without parsing a format.
  void number(double v) { p_ = fmt::format_to(room(32), FMT_COMPILE("{}"), v); }
  void number(std::uint64_t v) { p_ = fmt::format_to(room(24), FMT_COMPILE("{}"), v); }
  void number(std::int64_t v) { p_ = fmt::format_to(room(24), FMT_COMPILE("{}"), v); }
  void millis(std::int64_t ns);
  void string(std::string_view text);

 private:
  // nlohmann validates UTF-8 and replaces what is invalid; kept out of line so string() stays a
  // small function with a small stack frame.
  [[gnu::noinline, gnu::cold]] void string_as_nlohmann(std::string_view text) {
    put(nlohmann::json(std::string(text))
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  static std::vector<char>& scratch() {
    thread_local std::vector<char> buffer(16 * 1024);
    return buffer;
  }

  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(p_ - buf_.data());
    buf_.resize(std::max(buf_.size() * 2, used + n));
    p_ = buf_.data() + used;
  }

  std::string& out_;
  std::vector<char>& buf_;
  char* p_;
};

// `ns` / 1e6 as fmt's "{}" writes that double. For 100 <= ns < 1e15 the exact decimal has at most
// 15 significant digits, so it is the shortest text that reads back as the double (DBL_DIG), and
// fmt writes it in fixed notation (exponent in [-4, 16)): digits, a point, no trailing zeros.
void Writer::millis(std::int64_t ns) {
  if (ns < 100 || ns >= 1'000'000'000'000'000) {
    if (ns == 0) {
      put('0');
    } else {
      number(static_cast<double>(ns) / kNanosPerMilli);
    }
    return;
  }
  p_ = fmt::format_to(room(32), FMT_COMPILE("{}"), static_cast<std::uint64_t>(ns / 1'000'000));
  auto frac = static_cast<std::uint32_t>(ns % 1'000'000);
  if (frac == 0) return;
  char digits[6];
  for (int i = 5; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  int n = 6;
  while (digits[n - 1] == '0') --n;
  *p_++ = '.';
  std::memcpy(p_, digits, static_cast<std::size_t>(n));
  p_ += n;
}

// How each byte is written in a JSON string, as nlohmann writes it with ensure_ascii off: 0 as is;
// a letter for a two-character escape (\" \\ \b \f \n \r \t); 'u' for \u00xx (other bytes
// below 0x20); 1 for non-ASCII, which nlohmann validates as UTF-8 (and replaces where invalid).
constexpr std::array<char, 256> kEscapes = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  for (int c = 0x80; c < 0x100; ++c) t[c] = 1;
  t['"'] = '"';
  t['\\'] = '\\';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  return t;
}();

// High bit set in each byte of `w` that is not written as is (below 0x20, '"', '\\', non-ASCII).
// Bytes above the lowest flagged one may be flagged wrongly (borrows); the lowest one is exact.
// (Little-endian: the lowest bits hold the first byte.)
static_assert(std::endian::native == std::endian::little);
inline std::uint64_t escape_mask(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  auto zero_bytes = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  return ((w - ones * 0x20) & ~w & highs) | zero_bytes(w ^ (ones * '"')) |
         zero_bytes(w ^ (ones * '\\')) | (w & highs);
}

void Writer::string(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Worst case every byte as \u00xx; 8 more because plain bytes are stored eight at a time.
  char* p = room(text.size() * 6 + 2 + 8);
  char* const start = p;
  *p++ = '"';
  const char* s = text.data();
  const char* const end = s + text.size();
  for (;;) {
    char e = 0;
    if (end - s >= 8) {  // eight bytes at a time: store them all, keep those before an escape
      std::uint64_t w;
      std::memcpy(&w, s, 8);
      std::memcpy(p, &w, 8);
      const std::uint64_t m = escape_mask(w);
      if (m == 0) {
        s += 8;
        p += 8;
        continue;
      }
      const int k = std::countr_zero(m) / 8;
      s += k;
      p += k;
      e = kEscapes[static_cast<unsigned char>(*s)];
    } else {
      while (s < end && (e = kEscapes[static_cast<unsigned char>(*s)]) == 0) *p++ = *s++;
      if (s == end) break;
    }
    if (e == 1) {  // rare: non-ASCII or invalid UTF-8
      commit(start);
      string_as_nlohmann(text);
      return;
    }
    const auto c = static_cast<unsigned char>(*s++);
    *p++ = '\\';
    *p++ = e;
    if (e == 'u') {
      *p++ = '0';
      *p++ = '0';
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xF];
    }
  }
  *p++ = '"';
  commit(p);
}

void code(Writer& w, const std::optional<std::uint16_t>& code) {
  if (code) {
    w.number(std::uint64_t{*code});
  } else {
    w.lit("null");
  }
}

// Endpoint::str(), quoted, without its temporaries: "1.2.3.4:80" or "[::1]:80".
void endpoint(Writer& w, const Endpoint& e) {
  for (const unsigned char c : e.ip) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {  // an odd address: escape it all
      w.string(e.str());
      return;
    }
  }
  if (e.is_v6()) {
    w.lit("\"[");
    w.put(e.ip);
    w.lit("]:");
  } else {
    w.put('"');
    w.put(e.ip);
    w.put(':');
  }
  w.number(std::uint64_t{e.port});
  w.put('"');
}

void event(Writer& w, const Event& e, Nanos leg_start) {
  w.lit("{\"t\":");
  w.number(static_cast<double>(e.t) / kNanosPerSecond);
  w.lit(",\"t_ns\":");
  w.number(std::int64_t{e.t});
  w.lit(",\"ms\":");
  w.millis(e.t - leg_start);
  if (e.from == Side::client) {
    w.lit(",\"from\":\"client\",\"kind\":");
  } else {
    w.lit(",\"from\":\"server\",\"kind\":");
  }
  w.string(e.kind);
  w.lit(",\"packet\":");
  w.number(std::uint64_t{e.packet});
  if (e.kind == kind::close) {
    w.lit(",\"code\":");
    code(w, e.code);
    w.lit(",\"reason\":");
    w.string(e.reason);
  } else if (!e.text.empty()) {
    w.lit(",\"text\":");
    w.string(e.text);
  }
  if (e.bytes) {
    w.lit(",\"bytes\":");
    w.number(std::uint64_t{e.bytes});
  }
  if (!e.note.empty()) {
    w.lit(",\"note\":");
    w.string(e.note);
  }
  w.put('}');
}

void string_or_null(Writer& w, const std::string& s) {
  if (s.empty()) {
    w.lit("null");
  } else {
    w.string(s);
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  Writer w(out);
  w.string(text);
}

void append_connection_json(std::string& out, const Connection& leg) {
  Writer w(out);
  w.lit("{\"index\":");
  w.number(std::uint64_t{leg.index});
  w.lit(",\"client\":");
  endpoint(w, leg.client);
  w.lit(",\"server\":");
  endpoint(w, leg.server);
  if (is_h2(leg)) {
    w.lit(",\"transport\":\"h2\"");
    if (leg.h2_stream != 0) {
      w.lit(",\"stream\":");
      w.number(std::uint64_t{leg.h2_stream});
    }
  }
  if (leg.websocket) {
    w.lit(",\"websocket\":true");
  } else {
    w.lit(",\"websocket\":false");
  }
  if (leg.syn_seen) {
    w.lit(",\"syn_seen\":true,\"start\":");
  } else {
    w.lit(",\"syn_seen\":false,\"start\":");
  }
  w.number(static_cast<double>(leg.start) / kNanosPerSecond);
  w.lit(",\"events\":[");
  for (std::size_t i = 0; i < leg.events.size(); ++i) {
    if (i) w.put(',');
    event(w, leg.events[i], leg.start);
  }
  w.put(']');
  if (leg.tls) {
    const TlsInfo& tls = *leg.tls;
    w.lit(",\"tls\":{\"version\":");
    string_or_null(w, tls.version);
    w.lit(",\"cipher\":");
    string_or_null(w, tls.cipher);
    w.lit(",\"sni\":");
    string_or_null(w, tls.sni);
    if (tls.decrypted) {
      w.lit(",\"decrypted\":true}");
    } else {
      w.lit(",\"decrypted\":false}");
    }
  }
  w.lit(",\"verdicts\":");
  if (!leg.websocket && !undecryptable_tls(leg)) {
    w.lit("null}");
    return;
  }
  w.put('{');
  bool first = true;
  const auto verdicts = judge_all(leg);
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i) {
    const Profile p = kAllProfiles[i];
    const Verdict& v = verdicts[i];
    if (!first) w.put(',');
    first = false;
    w.string(to_string(p));
    w.lit(":{\"code\":");
    code(w, v.code);
    w.lit(",\"reason\":");
    w.string(v.reason);
    if (v.was_clean) {
      w.lit(",\"was_clean\":true");
    } else {
      w.lit(",\"was_clean\":false");
    }
    if (v.error_event == true) w.lit(",\"error_event\":true");
    if (v.error_event == false) w.lit(",\"error_event\":false");
    if (v.closed) {
      w.lit(",\"closed\":true,\"why\":");
    } else {
      w.lit(",\"closed\":false,\"why\":");
    }
    w.string(v.why);
    if (v.undecided) w.lit(",\"undecided\":true");
    w.put('}');
  }
  w.lit("}}");
}

namespace {

void millis_or_null(Writer& w, const std::optional<Nanos>& d) {
  if (d) {
    w.number(static_cast<double>(*d) / kNanosPerMilli);
  } else {
    w.lit("null");
  }
}

void strings(Writer& w, const std::vector<std::string>& list) {
  w.put('[');
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) w.put(',');
    w.string(list[i]);
  }
  w.put(']');
}

}  // namespace

void append_chain_json(std::string& out, const std::vector<Connection>& legs, const Chain& chain,
                       const std::vector<Diagnosis>& diagnoses) {
  Writer w(out);
  w.lit("{\"legs\":[");
  for (std::size_t i = 0; i < chain.legs.size(); ++i) {
    if (i) w.put(',');
    w.number(std::uint64_t{legs[chain.legs[i]].index});
  }
  w.lit("],\"linked_by\":");
  string_or_null(w, chain.linked_by);
  w.lit(",\"start_ns\":");
  w.number(std::int64_t{chain.legs.empty() ? 0 : legs[chain.legs.front()].start});
  w.lit(",\"hops\":[");
  for (std::size_t i = 0; i < chain.hops.size(); ++i) {
    const Hop& h = chain.hops[i];
    if (i) w.put(',');
    w.lit("{\"hold_ms\":");
    millis_or_null(w, h.hold);
    w.lit(",\"closed_with\":");
    string_or_null(w, h.closed_with);
    w.lit(",\"originated\":");
    strings(w, h.originated);
    w.lit(",\"idle_ms\":");
    millis_or_null(w, h.idle);
    w.lit(",\"product\":");
    string_or_null(w, h.product);
    w.lit(",\"product_evidence\":");
    string_or_null(w, h.product_evidence);
    w.put('}');
  }
  w.lit("],\"diagnosis\":[");
  for (std::size_t i = 0; i < diagnoses.size(); ++i) {
    const Diagnosis& d = diagnoses[i];
    if (i) w.put(',');
    w.lit("{\"mechanism\":");
    w.string(d.mechanism);
    w.lit(",\"origin\":");
    w.string(d.origin);
    w.lit(",\"affects\":{");
    for (std::size_t k = 0; k < d.affects.size(); ++k) {
      const auto& [profile, verdict] = d.affects[k];
      if (k) w.put(',');
      w.string(to_string(profile));
      w.lit(":{\"code\":");
      code(w, verdict.code);
      if (verdict.was_clean) {
        w.lit(",\"was_clean\":true}");
      } else {
        w.lit(",\"was_clean\":false}");
      }
    }
    w.lit("},\"summary\":");
    w.string(d.summary);
    w.lit(",\"fix\":");
    strings(w, d.fix);
    w.lit(",\"known_reports\":");
    strings(w, d.known_reports);
    w.put('}');
  }
  w.lit("],\"notes\":");
  strings(w, chain.notes);
  w.put('}');
}

}  // namespace closewire::report
