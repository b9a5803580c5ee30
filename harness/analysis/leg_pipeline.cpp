#include "harness/analysis/leg_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "harness/analysis/leg_builder.h"

namespace closewire {
namespace {

enum class Kind : std::uint8_t { open, tcp_event, data, finish, secrets };

struct Message {
  Kind kind;
  Side from = Side::client;
  std::uint64_t leg = 0;
  Nanos t = 0;
  std::uint64_t packet = 0;
  std::size_t at = 0;  // data: offset into bytes; else the index into opened/events/secrets
  std::size_t size = 0;
};

// Messages for one decoder, with what they carry in vectors of their own so a batch's buffers are
// reused from one batch to the next.
struct Batch {
  std::vector<Message> messages;
  std::vector<std::uint8_t> bytes;
  std::vector<Connection> opened;
  std::vector<Event> events;
  std::vector<std::string> secrets;

  bool empty() const { return messages.empty(); }
  bool full() const {
    return messages.size() >= LegPipeline::kBatchMessages ||
           bytes.size() >= LegPipeline::kBatchBytes;
  }
  void clear() {
    messages.clear();
    bytes.clear();
    opened.clear();
    events.clear();
    secrets.clear();
  }
};

}  // namespace

class LegPipeline::Order {
 public:
  explicit Order(Sink sink) : sink_(std::move(sink)) {}

  // `c` is finished (with its h2 stream legs, which follow it): they and every leg waiting behind
  // them go to the sink once their turn comes. What the sink throws goes up once; after that,
  // legs are dropped.
  void done(Connection&& c, std::vector<Connection>&& streams) {
    std::lock_guard lock(mutex_);
    if (failed_) return;
    const std::size_t slot = c.index - first_waiting_;
    if (slot >= waiting_.size()) waiting_.resize(slot + 1);
    waiting_[slot] = Finished{std::move(c), std::move(streams)};
    while (!waiting_.empty() && waiting_.front().has_value()) {
      Finished out = std::move(*waiting_.front());
      waiting_.pop_front();
      ++first_waiting_;
      try {
        hand_out(std::move(out.leg));
        for (Connection& stream : out.streams) hand_out(std::move(stream));
      } catch (...) {
        failed_ = true;
        throw;
      }
    }
  }

  std::uint64_t handed_out() const {
    std::lock_guard lock(mutex_);
    return handed_out_;
  }
  std::uint64_t websockets() const {
    std::lock_guard lock(mutex_);
    return websockets_;
  }

 private:
  Sink sink_;
  mutable std::mutex mutex_;
  struct Finished {
    Connection leg;
    std::vector<Connection> streams;
  };

  void hand_out(Connection&& leg) {
    ++handed_out_;
    if (leg.websocket) ++websockets_;
    sink_(std::move(leg));
  }

  std::deque<std::optional<Finished>> waiting_;  // finished legs from first_waiting_ on
  std::uint64_t first_waiting_ = 0;
  std::uint64_t handed_out_ = 0;
  std::uint64_t websockets_ = 0;
  bool failed_ = false;
};

class LegPipeline::Decoder {
 public:
  // Decodes the legs the pipeline gives it: one index in every `shards`.
  Decoder(Order& order, const wire::TlsKeyLog* base_keys, std::uint64_t shards)
      : order_(order), shards_(shards) {
    keys_.set_base(base_keys);
    filling_.messages.reserve(kBatchMessages);
  }
  ~Decoder() { stop(); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  Batch& filling() { return filling_; }
  void push(const Message& m) {
    filling_.messages.push_back(m);
    if (filling_.full()) hand_over();
  }

  // Decodes everything handed over (here, when the thread never started) and rethrows what
  // decoding threw.
  void close() {
    if (!thread_.joinable()) {
      Batch batch = std::exchange(filling_, Batch{});
      if (!failed_) decode(batch);
      return;
    }
    hand_over();
    stop();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void hand_over() {
    if (filling_.empty()) return;
    if (!thread_.joinable()) thread_ = std::thread([this] { work(); });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < kMaxBatches || failed_; });
    if (failed_) {
      // Nothing more is decoded: the reader stops with what went wrong here.
      filling_.clear();
      if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
      return;
    }
    queue_.push_back(std::move(filling_));
    if (spare_.empty()) {
      filling_ = Batch{};
    } else {
      filling_ = std::move(spare_.back());
      spare_.pop_back();
    }
    filling_.messages.reserve(kBatchMessages);
    changed_.notify_all();
  }

  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      Batch batch = std::move(queue_.front());
      queue_.pop_front();
      const bool skip = failed_;
      lock.unlock();
      if (!skip) {
        try {
          decode(batch);
        } catch (...) {
          lock.lock();
          failed_ = true;
          error_ = std::current_exception();
          lock.unlock();
        }
      }
      batch.clear();
      lock.lock();
      spare_.push_back(std::move(batch));
      changed_.notify_all();  // room for the reader
    }
  }

  // This decoder's legs are shard, shard + shards, ...: index / shards numbers them from 0.
  std::unique_ptr<LegBuilder>& slot(std::uint64_t index) {
    return builders_[index / shards_ - first_builder_];
  }

  void decode(Batch& batch) {
    std::vector<std::string> ignored;  // a malformed line in a capture's secrets is passed over
    for (const Message& m : batch.messages) {
      switch (m.kind) {
        case Kind::open:
          builders_.push_back(std::make_unique<LegBuilder>(std::move(batch.opened[m.at]), &keys_));
          break;
        case Kind::tcp_event:
          slot(m.leg)->on_tcp_event(std::move(batch.events[m.at]));
          break;
        case Kind::data:
          slot(m.leg)->on_data(m.from, std::span(batch.bytes.data() + m.at, m.size), m.t, m.packet);
          break;
        case Kind::finish:
          finish(m.leg, m.t);
          break;
        case Kind::secrets:
          keys_.add_text(batch.secrets[m.at], ignored);
          break;
      }
    }
  }

  void finish(std::uint64_t index, Nanos observed_until) {
    std::unique_ptr<LegBuilder>& builder = slot(index);
    Connection c = builder->finish(observed_until);
    std::vector<Connection> streams = builder->take_h2_streams();
    builder.reset();  // frees decoders and buffers before the leg waits for its turn
    while (!builders_.empty() && !builders_.front()) {
      builders_.pop_front();
      ++first_builder_;
    }
    order_.done(std::move(c), std::move(streams));
  }

  Order& order_;
  const std::uint64_t shards_;
  // Reader's side.
  Batch filling_;
  // Shared.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  std::vector<Batch> spare_;  // decoded batches, their buffers kept for reuse
  bool stopping_ = false;
  bool failed_ = false;  // decoding threw: the rest is dropped
  std::exception_ptr error_;
  std::thread thread_;
  // Decoding side.
  wire::TlsKeyLog keys_;
  std::deque<std::unique_ptr<LegBuilder>> builders_;  // this decoder's legs from first_builder_ on
  std::uint64_t first_builder_ = 0;
};

LegPipeline::LegPipeline(Sink sink, const wire::TlsKeyLog* base_keys, unsigned decoders)
    : order_(std::make_unique<Order>(std::move(sink))) {
  if (decoders == 0) decoders = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  for (unsigned i = 0; i < decoders; ++i)
    decoders_.push_back(std::make_unique<Decoder>(*order_, base_keys, decoders));
}

LegPipeline::~LegPipeline() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the reader's own error is the one that counts
  }
}

LegPipeline::Feed::Feed(LegPipeline& pipeline, std::uint64_t index)
    : decoder_(pipeline.decoder_of(index)), index_(index) {}

void LegPipeline::Feed::on_tcp_event(Event&& event) {
  Batch& b = decoder_.filling();
  Message m{Kind::tcp_event};
  m.leg = index_;
  m.at = b.events.size();
  b.events.push_back(std::move(event));
  decoder_.push(m);
}

void LegPipeline::Feed::on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                                std::uint64_t packet) {
  Batch& b = decoder_.filling();
  const Message m{Kind::data, from, index_, t, packet, b.bytes.size(), bytes.size()};
  b.bytes.insert(b.bytes.end(), bytes.begin(), bytes.end());
  decoder_.push(m);
}

void LegPipeline::open(Connection identity) {
  Decoder& decoder = decoder_of(identity.index);
  Batch& b = decoder.filling();
  Message m{Kind::open};
  m.leg = identity.index;
  m.at = b.opened.size();
  b.opened.push_back(std::move(identity));
  decoder.push(m);
}

void LegPipeline::finish(std::uint64_t index, Nanos observed_until) {
  Message m{Kind::finish};
  m.leg = index;
  m.t = observed_until;
  decoder_of(index).push(m);
}

void LegPipeline::add_secrets(const std::string& text) {
  for (auto& decoder : decoders_) {
    Batch& b = decoder->filling();
    Message m{Kind::secrets};
    m.at = b.secrets.size();
    b.secrets.push_back(text);
    decoder->push(m);
  }
}

void LegPipeline::close() {
  // Every decoder is closed (its thread joined) before the first error goes up.
  std::exception_ptr first;
  for (auto& decoder : decoders_) {
    try {
      decoder->close();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

std::uint64_t LegPipeline::legs_handed_out() const {
  return order_->handed_out();
}

std::uint64_t LegPipeline::websockets_handed_out() const {
  return order_->websockets();
}

}  // namespace closewire
