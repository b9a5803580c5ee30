#include "harness/analysis/analyzer.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "harness/analysis/leg_builder.h"
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
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
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

// One open leg: its tracker feeds its builder (declared first: the tracker holds a reference).
struct Leg {
  Leg(const TcpSegment& first, std::uint64_t index)
      : builder(identity(first, index)), tracker(first, builder) {}

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

  LegBuilder builder;
  TcpTracker tracker;
  bool lingering = false;
};

// Legs by 4-tuple, handed out in the order they started once done: a leg done early waits for
// the earlier ones still open.
class LegTable {
 public:
  LegTable(const ConnectionSink& sink, const AnalyzerOptions& options, CaptureSummary& summary)
      : sink_(sink), options_(options), summary_(summary) {}

  void add(const TcpSegment& segment) {
    expire(segment.t);
    const FlowKey key = FlowKey::of(segment);
    auto it = open_.find(key);
    if (it != open_.end() && it->second->tracker.is_new_connection(segment)) {
      done(std::move(it->second), segment.t);  // a new SYN reuses the 4-tuple
      open_.erase(it);
      it = open_.end();
    }
    if (it == open_.end()) {
      it = open_.emplace(key, std::make_unique<Leg>(segment, next_index_++)).first;
      order_.emplace_back();
    }
    Leg& leg = *it->second;
    leg.tracker.add(segment);
    if (leg.tracker.closed() && !leg.lingering) {
      leg.lingering = true;
      lingering_.push_back({leg.tracker.closed_at(), key, leg.builder.connection().index});
    }
  }

  void finish(Nanos end) {
    // Hand out in index order so the sink sees SYN order without waiting on the map's order.
    std::vector<std::unique_ptr<Leg>> legs;
    legs.reserve(open_.size());
    for (auto& [key, leg] : open_) legs.push_back(std::move(leg));
    open_.clear();
    std::sort(legs.begin(), legs.end(), [](const auto& a, const auto& b) {
      return a->builder.connection().index < b->builder.connection().index;
    });
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
      const auto it = open_.find(c.key);
      if (it == open_.end() || it->second->builder.connection().index != c.index) continue;
      done(std::move(it->second), now);
      open_.erase(it);
    }
  }

  void done(std::unique_ptr<Leg> leg, Nanos observed_until) {
    leg->tracker.finish();
    Connection c = leg->builder.finish(observed_until);
    leg.reset();  // frees decoders and buffers before the leg waits in order_
    order_[c.index - first_waiting_] = std::move(c);
    while (!order_.empty() && order_.front().has_value()) {
      Connection out = std::move(*order_.front());
      order_.pop_front();
      ++first_waiting_;
      ++summary_.connections;
      if (out.websocket) ++summary_.websockets;
      sink_(std::move(out));
    }
  }

  const ConnectionSink& sink_;
  const AnalyzerOptions& options_;
  CaptureSummary& summary_;
  std::unordered_map<FlowKey, std::unique_ptr<Leg>, FlowKeyHash> open_;
  std::deque<std::optional<Connection>> order_;  // legs from index first_waiting_ on
  std::uint64_t first_waiting_ = 0;
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
  LegTable table(sink, options, summary);
  TcpSegment segment;
  while (source.next(segment)) table.add(segment);
  table.finish(source.last_time());
  summary.packets = source.packets();
  summary.tcp_packets = source.tcp_packets();
  return summary;
}

}  // namespace closewire
