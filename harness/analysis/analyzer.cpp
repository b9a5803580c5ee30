#include "harness/analysis/analyzer.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "harness/analysis/leg_pipeline.h"
#include "harness/analysis/packet_source.h"
#include "harness/analysis/tcp_tracker.h"

namespace closewire {
namespace {

// A 4-tuple with its ends in a fixed order, so both directions find the same leg.
struct FlowKey {
  IpAddress a;
  IpAddress b;
  std::uint16_t a_port = 0;
  std::uint16_t b_port = 0;

  static FlowKey of(const TcpSegment& s) {
    const bool src_first = s.src < s.dst || (s.src == s.dst && s.sport <= s.dport);
    return src_first ? FlowKey{s.src, s.dst, s.sport, s.dport}
                     : FlowKey{s.dst, s.src, s.dport, s.sport};
  }
  // Word by word: the defaulted comparison calls memcmp for the address arrays, once per packet.
  friend bool operator==(const FlowKey& x, const FlowKey& y) {
    std::uint64_t wx[4];
    std::uint64_t wy[4];
    std::memcpy(wx, x.a.bytes.data(), 16);
    std::memcpy(wx + 2, x.b.bytes.data(), 16);
    std::memcpy(wy, y.a.bytes.data(), 16);
    std::memcpy(wy + 2, y.b.bytes.data(), 16);
    return ((wx[0] ^ wy[0]) | (wx[1] ^ wy[1]) | (wx[2] ^ wy[2]) | (wx[3] ^ wy[3])) == 0 &&
           x.a.v6 == y.a.v6 && x.b.v6 == y.b.v6 && x.a_port == y.a_port && x.b_port == y.b_port;
  }
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const {
    // Words of both addresses and the ports, multiplied apart and folded (no byte loop per packet).
    std::uint64_t w[4];
    std::memcpy(w, k.a.bytes.data(), 16);
    std::memcpy(w + 2, k.b.bytes.data(), 16);
    std::uint64_t h = (std::uint64_t{k.a_port} << 16 | k.b_port) * 0x9E3779B97F4A7C15ull;
    h ^= (w[0] + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= (w[1] ^ h) * 0x165667B19E3779F9ull;
    h ^= (w[2] + 0x27D4EB2F165667C5ull) * 0x94D049BB133111EBull;
    h ^= (w[3] ^ h) * 0xBF58476D1CE4E5B9ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// One open leg: its tracker feeds the pipeline's builder of the leg (the feed is declared first:
// the tracker holds a reference).
struct Leg {
  Leg(const FlowKey& k, const TcpSegment& first, std::uint64_t i, LegPipeline& pipeline)
      : key(k), index(i), feed(pipeline, i), tracker(first, feed) {}

  static Connection identity(const TcpSegment& first, std::uint64_t index) {
    const TcpTracker::Sides sides = TcpTracker::sides_of(first);
    Connection c;
    c.index = index;
    c.client = Endpoint{sides.client_ip.str(), sides.client_port};
    c.server = Endpoint{sides.server_ip.str(), sides.server_port};
    c.syn_seen = sides.syn_seen;
    c.start = first.t;
    return c;
  }

  FlowKey key;
  std::uint64_t index;
  bool lingering = false;
  LegPipeline::Feed feed;
  TcpTracker tracker;
};

// Open legs by 4-tuple: open addressing with linear probing over a power-of-two array of (hash,
// leg), so a lookup is one probe of a flat array (no bucket chain through other legs' nodes, no
// modulo) and a key comparison on the leg itself, which the packet needs next anyway.
class LegMap {
 public:
  LegMap() : slots_(kInitialSlots) {}

  std::size_t size() const { return size_; }

  // The leg of `key` (whose hash is `hash`), or nullptr.
  Leg* find(const FlowKey& key, std::uint64_t hash) const {
    for (std::size_t i = hash & mask(); slots_[i].leg; i = (i + 1) & mask()) {
      if (slots_[i].hash == hash && slots_[i].leg->key == key) return slots_[i].leg.get();
    }
    return nullptr;
  }

  // Adds a leg whose key is not in the map.
  Leg& insert(std::uint64_t hash, std::unique_ptr<Leg> leg) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    Leg& added = *leg;
    place(hash, std::move(leg));
    ++size_;
    return added;
  }

  // Takes the leg of `key` out of the map (nullptr when absent).
  std::unique_ptr<Leg> take(const FlowKey& key, std::uint64_t hash) {
    std::size_t i = hash & mask();
    for (; slots_[i].leg; i = (i + 1) & mask()) {
      if (slots_[i].hash == hash && slots_[i].leg->key == key) break;
    }
    std::unique_ptr<Leg> taken = std::move(slots_[i].leg);
    if (!taken) return taken;
    --size_;
    // Backward-shift deletion: pull later entries of the probe run into the hole, so every entry
    // stays reachable from its home slot without tombstones.
    for (std::size_t j = (i + 1) & mask(); slots_[j].leg; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].hash & mask();
      const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots_[i] = std::move(slots_[j]);
        i = j;
      }
    }
    return taken;
  }

  // Empties the map, handing out every leg.
  std::vector<std::unique_ptr<Leg>> take_all() {
    std::vector<std::unique_ptr<Leg>> legs;
    legs.reserve(size_);
    for (Slot& slot : slots_) {
      if (slot.leg) legs.push_back(std::move(slot.leg));
    }
    size_ = 0;
    return legs;
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;
  struct Slot {
    std::uint64_t hash = 0;
    std::unique_ptr<Leg> leg;  // null: empty slot
  };

  std::size_t mask() const { return slots_.size() - 1; }
  void place(std::uint64_t hash, std::unique_ptr<Leg> leg) {
    std::size_t i = hash & mask();
    while (slots_[i].leg) i = (i + 1) & mask();
    slots_[i] = Slot{hash, std::move(leg)};
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (Slot& slot : old) {
      if (slot.leg) place(slot.hash, std::move(slot.leg));
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// Legs by 4-tuple, each tracked here and decoded by the pipeline, which hands them out in the
// order they started.
class LegTable {
 public:
  LegTable(const AnalyzerOptions& options, LegPipeline& pipeline)
      : options_(options), pipeline_(pipeline) {}

  void add(const TcpSegment& segment) {
    expire(segment.t);
    const FlowKey key = FlowKey::of(segment);
    const std::uint64_t hash = FlowKeyHash{}(key);
    Leg* leg = open_.find(key, hash);
    if (leg != nullptr && leg->tracker.is_new_connection(segment)) {
      done(open_.take(key, hash), segment.t);  // a new SYN reuses the 4-tuple
      leg = nullptr;
    }
    if (leg == nullptr) {
      pipeline_.open(Leg::identity(segment, next_index_));
      leg = &open_.insert(hash, std::make_unique<Leg>(key, segment, next_index_++, pipeline_));
    }
    leg->tracker.add(segment);
    if (leg->tracker.closed() && !leg->lingering) {
      leg->lingering = true;
      lingering_.push_back({leg->tracker.closed_at(), key, leg->index});
    }
  }

  void finish(Nanos end) {
    // Hand out in index order so the sink sees SYN order without waiting on the map's order.
    std::vector<std::unique_ptr<Leg>> legs = open_.take_all();
    std::sort(legs.begin(), legs.end(),
              [](const auto& a, const auto& b) { return a->index < b->index; });
    for (auto& leg : legs) done(std::move(leg), end);
  }

 private:
  struct Closed {
    Nanos at;
    FlowKey key;
    std::uint64_t index;
  };

  void expire(Nanos now) {
    while (!lingering_.empty() && now - lingering_.front().at > options_.linger) {
      const Closed c = lingering_.front();
      lingering_.pop_front();
      const std::uint64_t hash = FlowKeyHash{}(c.key);
      const Leg* leg = open_.find(c.key, hash);
      if (leg == nullptr || leg->index != c.index) continue;
      done(open_.take(c.key, hash), now);
    }
  }

  void done(std::unique_ptr<Leg> leg, Nanos observed_until) {
    leg->tracker.finish();
    pipeline_.finish(leg->index, observed_until);
  }

  const AnalyzerOptions& options_;
  LegPipeline& pipeline_;
  LegMap open_;
  std::uint64_t next_index_ = 0;
  std::deque<Closed> lingering_;  // in the order they closed
};

}  // namespace

CaptureSummary analyze_capture(const std::string& path, const ConnectionSink& sink,
                               const AnalyzerOptions& options) {
  CaptureSummary summary;
  summary.file = path;
  PacketSource source(path);
  summary.link_type = source.link_type();
  summary.nanosecond_timestamps = source.nanosecond_timestamps();
  // The pipeline adds this capture's Decryption Secrets Blocks over the options' secrets (not
  // copied: a key log can hold hundreds of thousands of sessions).
  LegPipeline pipeline(sink, &options.key_log);
  LegTable table(options, pipeline);
  TcpSegment segment;
  while (source.next(segment)) {
    if (source.has_tls_secrets()) {
      for (const std::string& text : source.take_tls_secrets()) pipeline.add_secrets(text);
    }
    table.add(segment);
  }
  table.finish(source.last_time());
  pipeline.close();
  summary.connections = pipeline.legs_handed_out();
  summary.websockets = pipeline.websockets_handed_out();
  summary.packets = source.packets();
  summary.tcp_packets = source.tcp_packets();
  return summary;
}

}  // namespace closewire
