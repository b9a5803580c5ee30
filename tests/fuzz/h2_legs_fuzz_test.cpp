// An h2 connection's legs (harness/analysis/h2_legs.h through LegBuilder) on any bytes of both
// directions after the client's preface: streams opened, reset and reused, DATA on closed
// streams, WebSocket frames cut anywhere. Fed chunk by chunk and byte by byte (each byte its own
// packet), it must give the same legs with the same events, and the stream legs' events must be
// in time order.
//
// Input: chunks of [byte: bit 7 = from the server, bits 0-6 = length] then that many bytes; the
// client's preface is put in front of the first client chunk.
#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "harness/analysis/leg_builder.h"
#include "harness/wire/h2_frame_reader.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using closewire::fuzz::finding;
using namespace closewire;

CLOSEWIRE_FUZZ_ORACLE std::string describe(const std::vector<Connection>& legs) {
  std::string out;
  for (const Connection& c : legs) {
    out += fmt::format("[leg {} ws={} h2={} stream={} target={}]", c.index, c.websocket,
                       c.h2_connection, c.h2_stream, c.handshake.target);
    for (const Event& e : c.events) {
      out += fmt::format("{} {} {} {} {} {} {};", to_string(e.from), e.kind, e.code ? *e.code : 0,
                         e.reason, e.text, e.bytes, e.note);
    }
  }
  return out;
}

std::vector<Connection> run(std::span<const std::uint8_t> input, bool bytewise) {
  LegBuilder builder{Connection{}};
  std::uint64_t packet = 0;
  // Times follow the chunks, so both feedings time an event alike: chunk k is at k us.
  std::uint64_t chunk_no = 0;
  const auto feed = [&](Side from, std::span<const std::uint8_t> bytes) {
    ++chunk_no;
    if (bytewise) {
      for (std::size_t j = 0; j < bytes.size(); ++j)
        builder.on_data(from, bytes.subspan(j, 1), static_cast<Nanos>(chunk_no) * 1000, ++packet);
    } else {
      builder.on_data(from, bytes, static_cast<Nanos>(chunk_no) * 1000, ++packet);
    }
  };
  const std::string_view preface = wire::kH2Preface;
  feed(Side::client, {reinterpret_cast<const std::uint8_t*>(preface.data()), preface.size()});
  std::size_t i = 0;
  while (i < input.size()) {
    const Side from = (input[i] & 0x80) != 0 ? Side::server : Side::client;
    const std::size_t n = std::min<std::size_t>(input[i] & 0x7F, input.size() - i - 1);
    feed(from, input.subspan(i + 1, n));
    i += 1 + n;
  }
  std::vector<Connection> legs;
  legs.push_back(builder.finish(static_cast<Nanos>(chunk_no + 1) * 1000));
  for (Connection& c : builder.take_h2_streams()) legs.push_back(std::move(c));
  return legs;
}

// Packet numbers differ between the two feedings (one per byte): compare without them.
CLOSEWIRE_FUZZ_ORACLE void check(const std::vector<Connection>& legs) {
  for (const Connection& c : legs) {
    for (std::size_t k = 1; k < c.events.size(); ++k) {
      if (c.events[k].t < c.events[k - 1].t)
        finding(fmt::format("events out of time order on stream {}", c.h2_stream));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::vector<Connection> whole = run(input, false);
  const std::vector<Connection> bytes = run(input, true);
  check(whole);
  const std::string a = describe(whole);
  const std::string b = describe(bytes);
  if (a != b) finding("chunk by chunk: " + a + "\nbyte by byte: " + b);
  return 0;
}
