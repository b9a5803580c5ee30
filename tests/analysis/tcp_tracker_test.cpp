#include "harness/analysis/tcp_tracker.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace closewire {
namespace {

constexpr std::uint16_t kAck = tcp_flag::ack;
constexpr std::uint16_t kData = tcp_flag::ack | tcp_flag::psh;

IpAddress ip4(std::uint8_t last) {
  IpAddress a;
  a.bytes[0] = 10;
  a.bytes[3] = last;
  return a;
}

// Records everything a tracker reports as one line per call, in order.
struct Recorder : TcpListener {
  std::vector<Event> events;
  std::vector<std::string> log;  // "client tcp.fin #5", "server data 'abc' #4"
  void on_tcp_event(Event&& e) override {
    log.push_back(std::string(to_string(e.from)) + " " + e.kind + " #" + std::to_string(e.packet));
    events.push_back(std::move(e));
  }
  void on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
               std::uint64_t packet) override {
    log.push_back(std::string(to_string(from)) + " data '" +
                  std::string(bytes.begin(), bytes.end()) + "' #" + std::to_string(packet) + " t" +
                  std::to_string(t));
  }
  const Event* find(std::string_view kind) const {
    for (const Event& e : events) {
      if (e.kind == kind) return &e;
    }
    return nullptr;
  }
  int count(std::string_view kind) const {
    int n = 0;
    for (const Event& e : events) n += e.kind == kind ? 1 : 0;
    return n;
  }
};

// Segments of one conversation, by offset from each side's ISN (SYN at 0, data from 1). Packet
// numbers and times count up by one per segment.
class Flow {
 public:
  explicit Flow(std::uint32_t client_isn = 1000, std::uint32_t server_isn = 5000)
      : isn_{client_isn, server_isn} {}

  TcpSegment seg(Side from, std::int64_t offset, std::string_view data = {},
                 std::uint16_t flags = kData, std::int64_t ack_offset = -1,
                 std::uint16_t window = 65535, int wscale = -1) {
    TcpSegment s;
    ++packet_;
    s.packet = packet_;
    s.t = static_cast<Nanos>(packet_) * 1000;
    const bool client = from == Side::client;
    s.src = client ? ip4(1) : ip4(2);
    s.dst = client ? ip4(2) : ip4(1);
    s.sport = client ? 40000 : 80;
    s.dport = client ? 80 : 40000;
    s.seq = isn(from) + static_cast<std::uint32_t>(offset);
    s.ack = ack_offset < 0 ? 0 : isn(peer_of(from)) + static_cast<std::uint32_t>(ack_offset);
    s.flags = flags;
    s.window = window;
    s.wscale = wscale;
    s.payload = {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
    return s;
  }
  // SYN, SYN-ACK, ACK.
  void handshake(TcpTracker*& tracker, Recorder& rec, int wscale = -1,
                 std::uint16_t window = 65535) {
    const TcpSegment syn = seg(Side::client, 0, {}, tcp_flag::syn, -1, window, wscale);
    owned_ = std::make_unique<TcpTracker>(syn, rec);
    tracker = owned_.get();
    tracker->add(syn);
    tracker->add(seg(Side::server, 0, {}, tcp_flag::syn | kAck, 1, window, wscale));
    tracker->add(seg(Side::client, 1, {}, kAck, 1, window));
  }
  std::uint32_t isn(Side s) const { return isn_[s == Side::client ? 0 : 1]; }

 private:
  std::uint32_t isn_[2];
  std::uint64_t packet_ = 0;
  std::unique_ptr<TcpTracker> owned_;
};

TEST(TcpTracker, SynDecidesSidesAndReportsSynAndSynAck) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  EXPECT_TRUE(t->sides().syn_seen);
  EXPECT_EQ(t->sides().client_port, 40000);
  EXPECT_EQ(t->sides().server_port, 80);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"client tcp.syn #1", "server tcp.syn #2"}));
}

TEST(TcpTracker, WithoutSynTheHigherPortIsTheClient) {
  Recorder rec;
  Flow flow;
  const TcpSegment first = flow.seg(Side::server, 1, "hi", kData, 1);  // from port 80
  TcpTracker t(first, rec);
  t.add(first);
  EXPECT_FALSE(t.sides().syn_seen);
  EXPECT_EQ(t.sides().client_port, 40000);
  EXPECT_EQ(t.side_of(first), Side::server);
  EXPECT_EQ(rec.log, (std::vector<std::string>{"server data 'hi' #1 t1000"}));
}

TEST(TcpTracker, SynAckFirstMakesItsReceiverTheClient) {
  Recorder rec;
  Flow flow;
  const TcpSegment synack = flow.seg(Side::server, 0, {}, tcp_flag::syn | kAck, 1);
  const TcpTracker::Sides sides = TcpTracker::sides_of(synack);
  EXPECT_EQ(sides.client_port, 40000);
  EXPECT_TRUE(sides.syn_seen);
}

TEST(TcpTracker, OutOfOrderSegmentsAreDeliveredInOrderWhenTheGapFills) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 6, " world", kData, 1));  // #4 arrives first
  t->add(flow.seg(Side::client, 12, "!", kData, 1));      // #5
  t->add(flow.seg(Side::client, 1, "hello", kData, 1));   // #6 fills the gap
  const std::vector<std::string> want = {
      "client tcp.syn #1", "server tcp.syn #2", "client data 'hello' #6 t6000",
      "client data ' world' #6 t6000", "client data '!' #6 t6000"};
  EXPECT_EQ(rec.log, want);
  EXPECT_EQ(rec.count(kind::retransmit), 0);
}

TEST(TcpTracker, OutOfOrderFinIsReportedAtItsSequencePosition) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::server, 4, {}, tcp_flag::fin | kAck, 1));  // #4: FIN before its data
  EXPECT_EQ(rec.count(kind::fin), 0);
  t->add(flow.seg(Side::server, 1, "abc", kData, 1));  // #5
  ASSERT_EQ(rec.log.size(), 4u);
  EXPECT_EQ(rec.log[2], "server data 'abc' #5 t5000");
  EXPECT_EQ(rec.log[3], "server tcp.fin #5");
  EXPECT_NE(rec.find(kind::fin)->note.find("packet 4"), std::string::npos);
}

TEST(TcpTracker, DataAndFinInOneSegmentGiveDataFirst) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::server, 1, "bye", kData | tcp_flag::fin, 1));
  EXPECT_EQ(rec.log[2], "server data 'bye' #4 t4000");
  EXPECT_EQ(rec.log[3], "server tcp.fin #4");
}

TEST(TcpTracker, RetransmittedFinIsARetransmitNotASecondFin) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, {}, tcp_flag::fin | kAck, 1));
  t->add(flow.seg(Side::client, 1, {}, tcp_flag::fin | kAck, 1));
  EXPECT_EQ(rec.count(kind::fin), 1);
  ASSERT_EQ(rec.count(kind::retransmit), 1);
  EXPECT_EQ(rec.find(kind::retransmit)->note, "FIN");
  EXPECT_EQ(rec.find(kind::retransmit)->packet, 5u);
}

TEST(TcpTracker, RetransmittedDataIsReportedNotDelivered) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, "hello", kData, 1));
  t->add(flow.seg(Side::client, 1, "hello", kData, 1));
  EXPECT_EQ(rec.log.back(), "client tcp.retransmit #5");
  EXPECT_EQ(rec.find(kind::retransmit)->bytes, 5u);
  EXPECT_EQ(rec.find(kind::retransmit)->note, "data");
}

TEST(TcpTracker, PartialOverlapIsTrimmed) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, "hello", kData, 1));
  t->add(flow.seg(Side::client, 3, "llo world", kData, 1));
  ASSERT_EQ(rec.log.size(), 5u);
  EXPECT_EQ(rec.log[3], "client tcp.retransmit #5");
  EXPECT_EQ(rec.log[4], "client data ' world' #5 t5000");
  EXPECT_EQ(rec.find(kind::retransmit)->bytes, 3u);
}

TEST(TcpTracker, DuplicateOutOfOrderSegmentIsARetransmit) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 6, "world", kData, 1));
  t->add(flow.seg(Side::client, 6, "world", kData, 1));
  t->add(flow.seg(Side::client, 1, "hello", kData, 1));
  EXPECT_EQ(rec.count(kind::retransmit), 1);
  EXPECT_EQ(rec.log.back(), "client data 'world' #6 t6000");
}

TEST(TcpTracker, HalfCloseKeepsTheOtherDirectionOpen) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, {}, tcp_flag::fin | kAck, 1));
  EXPECT_FALSE(t->closed());
  t->add(flow.seg(Side::server, 1, "late", kData, 2));
  t->add(flow.seg(Side::server, 5, {}, tcp_flag::fin | kAck, 2));
  EXPECT_TRUE(t->closed());
  EXPECT_EQ(t->closed_at(), 6000);
  const std::vector<std::string> want = {"client tcp.syn #1", "server tcp.syn #2",
                                         "client tcp.fin #4", "server data 'late' #5 t5000",
                                         "server tcp.fin #6"};
  EXPECT_EQ(rec.log, want);
}

TEST(TcpTracker, RstAfterFinIsStillRecorded) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::server, 1, {}, tcp_flag::fin | kAck, 1));  // #4
  t->add(flow.seg(Side::client, 1, {}, kAck, 2));                  // #5
  t->add(flow.seg(Side::server, 2, {}, tcp_flag::rst | kAck, 1));  // #6: after its own FIN
  ASSERT_EQ(rec.count(kind::rst), 1);
  EXPECT_EQ(rec.find(kind::rst)->packet, 6u);
  EXPECT_EQ(rec.find(kind::rst)->from, Side::server);
  EXPECT_TRUE(t->closed());
}

// nginx closes its TLS leg after its FIN; the client's close_notify, sent before that FIN arrived,
// acks only up to it, and nginx's kernel answers with a RST at that ack: the FIN's own seq. Linux
// (tcp_reset_check) resets the receiver anyway, in CLOSE_WAIT, LAST_ACK or CLOSING.
TEST(TcpTracker, RstAtTheSendersFinSeqIsTakenUnlessTheReceiversFinWasAcked) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::server, 1, "bye", kData, 1));              // #4: server data 1..3
  t->add(flow.seg(Side::server, 4, {}, tcp_flag::fin | kAck, 1));  // #5: FIN at 4
  t->add(flow.seg(Side::client, 1, "late", kData, 1));             // #6: acks nothing of it
  t->add(flow.seg(Side::server, 4, {}, tcp_flag::rst | kAck, 5));  // #7: RST at the FIN's seq
  ASSERT_EQ(rec.count(kind::rst), 1);
  EXPECT_EQ(rec.count(kind::rst_ignored), 0);
  EXPECT_NE(rec.find(kind::rst)->note.find("its own FIN"), std::string::npos);

  // Once the receiver has sent its own FIN and had it acked (TIME_WAIT), the same RST is out of
  // the window.
  Recorder rec2;
  Flow flow2;
  TcpTracker* t2 = nullptr;
  flow2.handshake(t2, rec2);
  t2->add(flow2.seg(Side::client, 1, {}, tcp_flag::fin | kAck, 1));  // client FIN at 1
  t2->add(flow2.seg(Side::server, 1, {}, tcp_flag::fin | kAck, 2));  // server FIN, acks it
  t2->add(flow2.seg(Side::client, 2, {}, kAck, 2));
  t2->add(flow2.seg(Side::server, 1, {}, tcp_flag::rst | kAck, 2));  // at the server FIN's seq
  EXPECT_EQ(rec2.count(kind::rst), 0);
  EXPECT_EQ(rec2.count(kind::rst_ignored), 1);
}

TEST(TcpTracker, RstOutsideTheReceiversWindowIsIgnored) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, {}, kAck, 1, /*window=*/1000));
  t->add(flow.seg(Side::server, 1 + 5000, {}, tcp_flag::rst, -1));  // blind RST far ahead
  ASSERT_EQ(rec.count(kind::rst_ignored), 1);
  EXPECT_EQ(rec.count(kind::rst), 0);
  EXPECT_NE(rec.find(kind::rst_ignored)->note.find("outside"), std::string::npos);
  EXPECT_FALSE(t->closed());
  t->add(flow.seg(Side::server, 1 + 999, {}, tcp_flag::rst, -1));  // last byte in the window
  ASSERT_EQ(rec.count(kind::rst), 1);
  EXPECT_NE(rec.find(kind::rst)->note.find("challenge ACK"), std::string::npos);
  EXPECT_TRUE(t->closed());
}

TEST(TcpTracker, RstWindowUsesTheWindowScaleFromBothSyns) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec, /*wscale=*/7);
  t->add(flow.seg(Side::client, 1, {}, kAck, 1, /*window=*/10));  // 10 << 7 = 1280 bytes
  t->add(flow.seg(Side::server, 1 + 2000, {}, tcp_flag::rst, -1));
  EXPECT_EQ(rec.count(kind::rst_ignored), 1);
  t->add(flow.seg(Side::server, 1 + 1200, {}, tcp_flag::rst, -1));
  EXPECT_EQ(rec.count(kind::rst), 1);
}

TEST(TcpTracker, WindowScaleNeedsBothSyns) {
  Recorder rec;
  Flow flow;
  const TcpSegment syn = flow.seg(Side::client, 0, {}, tcp_flag::syn, -1, 65535, 7);
  TcpTracker t(syn, rec);
  t.add(syn);
  t.add(flow.seg(Side::server, 0, {}, tcp_flag::syn | kAck, 1, 65535, -1));
  t.add(flow.seg(Side::client, 1, {}, kAck, 1, /*window=*/10));  // not scaled: 10 bytes
  t.add(flow.seg(Side::server, 1 + 100, {}, tcp_flag::rst, -1));
  EXPECT_EQ(rec.count(kind::rst_ignored), 1);
}

TEST(TcpTracker, WithoutSynsTheWindowScaleIsAssumedWidest) {
  Recorder rec;
  Flow flow;
  const TcpSegment first = flow.seg(Side::client, 1, {}, kAck, 1, /*window=*/16);
  TcpTracker t(first, rec);
  t.add(first);
  t.add(flow.seg(Side::server, 1 + 1000, {}, tcp_flag::rst, -1));  // in 16 << 14
  EXPECT_EQ(rec.count(kind::rst), 1);
}

TEST(TcpTracker, RstWithUnacknowledgedPeerDataLosesIt) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, "0123456789", kData, 1));       // never acknowledged
  t->add(flow.seg(Side::server, 1, {}, tcp_flag::rst | kAck, 1));  // acks only up to 1
  const Event* rst = rec.find(kind::rst);
  ASSERT_NE(rst, nullptr);
  EXPECT_NE(rst->note.find("unacknowledged: 10 bytes"), std::string::npos) << rst->note;
  const Event* lost = rec.find(kind::rst_data_lost);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->from, Side::client);
  EXPECT_EQ(lost->bytes, 10u);
  EXPECT_EQ(lost->packet, 5u);
}

TEST(TcpTracker, RstAfterAcknowledgingEverythingLosesNothing) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, "0123456789", kData, 1));
  t->add(flow.seg(Side::server, 1, {}, tcp_flag::rst | kAck, 11));
  EXPECT_EQ(rec.count(kind::rst), 1);
  EXPECT_EQ(rec.find(kind::rst)->note, "");
  EXPECT_EQ(rec.count(kind::rst_data_lost), 0);
}

TEST(TcpTracker, DataSentAfterTheRstIsLost) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::server, 1, {}, tcp_flag::rst | kAck, 1));
  t->add(flow.seg(Side::client, 1, "reply", kData, 1));
  ASSERT_EQ(rec.log.size(), 5u);
  EXPECT_EQ(rec.log[3], "client data 'reply' #5 t5000");  // still on the wire: decoded
  EXPECT_EQ(rec.log[4], "client tcp.rst_data_lost #5");
  EXPECT_EQ(rec.find(kind::rst_data_lost)->bytes, 5u);
}

TEST(TcpTracker, RetransmittedSyn) {
  Recorder rec;
  Flow flow;
  const TcpSegment syn = flow.seg(Side::client, 0, {}, tcp_flag::syn);
  TcpTracker t(syn, rec);
  t.add(syn);
  const TcpSegment again = flow.seg(Side::client, 0, {}, tcp_flag::syn);
  EXPECT_FALSE(t.is_new_connection(again));
  t.add(again);
  EXPECT_EQ(rec.count(kind::syn), 1);
  EXPECT_EQ(rec.find(kind::retransmit)->note, "SYN");
  Flow other(777);
  EXPECT_TRUE(t.is_new_connection(other.seg(Side::client, 0, {}, tcp_flag::syn)));
}

TEST(TcpTracker, GapTheReceiverAcknowledgedIsSkipped) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  // Bytes 1..10 never made it into the capture; 11.. did, and the server acknowledged them all.
  t->add(flow.seg(Side::client, 11, "tail", kData, 1));  // #4
  t->add(flow.seg(Side::server, 1, {}, kAck, 15));       // #5
  const Event* gap = rec.find(kind::gap);
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(gap->from, Side::client);
  EXPECT_EQ(gap->bytes, 10u);
  EXPECT_EQ(rec.log.back(), "client data 'tail' #4 t4000");  // with its own time
}

TEST(TcpTracker, FinishDeliversWhatWaitsBehindAGapAndItsFin) {
  Recorder rec;
  Flow flow;
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::server, 6, "tail", kData | tcp_flag::fin, 1));
  EXPECT_EQ(rec.count(kind::fin), 0);
  t->finish();
  EXPECT_EQ(rec.count(kind::gap), 1);
  ASSERT_EQ(rec.count(kind::fin), 1);
  EXPECT_EQ(rec.find(kind::fin)->packet, 4u);
}

TEST(TcpTracker, SequenceNumbersWrapAround) {
  Recorder rec;
  Flow flow(0xFFFFFFF0u);
  TcpTracker* t = nullptr;
  flow.handshake(t, rec);
  t->add(flow.seg(Side::client, 1, "0123456789abcdef", kData, 1));  // crosses 2^32
  t->add(flow.seg(Side::client, 17, "next", kData, 1));
  t->add(flow.seg(Side::client, 17, "next", kData, 1));
  EXPECT_EQ(rec.log[2], "client data '0123456789abcdef' #4 t4000");
  EXPECT_EQ(rec.log[3], "client data 'next' #5 t5000");
  EXPECT_EQ(rec.count(kind::retransmit), 1);
}

}  // namespace
}  // namespace closewire
