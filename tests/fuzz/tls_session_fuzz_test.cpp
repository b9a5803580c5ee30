// The TLS record layer and session (harness/wire/tls_session.h) on any bytes of both directions,
// with a key log holding TLS 1.3 and TLS 1.2 secrets for the client random of all zeros (so a
// crafted ClientHello reaches decryption): fed chunk by chunk and byte by byte, it must report
// the same plaintext, alerts and undecryptable directions.
//
// Input: chunks of [byte: bit 7 = from the server, bits 0-6 = length] then that many bytes.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/wire/tls_session.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using closewire::fuzz::finding;
using namespace closewire::wire;

class Log final : public TlsListener {
 public:
  std::string text;
  void on_plaintext(bool client, std::span<const std::uint8_t> bytes) override {
    // Records may be cut differently: log the bytes, not the pieces.
    for (std::uint8_t b : bytes) text += fmt::format("{}{:02x}", client ? 'c' : 's', b);
  }
  void on_tls_handshake(std::string_view t) override { text += fmt::format("[hello {}]", t); }
  void on_tls_alert(bool client, std::uint8_t level, std::uint8_t d) override {
    text += fmt::format("[alert {} {} {}]", client, level, d);
  }
  void on_tls_undecryptable(bool client, std::string_view why) override {
    text += fmt::format("[undecryptable {} {}]", client, why);
  }
};

const TlsKeyLog& keys() {
  static const TlsKeyLog log = [] {
    TlsKeyLog l;
    const std::string random(64, '0');
    for (const char* label : {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                              "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"}) {
      l.add_line(std::string(label) + " " + random + " " + std::string(64, '1'));
    }
    l.add_line("CLIENT_RANDOM " + random + " " + std::string(96, '2'));
    return l;
  }();
  return log;
}

CLOSEWIRE_FUZZ_ORACLE std::string run(std::span<const std::uint8_t> input, bool bytewise) {
  TlsSession session(&keys());
  Log log;
  std::size_t i = 0;
  while (i < input.size()) {
    const bool client = (input[i] & 0x80) == 0;
    const std::size_t n = std::min<std::size_t>(input[i] & 0x7F, input.size() - i - 1);
    const auto chunk = input.subspan(i + 1, n);
    if (bytewise) {
      for (std::size_t j = 0; j < chunk.size(); ++j) session.feed(client, chunk.subspan(j, 1), log);
    } else {
      session.feed(client, chunk, log);
    }
    i += 1 + n;
  }
  session.finish(true, log);
  session.finish(false, log);
  return log.text +
         fmt::format("|{} {} {}", session.version(), session.suite_id(), session.decrypted());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::string whole = run(input, false);
  const std::string bytes = run(input, true);
  if (whole != bytes) finding("chunk by chunk: " + whole + "\nbyte by byte: " + bytes);
  return 0;
}
