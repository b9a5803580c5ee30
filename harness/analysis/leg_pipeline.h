// The analyzer's second stage: LegBuilders (HTTP, WebSocket, TLS decoding) on threads of their
// own. The thread reading packets parses them and tracks TCP; what each leg's tracker finds goes
// to the decoder of that leg in batches, in capture order, and legs come out to the sink in SYN
// order as before.
//
// Why threads: on a TLS capture decrypting is most of the work, and with it on the reading thread
// the other cores idled (measured on the 1M-packet comparison: docs/measuring.md). A decoder
// whose legs fill no batch never starts its thread: they are decoded on the caller's at close().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "harness/analysis/analyzer.h"  // ConnectionSink
#include "harness/analysis/connection.h"
#include "harness/analysis/tcp_tracker.h"
#include "harness/wire/tls_key_log.h"

namespace closewire {

class LegPipeline {
  class Decoder;  // one decoding thread with its legs' builders
  class Order;    // finished legs on their way to the sink, in start order

 public:
  using Sink = ConnectionSink;
  static constexpr std::size_t kBatchMessages = 4096;  // a batch is handed over at this many
  static constexpr std::size_t kBatchBytes = 1 << 20;  // ... or this many payload bytes
  static constexpr std::size_t kMaxBatches = 4;  // waiting per decoder before the reader waits

  // `sink` runs on a decoding thread (or the caller's, for a small capture), one leg at a time.
  // `base_keys`: secrets for TLS legs (may be null; must outlive the pipeline). `decoders`: legs
  // are spread over this many threads by index (0: one per core).
  LegPipeline(Sink sink, const wire::TlsKeyLog* base_keys, unsigned decoders = 0);
  // Decodes what was handed over, without rethrowing: the reader is already unwinding.
  ~LegPipeline();
  LegPipeline(const LegPipeline&) = delete;
  LegPipeline& operator=(const LegPipeline&) = delete;

  // A leg's facts, fed by its tracker (the reader's side of one leg).
  class Feed final : public TcpListener {
   public:
    Feed(LegPipeline& pipeline, std::uint64_t index);
    void on_tcp_event(Event&& event) override;
    void on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                 std::uint64_t packet) override;

   private:
    Decoder& decoder_;
    std::uint64_t index_;
  };

  // A new leg; `identity.index` must be one more than the last leg's (the first is 0).
  void open(Connection identity);
  // The leg is done: its builder finishes with `observed_until`, and it goes to the sink once
  // every earlier leg has.
  void finish(std::uint64_t index, Nanos observed_until);
  // NSS key log text for the legs from here on (a pcapng Decryption Secrets Block).
  void add_secrets(const std::string& text);

  // Decodes everything handed over and waits for it; rethrows what the sink or a builder threw.
  void close();
  // Legs, and WebSocket legs, given to the sink (read after close()).
  std::uint64_t legs_handed_out() const;
  std::uint64_t websockets_handed_out() const;

 private:
  Decoder& decoder_of(std::uint64_t index) { return *decoders_[index % decoders_.size()]; }

  std::unique_ptr<Order> order_;
  std::vector<std::unique_ptr<Decoder>> decoders_;
};

}  // namespace closewire
