#include "tools/gen_capture/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <queue>
#include <stdexcept>
#include <vector>

#include "harness/analysis/key_log_file.h"
#include "harness/analysis/packet_source.h"
#include "harness/wire/handshake.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/frame.h"
#include "harness/wire/frame_encoder.h"
#include "tools/gen_capture/rng.h"
#include "tools/gen_capture/h2_layer.h"
#include "tools/gen_capture/tls_layer.h"

// Packets are serialised by hand into one big output buffer rather than built with libtins'
// EthernetII/IP/TCP/RawPDU: every packet here is Ethernet + IPv4 (no options) + TCP (fixed
// options), so writing the ~66 header bytes directly is a few dozen stores, where a PDU tree
// would allocate and copy per packet (or need fragile patching of serialised templates).
// That is what lets a million packets be written in well under a few seconds. IP header and TCP
// checksums are computed (cheap: one pass over each packet) so the capture is valid for any
// tool; tshark and closewire would accept bad ones, but Wireshark would flag every packet.

namespace closewire::gen {
namespace {

constexpr Nanos kMicro = 1000;
// 2025-01-01T00:00:00Z: the capture's first SYN.
constexpr Nanos kBaseTime = 1'735'689'600LL * kNanosPerSecond;

// --- one connection's packets, planned up front -------------------------------------------

namespace flag = tcp_flag;

constexpr int kClient = 0, kServer = 1;

struct Segment {
  Nanos t = 0;
  std::uint32_t seq = 0, ack = 0, tsval = 0, tsecr = 0;
  std::uint32_t offset = 0;  // payload in Plan::data
  std::uint16_t length = 0;
  std::uint16_t window = 0;
  std::uint16_t ip_id = 0;
  std::uint8_t from = kClient;
  std::uint8_t flags = 0;
};

struct Plan {
  std::vector<Segment> segments;
  std::string data;
  std::size_t next = 0;
  ClientAddress client;
};

unsigned data_messages(const GeneratorOptions& o) {
  return o.packets_per_connection > 12 ? (o.packets_per_connection - 12) / 2 : 0;
}

// Longest a connection lasts: the 2 s client timeout, plus the text frames.
Nanos max_lifetime(const GeneratorOptions& o) {
  return 2500 * kNanosPerMilli + static_cast<Nanos>(data_messages(o)) * 400 * kMicro;
}

const char* const kTopics[] = {"ticker", "chat", "presence", "orders", "metrics", "alerts"};

class PlanBuilder {
 public:
  PlanBuilder(Plan& plan, Rng& rng, Nanos start)
      : plan_(plan), rng_(rng), t_(start), start_(start) {
    isn_[kClient] = static_cast<std::uint32_t>(rng_.next());
    isn_[kServer] = static_cast<std::uint32_t>(rng_.next());
    ts_base_[kClient] = static_cast<std::uint32_t>(rng_.next());
    ts_base_[kServer] = static_cast<std::uint32_t>(rng_.next());
    ip_id_[kClient] = static_cast<std::uint16_t>(rng_.next());
    ip_id_[kServer] = static_cast<std::uint16_t>(rng_.next());
    nxt_[kClient] = isn_[kClient];
    nxt_[kServer] = isn_[kServer];
  }

  Nanos now() const { return t_; }
  // Moves the clock by about `us` microseconds (+-25 %, at least 1 us).
  void after(std::int64_t us) { after(us, rng_); }
  // The same, drawing from `rng` (the TLS steps' own, so they leave rng_'s sequence alone).
  void after(std::int64_t us, Rng& rng) {
    t_ += std::max<Nanos>(kMicro, us * kMicro * (768 + rng.below(512)) / 1024);
  }
  void at(Nanos t) { t_ = t; }

  void send(int from, std::uint8_t flags, std::string_view payload = {}) {
    const int peer = 1 - from;
    Segment s;
    s.t = t_;
    s.from = static_cast<std::uint8_t>(from);
    s.flags = flags;
    s.seq = nxt_[from];
    s.ack = (flags & flag::ack) ? nxt_[peer] : 0;
    s.window = (flags & flag::syn) ? (from == kClient ? 65495 : 65483) : 64;  // wscale 10
    s.ip_id = (flags & flag::syn) && from == kServer ? 0 : ip_id_[from]++;
    s.tsval = ts_base_[from] + static_cast<std::uint32_t>((t_ - start_) / kNanosPerMilli);
    s.tsecr = last_tsval_[peer];
    last_tsval_[from] = s.tsval;
    s.offset = static_cast<std::uint32_t>(plan_.data.size());
    s.length = static_cast<std::uint16_t>(payload.size());
    plan_.data.append(payload);
    plan_.segments.push_back(s);
    nxt_[from] += static_cast<std::uint32_t>(payload.size()) + ((flags & flag::syn) ? 1 : 0) +
                  ((flags & flag::fin) ? 1 : 0);
  }

  std::array<std::uint8_t, 4> mask_key() {
    const auto v = static_cast<std::uint32_t>(rng_.next());
    return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
  }

 private:
  Plan& plan_;
  Rng& rng_;
  Nanos t_;
  Nanos start_;
  std::uint32_t isn_[2], nxt_[2], ts_base_[2], last_tsval_[2] = {0, 0};
  std::uint16_t ip_id_[2];
};

// `tls` (with --tls): the connection runs over TLS 1.3; its key log lines go to `key_log`.
void build_plan(Plan& plan, std::uint64_t index, const GeneratorOptions& o, Nanos start,
                TlsLayer* tls, H2Layer* h2, std::string& key_log) {
  plan.segments.clear();
  plan.data.clear();
  plan.next = 0;
  plan.client = client_for(index, o);
  Rng rng(splitmix64(o.seed * 0xD6E8FEB86659FD93ULL) ^ splitmix64(index + 0x51ED27));
  PlanBuilder b(plan, rng, start);
  using wire::Opcode;

  // TCP handshake.
  b.send(kClient, flag::syn);
  b.after(12);
  b.send(kServer, flag::syn | flag::ack);
  b.after(12);
  b.send(kClient, flag::ack);

  // TLS: the handshake up to the server's Finished. Its randomness (secrets, filler, the timing
  // of its own steps) comes from a second stream, so every draw of `rng` -- the WebSocket key,
  // topic, messages, masks and the timing of the plain steps -- is the same with and without TLS.
  Rng tls_rng(splitmix64(o.seed * 0xA24BAED4963EE407ULL) ^ splitmix64(index + 0x7F4A7C15));
  if (tls) {
    tls->begin(tls_rng);
    tls->append_key_log(key_log);
    b.after(300, tls_rng);
    b.send(kClient, flag::psh | flag::ack, tls->client_hello(tls_rng));
    b.after(600, tls_rng);  // the server's key exchange and signature
    b.send(kServer, flag::psh | flag::ack, tls->server_flight(tls_rng));
    b.after(10, tls_rng);
    b.send(kClient, flag::ack);
  }
  // What `from` puts on the wire for `bytes`: with TLS, one application_data record.
  const auto wire_bytes = [&](int from, std::string bytes) {
    return tls ? tls->application_data(from, bytes) : bytes;
  };
  // What `from` puts on the wire for WebSocket frames `bytes` (then `after`, h2 frames of the
  // same write, as HAProxy writes its Close, END_STREAM and RST_STREAM at once).
  const auto ws_bytes = [&](int from, const std::string& bytes, bool end_stream = false,
                            const std::string& after = {}) {
    return wire_bytes(from, h2 ? H2Layer::data(bytes, end_stream) + after : bytes);
  };

  // HTTP upgrade, as headless Chrome sends it, and the server's 101.
  std::uint8_t key_bytes[16];
  for (auto& k : key_bytes) k = static_cast<std::uint8_t>(rng.next());
  const std::string key = wire::base64(key_bytes, sizeof key_bytes);
  const std::string accept = wire::websocket_accept(key);
  const char* topic = kTopics[rng.below(std::size(kTopics))];
  const std::string request = fmt::format(
      "GET /ws/{} HTTP/1.1\r\n"
      "Host: 127.0.0.1:{}\r\n"
      "Connection: Upgrade\r\n"
      "Pragma: no-cache\r\n"
      "Cache-Control: no-cache\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "HeadlessChrome/156.0.0.0 Safari/537.36\r\n"
      "Upgrade: websocket\r\n"
      "Origin: http://127.0.0.1:{}\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Accept-Encoding: gzip, deflate, br, zstd\r\n"
      "Accept-Language: en-US,en;q=0.9\r\n"
      "Sec-WebSocket-Key: {}\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
      "\r\n",
      topic, o.server_port, o.server_port, key);
  const std::string response = fmt::format(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: {}\r\n"
      "\r\n",
      accept);
  b.after(400);
  if (h2) {
    h2->begin();
    const std::string authority = fmt::format("127.0.0.1:{}", o.server_port);
    b.send(kClient, flag::psh | flag::ack,
           tls->client_finished_and(tls_rng, h2->client_open("/ws/" + std::string(topic),
                                                              authority)));
    b.after(8);
    b.send(kServer, flag::psh | flag::ack, tls->session_tickets(tls_rng));
  } else if (tls) {
    // The client's Finished with the request right behind it; the server answers with its
    // session tickets where it would only have acknowledged.
    b.send(kClient, flag::psh | flag::ack, tls->client_finished_and(tls_rng, request));
    b.after(8);
    b.send(kServer, flag::psh | flag::ack, tls->session_tickets(tls_rng));
  } else {
    b.send(kClient, flag::psh | flag::ack, request);
    b.after(8);
    b.send(kServer, flag::ack);
  }
  b.after(1200);
  b.send(kServer, flag::psh | flag::ack, wire_bytes(kServer, h2 ? h2->server_open() : response));
  b.after(10);
  b.send(kClient, flag::ack);

  // Text frames, client and server in turn, each acknowledged.
  const unsigned messages = data_messages(o);
  for (unsigned m = 0; m < messages; ++m) {
    const int from = m % 2 == 0 ? kClient : kServer;
    std::string text;
    if (from == kClient) {
      text = fmt::format(R"({{"op":"subscribe","channel":"{}-{}","seq":{}}})", topic,
                         rng.below(100), m / 2);
    } else {
      text = fmt::format(R"({{"op":"update","channel":"{}","seq":{},"value":{}.{:02}}})", topic,
                         m / 2, rng.below(10000), rng.below(100));
    }
    b.after(250);
    if (from == kClient) {
      b.send(kClient, flag::psh | flag::ack,
             ws_bytes(kClient, wire::encode_frame(Opcode::text, text, true, b.mask_key())));
    } else {
      b.send(kServer, flag::psh | flag::ack,
             ws_bytes(kServer, wire::encode_frame(Opcode::text, text)));
    }
    b.after(8);
    b.send(1 - from, flag::ack);
  }

  // The close.
  const ClosePattern pattern = pattern_for(index, o.seed);
  const std::string close_payload = pattern == ClosePattern::no_status
                                        ? std::string()
                                        : wire::encode_close_payload(kCloseCode, kCloseReason);
  b.after(300);
  const std::string server_close = wire::encode_frame(Opcode::close, close_payload);
  if (h2 && pattern == ClosePattern::rst_before_reply) {
    // HAProxy behind a Close-then-FIN backend: Close, an empty END_STREAM, RST_STREAM(CANCEL).
    b.send(kServer, flag::psh | flag::ack,
           ws_bytes(kServer, server_close, false,
                    H2Layer::data("", true) + H2Layer::rst_stream()));
  } else {
    b.send(kServer, flag::psh | flag::ack, ws_bytes(kServer, server_close));
  }
  b.after(8);
  b.send(kClient, flag::ack);
  if (pattern == ClosePattern::rst_before_reply) {
    b.after(150);
    b.send(kServer, flag::rst | flag::ack);
    return;
  }
  b.after(500);
  // Chromium puts END_STREAM on its Close reply.
  b.send(kClient, flag::psh | flag::ack,
         ws_bytes(kClient, wire::encode_frame(Opcode::close, close_payload, true, b.mask_key()),
                  /*end_stream=*/true));
  const Nanos reply_t = b.now();
  if (h2 && pattern != ClosePattern::client_timeout) {
    // The server side ends the stream too (and resets it, in rst-after-reply), before TCP.
    b.after(300);
    b.send(kServer, flag::psh | flag::ack,
           wire_bytes(kServer, H2Layer::data("", true) +
                                   (pattern == ClosePattern::rst_after_reply
                                        ? H2Layer::rst_stream()
                                        : std::string())));
  }
  switch (pattern) {
    case ClosePattern::clean:
    case ClosePattern::no_status:
      b.after(600);
      if (tls && pattern == ClosePattern::clean) {
        // A server that shuts TLS down before closing the socket (SSL_shutdown, then close).
        b.send(kServer, flag::psh | flag::ack, tls->close_notify(kServer));
        b.after(20, tls_rng);
      }
      b.send(kServer, flag::fin | flag::ack);
      b.after(250);
      b.send(kClient, flag::fin | flag::ack);
      b.after(8);
      b.send(kServer, flag::ack);
      break;
    case ClosePattern::rst_after_reply:
      b.after(2000);
      b.send(kServer, flag::rst | flag::ack);
      break;
    case ClosePattern::client_timeout:
      // The server never closes: it acknowledges the reply late (delayed ACK), the client gives
      // up after Chromium's 2 s close timeout (it fires at ~2003 ms), then the server follows.
      b.at(reply_t + 40 * kNanosPerMilli);
      b.send(kServer, flag::ack);
      b.at(reply_t + 2003 * kNanosPerMilli + rng.below(1000) * kMicro);
      b.send(kClient, flag::fin | flag::ack);
      b.after(300);
      b.send(kServer, flag::fin | flag::ack);
      b.after(10);
      b.send(kClient, flag::ack);
      break;
    case ClosePattern::rst_before_reply:
      break;
  }
}

// --- pcap output ---------------------------------------------------------------------------

// A file written from a memory buffer in large pieces; errors name the file. The capture and its
// key log are both written this way.
class BufferedFile {
 public:
  explicit BufferedFile(std::string path)
      : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {
    if (!file_) fail("cannot create");
  }
  ~BufferedFile() {
    if (file_) std::fclose(file_);
  }
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  std::string& buffer() { return buffer_; }
  // Writes the buffer out once it holds `limit` bytes or more.
  void flush_at(std::size_t limit) {
    if (buffer_.size() >= limit) flush();
  }
  // Flushes and closes; the bytes written in all.
  std::uint64_t close() {
    flush();
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail("cannot write");
    return written_;
  }

 private:
  void flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      fail("cannot write");
    }
    written_ += buffer_.size();
    buffer_.clear();
  }
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(fmt::format("{}: {}: {}", path_, what, std::strerror(errno)));
  }

  std::string path_;
  std::FILE* file_;
  std::string buffer_;
  std::uint64_t written_ = 0;
};

class PcapWriter {
 public:
  static constexpr std::size_t kBufferSize = 4 << 20;

  explicit PcapWriter(const std::string& path) : file_(path) {
    file_.buffer().reserve(kBufferSize);
    put32(0xA1B2C3D4);  // classic pcap, microsecond timestamps, native byte order
    put16(2);
    put16(4);
    put32(0);       // thiszone
    put32(0);       // sigfigs
    put32(262144);  // snaplen
    put32(1);       // LINKTYPE_ETHERNET
  }

  void packet(const Plan& plan, const Segment& s, std::uint16_t server_port);

  std::uint64_t close() { return file_.close(); }
  std::uint64_t packets() const { return packets_; }

 private:
  void put16(std::uint16_t v) { append(&v, 2); }
  void put32(std::uint32_t v) { append(&v, 4); }
  void append(const void* p, std::size_t n) { file_.buffer().append(static_cast<const char*>(p), n); }

  BufferedFile file_;
  std::uint64_t packets_ = 0;
};

inline void be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// Ones' complement sum of 16-bit big-endian words.
std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (; n >= 2; p += 2, n -= 2) sum += (std::uint32_t{p[0]} << 8) | p[1];
  if (n) sum += std::uint32_t{p[0]} << 8;
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void PcapWriter::packet(const Plan& plan, const Segment& s, std::uint16_t server_port) {
  const bool syn = (s.flags & flag::syn) != 0;
  const std::size_t options = syn ? 20 : 12;
  const std::size_t tcp_len = 20 + options + s.length;
  const std::size_t ip_len = 20 + tcp_len;
  const std::size_t frame_len = 14 + ip_len;

  file_.flush_at(kBufferSize - 16 - frame_len);
  std::string& buffer = file_.buffer();
  const std::size_t at = buffer.size();
  buffer.resize(at + 16 + frame_len);
  auto* p = reinterpret_cast<std::uint8_t*>(buffer.data()) + at;

  // Record header (native byte order, like the file header).
  const Nanos t = s.t;
  const std::uint32_t rec[4] = {static_cast<std::uint32_t>(t / kNanosPerSecond),
                                static_cast<std::uint32_t>((t % kNanosPerSecond) / kMicro),
                                static_cast<std::uint32_t>(frame_len),
                                static_cast<std::uint32_t>(frame_len)};
  std::memcpy(p, rec, 16);
  p += 16;

  // Ethernet: all-zero MACs as on Linux's lo, IPv4.
  std::memset(p, 0, 12);
  be16(p + 12, 0x0800);
  p += 14;

  // IPv4.
  std::uint8_t* ip = p;
  const auto& client_ip = plan.client.ip;
  static constexpr std::array<std::uint8_t, 4> kServerIp{127, 0, 0, 1};
  const auto& src = s.from == kClient ? client_ip : kServerIp;
  const auto& dst = s.from == kClient ? kServerIp : client_ip;
  ip[0] = 0x45;
  ip[1] = 0;
  be16(ip + 2, static_cast<std::uint16_t>(ip_len));
  be16(ip + 4, s.ip_id);
  be16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  be16(ip + 10, 0);
  std::memcpy(ip + 12, src.data(), 4);
  std::memcpy(ip + 16, dst.data(), 4);
  be16(ip + 10, fold(sum16(ip, 20)));

  // TCP.
  std::uint8_t* tcp = ip + 20;
  be16(tcp, s.from == kClient ? plan.client.port : server_port);
  be16(tcp + 2, s.from == kClient ? server_port : plan.client.port);
  be32(tcp + 4, s.seq);
  be32(tcp + 8, s.ack);
  tcp[12] = static_cast<std::uint8_t>(((20 + options) / 4) << 4);
  tcp[13] = s.flags;
  be16(tcp + 14, s.window);
  be16(tcp + 16, 0);
  be16(tcp + 18, 0);
  std::uint8_t* opt = tcp + 20;
  if (syn) {  // MSS 65495, SACK permitted, timestamps, NOP, window scale 10 (Linux lo)
    const std::uint8_t head[] = {2, 4, 0xFF, 0xD7, 4, 2, 8, 10};
    std::memcpy(opt, head, 8);
    be32(opt + 8, s.tsval);
    be32(opt + 12, s.tsecr);
    opt[16] = 1;
    opt[17] = 3;
    opt[18] = 3;
    opt[19] = 10;
  } else {  // NOP, NOP, timestamps
    opt[0] = 1;
    opt[1] = 1;
    opt[2] = 8;
    opt[3] = 10;
    be32(opt + 4, s.tsval);
    be32(opt + 8, s.tsecr);
  }
  std::memcpy(tcp + 20 + options, plan.data.data() + s.offset, s.length);
  std::uint32_t sum = sum16(ip + 12, 8);  // pseudo header: addresses, protocol, TCP length
  sum += 6 + static_cast<std::uint32_t>(tcp_len);
  be16(tcp + 16, fold(sum16(tcp, tcp_len, sum)));
  ++packets_;
}

struct Pending {
  Nanos t;
  std::uint64_t index;
  std::uint32_t slot;
  bool operator>(const Pending& o) const { return t != o.t ? t > o.t : index > o.index; }
};

}  // namespace

std::string_view to_string(ClosePattern p) {
  switch (p) {
    case ClosePattern::clean:
      return "clean";
    case ClosePattern::rst_after_reply:
      return "rst-after-reply";
    case ClosePattern::rst_before_reply:
      return "rst-before-reply";
    case ClosePattern::client_timeout:
      return "client-timeout";
    case ClosePattern::no_status:
      return "no-status";
  }
  return "?";
}

ClosePattern pattern_for(std::uint64_t index, std::uint64_t seed) {
  const std::uint64_t h = splitmix64(splitmix64(seed ^ 0xC105E3E5ULL) + index) % 100;
  if (h < 45) return ClosePattern::clean;
  if (h < 65) return ClosePattern::rst_after_reply;
  if (h < 80) return ClosePattern::rst_before_reply;
  if (h < 95) return ClosePattern::no_status;
  return ClosePattern::client_timeout;
}

std::string ClientAddress::str() const {
  return fmt::format("{}.{}.{}.{}:{}", ip[0], ip[1], ip[2], ip[3], port);
}

ClientAddress client_for(std::uint64_t index, const GeneratorOptions& options) {
  ClientAddress a;
  a.port = static_cast<std::uint16_t>(kFirstClientPort + index % kClientPorts);
  // One pass through the port range takes kClientPorts * spacing; if a connection can outlive
  // that, successive passes use different client addresses so a reused 4-tuple is always closed.
  const Nanos pass = static_cast<Nanos>(kClientPorts) * std::max<Nanos>(options.spacing, 1);
  const Nanos lifetime = max_lifetime(options);
  const std::uint64_t addresses =
      pass > lifetime ? 1 : std::min<std::uint64_t>(254, lifetime / pass + 2);
  a.ip[3] = static_cast<std::uint8_t>(1 + (index / kClientPorts) % addresses);
  return a;
}

GeneratorStats generate_capture(const GeneratorOptions& options, const std::string& path) {
  if (options.spacing < kMicro) throw std::invalid_argument("spacing must be at least 1us");
  if (options.packets_per_connection == 0 || options.packets_per_connection > 20000) {
    throw std::invalid_argument("packets per connection must be between 1 and 20000");
  }
  if (options.server_port == 0 || (options.server_port >= kFirstClientPort &&
                                   options.server_port < kFirstClientPort + kClientPorts)) {
    throw std::invalid_argument("server port must be outside the client range 32768-60999");
  }
  const std::string key_log_path = key_log_path_for(path);
  if ((options.tls || options.h2) && key_log_path == path) {
    throw std::invalid_argument("with --tls the capture cannot be named *.keys: its key log is");
  }
  PcapWriter out(path);
  // The key log of a --tls capture, written in pieces as connections are planned.
  std::optional<BufferedFile> keys;
  std::unique_ptr<TlsLayer> tls;
  std::unique_ptr<H2Layer> h2;
  if (options.tls || options.h2) {
    keys.emplace(key_log_path);
    tls = std::make_unique<TlsLayer>(options.h2 ? "h2" : "http/1.1");
  }
  if (options.h2) h2 = std::make_unique<H2Layer>();
  std::string no_keys;
  std::string& key_log = keys ? keys->buffer() : no_keys;
  GeneratorStats stats;
  std::vector<std::unique_ptr<Plan>> slots;
  std::vector<std::uint32_t> free_slots;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue;
  std::uint64_t next = 0;
  Nanos first = 0, last = 0;
  const auto start_of = [&](std::uint64_t i) {
    return kBaseTime + static_cast<Nanos>(i) * options.spacing;
  };
  for (;;) {
    while (next < options.connections && (queue.empty() || start_of(next) <= queue.top().t)) {
      std::uint32_t slot;
      if (free_slots.empty()) {
        slot = static_cast<std::uint32_t>(slots.size());
        slots.push_back(std::make_unique<Plan>());
      } else {
        slot = free_slots.back();
        free_slots.pop_back();
      }
      build_plan(*slots[slot], next, options, start_of(next), tls.get(), h2.get(), key_log);
      if (keys) keys->flush_at(1 << 20);
      queue.push({start_of(next), next, slot});
      ++next;
    }
    if (queue.empty()) break;
    const Pending top = queue.top();
    queue.pop();
    Plan& plan = *slots[top.slot];
    const Segment& s = plan.segments[plan.next++];
    if (out.packets() == 0) first = s.t;
    last = s.t;
    out.packet(plan, s, options.server_port);
    if (plan.next < plan.segments.size()) {
      queue.push({plan.segments[plan.next].t, top.index, top.slot});
    } else {
      free_slots.push_back(top.slot);
    }
  }
  stats.connections = options.connections;
  stats.packets = out.packets();
  stats.bytes = out.close();
  if (keys) keys->close();
  stats.duration = last - first;
  return stats;
}

}  // namespace closewire::gen
