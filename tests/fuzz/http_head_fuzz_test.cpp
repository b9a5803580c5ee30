// The HTTP head parser (harness/wire/http_head.h) on any bytes: a head that finishes when fed
// whole must finish, with the same length and fields, when split at a position the input picks
// and when fed byte by byte (and the other way round).
//
// Input: byte 0 bit 0 = a response (else a request), bytes 1-2 = where to split (modulo the
// stream's length + 1), then the stream.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/wire/http_head.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using closewire::fuzz::finding;
using closewire::wire::HttpHeadParser;
using Kind = HttpHeadParser::Kind;
using State = HttpHeadParser::State;

struct Parsed {
  State state = State::need_more;
  std::size_t head = 0;  // bytes of the stream in the head, once done
  std::string first_line;
  unsigned status = 0;
  bool upgrade = false;
  closewire::wire::HandshakeFields fields;
};

// Feeds the pieces in order, as a leg does, until the head is done or in error.
Parsed parse(Kind kind, const std::vector<std::span<const std::uint8_t>>& pieces) {
  HttpHeadParser parser(kind);
  Parsed p;
  std::size_t before = 0;  // stream bytes in earlier pieces
  for (const auto& piece : pieces) {
    const std::size_t used = parser.feed(piece);
    if (used > piece.size()) finding(fmt::format("feed used {} of {} bytes", used, piece.size()));
    if (parser.state() == State::done) {
      p.head = before + used;
      break;
    }
    if (parser.state() == State::error) break;
    before += piece.size();
  }
  p.state = parser.state();
  p.first_line = parser.first_line();
  p.status = parser.status();
  p.upgrade = parser.is_websocket_upgrade_request();
  p.fields = parser.fields();
  return p;
}

CLOSEWIRE_FUZZ_ORACLE std::string describe(const Parsed& p) {
  const char* state = p.state == State::done ? "done" : p.state == State::error ? "error" : "more";
  return fmt::format(
      "{} head={} line='{}' status={} upgrade={} target='{}' key='{}' accept='{}' "
      "server='{}' envoy={}",
      state, p.head, p.first_line, p.status, p.upgrade, p.fields.target, p.fields.key,
      p.fields.accept, p.fields.server, p.fields.envoy_fields);
}

CLOSEWIRE_FUZZ_ORACLE bool same(const Parsed& a, const Parsed& b) {
  return a.head == b.head && a.first_line == b.first_line && a.status == b.status &&
         a.upgrade == b.upgrade && a.fields.target == b.fields.target &&
         a.fields.key == b.fields.key && a.fields.accept == b.fields.accept &&
         a.fields.server == b.fields.server && a.fields.envoy_fields == b.fields.envoy_fields;
}

CLOSEWIRE_FUZZ_ORACLE void compare(const Parsed& whole, const Parsed& other, const char* how) {
  const bool whole_done = whole.state == State::done;
  const bool other_done = other.state == State::done;
  if (!whole_done && !other_done) return;  // errors may be found at different points
  if (whole_done != other_done || !same(whole, other)) {
    finding(fmt::format("whole: {}\n{}: {}", describe(whole), how, describe(other)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const Kind kind = (data[0] & 1) != 0 ? Kind::response : Kind::request;
  const std::span<const std::uint8_t> stream(data + 3, size - 3);
  const std::size_t at = (std::size_t{data[1]} | std::size_t{data[2]} << 8) % (stream.size() + 1);

  const Parsed whole = parse(kind, {stream});
  if (whole.state == State::done && (whole.head == 0 || whole.head > stream.size())) {
    finding("a finished head of " + std::to_string(whole.head) + " bytes");
  }
  compare(whole, parse(kind, {stream.first(at), stream.subspan(at)}), "split");
  std::vector<std::span<const std::uint8_t>> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.subspan(i, 1));
  compare(whole, parse(kind, bytes), "byte by byte");
  return 0;
}
