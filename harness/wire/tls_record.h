// The TLS record layer and the handshake messages closewire reads in the clear: records
// reassembled from a byte stream in any pieces, handshake messages across records, ClientHello
// and ServerHello fields. closewire's own (libtins does not parse TLS). Pure: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace closewire::wire {

namespace tls_content {
inline constexpr std::uint8_t change_cipher_spec = 20;
inline constexpr std::uint8_t alert = 21;
inline constexpr std::uint8_t handshake = 22;
inline constexpr std::uint8_t application_data = 23;
}  // namespace tls_content

namespace tls_handshake {
inline constexpr std::uint8_t client_hello = 1;
inline constexpr std::uint8_t server_hello = 2;
inline constexpr std::uint8_t finished = 20;
inline constexpr std::uint8_t key_update = 24;
}  // namespace tls_handshake

inline constexpr std::size_t kTlsRecordHeader = 5;
// The largest record body any TLS version allows (2^14 + 2048, TLS 1.2's TLSCiphertext).
inline constexpr std::size_t kTlsMaxRecordBody = (1 << 14) + 2048;

// Whether a stream starting with `first` (3 bytes or more) is TLS: a handshake record of
// version 3.1 to 3.4 (SSL 3.0 and SSLv2 hellos are not followed).
bool starts_like_tls(std::span<const std::uint8_t> first);

struct TlsRecord {
  std::uint8_t type = 0;
  std::array<std::uint8_t, kTlsRecordHeader> header{};  // as on the wire (TLS 1.3's AAD)
  std::span<const std::uint8_t> body;                   // valid until the next feed
};

// Records out of one direction's bytes. Holds at most one record (header and body).
class TlsRecordReader {
 public:
  // Calls `on_record(const TlsRecord&)` for each record `bytes` completes. false once the
  // stream is not TLS records (a length over kTlsMaxRecordBody, an unknown type): then stops.
  template <typename OnRecord>
  bool feed(std::span<const std::uint8_t> bytes, OnRecord&& on_record);

  bool broken() const { return broken_; }
  // Bytes of an unfinished record (header included): a record cut by the stream's end.
  std::size_t pending() const { return buffer_.size(); }
  std::size_t pending_needed() const { return need_; }

 private:
  bool header_done();  // checks buffer_'s header, sets need_

  std::vector<std::uint8_t> buffer_;
  std::size_t need_ = kTlsRecordHeader;  // bytes buffer_ must hold for the current step
  bool broken_ = false;
};

// Handshake messages out of the handshake records of one direction, split across records or
// several in one. Bodies are kept only for types asked for, up to kMaxKeptBody; the rest are
// skipped (certificates can be large).
class HandshakeStream {
 public:
  static constexpr std::size_t kMaxKeptBody = 1 << 16;
  struct Message {
    std::uint8_t type = 0;
    std::span<const std::uint8_t> body;  // empty when not kept
  };
  // Calls `on_message(const Message&)` for each message `bytes` completes.
  template <typename OnMessage>
  void feed(std::span<const std::uint8_t> bytes, OnMessage&& on_message);

 private:
  static bool keeps(std::uint8_t type) {
    return type == tls_handshake::client_hello || type == tls_handshake::server_hello ||
           type == tls_handshake::key_update;
  }
  std::array<std::uint8_t, 4> header_{};
  std::size_t header_have_ = 0;
  std::size_t body_left_ = 0;
  std::vector<std::uint8_t> body_;
};

struct ClientHello {
  std::array<std::uint8_t, 32> random{};
  std::string sni;  // server_name's host_name, empty when absent
};
std::optional<ClientHello> parse_client_hello(std::span<const std::uint8_t> body);

struct ServerHello {
  std::array<std::uint8_t, 32> random{};
  std::uint16_t version = 0;  // negotiated: supported_versions when present, else legacy_version
  std::uint16_t cipher_suite = 0;
  bool hello_retry_request = false;  // RFC 8446 §4.1.3's special random
};
std::optional<ServerHello> parse_server_hello(std::span<const std::uint8_t> body);

// "TLS 1.2", "TLS 1.3", or "0x0305".
std::string tls_version_name(std::uint16_t version);
// "close_notify", "handshake_failure", ... or the number.
std::string tls_alert_name(std::uint8_t description);

// ---- templates ----

template <typename OnRecord>
bool TlsRecordReader::feed(std::span<const std::uint8_t> bytes, OnRecord&& on_record) {
  while (!broken_ && !bytes.empty()) {
    // A whole record in `bytes` with nothing buffered: hand it out in place (no copy).
    if (buffer_.empty() && bytes.size() >= kTlsRecordHeader) {
      buffer_.assign(bytes.begin(), bytes.begin() + kTlsRecordHeader);
      if (!header_done()) return false;
      const std::size_t total = need_;
      if (bytes.size() >= total) {
        TlsRecord r;
        r.type = bytes[0];
        std::copy(bytes.begin(), bytes.begin() + kTlsRecordHeader, r.header.begin());
        r.body = bytes.subspan(kTlsRecordHeader, total - kTlsRecordHeader);
        buffer_.clear();
        need_ = kTlsRecordHeader;
        on_record(r);
        bytes = bytes.subspan(total);
        continue;
      }
      bytes = bytes.subspan(kTlsRecordHeader);
    }
    const std::size_t n = std::min(need_ - buffer_.size(), bytes.size());
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (buffer_.size() < need_) break;
    if (need_ == kTlsRecordHeader) {
      if (!header_done()) return false;
      if (buffer_.size() < need_) continue;
    }
    TlsRecord r;
    r.type = buffer_[0];
    std::copy(buffer_.begin(), buffer_.begin() + kTlsRecordHeader, r.header.begin());
    r.body = std::span(buffer_).subspan(kTlsRecordHeader);
    on_record(r);
    buffer_.clear();
    need_ = kTlsRecordHeader;
  }
  return !broken_;
}

template <typename OnMessage>
void HandshakeStream::feed(std::span<const std::uint8_t> bytes, OnMessage&& on_message) {
  while (!bytes.empty()) {
    if (header_have_ < 4) {
      header_[header_have_++] = bytes[0];
      bytes = bytes.subspan(1);
      if (header_have_ < 4) continue;
      body_left_ = std::size_t{header_[1]} << 16 | std::size_t{header_[2]} << 8 | header_[3];
      body_.clear();
    }
    const std::size_t n = std::min(body_left_, bytes.size());
    if (keeps(header_[0]) && body_.size() + n <= kMaxKeptBody) {
      body_.insert(body_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    }
    body_left_ -= n;
    bytes = bytes.subspan(n);
    if (body_left_ == 0) {
      on_message(Message{header_[0], body_});
      header_have_ = 0;
      body_.clear();
    }
  }
}

}  // namespace closewire::wire
