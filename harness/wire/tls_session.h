// One TLS connection followed from both directions' bytes: records parsed, ClientHello and
// ServerHello read, and, with the session's secrets from a key log, records decrypted (TLS 1.3
// and 1.2 AEAD suites, KeyUpdate followed) into the plaintext each side sent. closewire's own:
// libtins does not decrypt TLS; this is the Wireshark-style key-log decryption of issue 16.
// Pure: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "harness/wire/tls_crypto.h"
#include "harness/wire/tls_key_log.h"
#include "harness/wire/tls_record.h"

namespace closewire::wire {

// What a TlsSession found, in stream order. `client`: the direction from the client.
class TlsListener {
 public:
  virtual ~TlsListener() = default;
  virtual void on_plaintext(bool client, std::span<const std::uint8_t> bytes) = 0;
  // The ServerHello was read: "TLS 1.3 TLS_AES_128_GCM_SHA256".
  virtual void on_tls_handshake(std::string_view text) = 0;
  // An alert: level 1 warning or 2 fatal, its description.
  virtual void on_tls_alert(bool client, std::uint8_t level, std::uint8_t description) = 0;
  // This direction's records cannot be read from here on (at most once per direction).
  virtual void on_tls_undecryptable(bool client, std::string_view why) = 0;
};

namespace tls_why {
inline constexpr std::string_view no_key = "no key for this TLS session";
inline constexpr std::string_view wrong_key = "the key log's secrets do not decrypt this session";
}  // namespace tls_why

class TlsSession {
 public:
  // `keys` may be null (no key log): then nothing is decrypted. It must outlive the session.
  explicit TlsSession(const TlsKeyLog* keys) : keys_(keys) {}

  // In-order bytes of one direction.
  void feed(bool client, std::span<const std::uint8_t> bytes, TlsListener& listener);

  // The stream of that direction ended (the capture or the leg): reports what is still unknown.
  void finish(bool client, TlsListener& listener);

  // Bytes of a record not yet complete in that direction (header included) and its full size.
  std::size_t pending(bool client) const { return dirs_[client ? 0 : 1].records.pending(); }
  std::size_t pending_needed(bool client) const {
    return dirs_[client ? 0 : 1].records.pending_needed();
  }

  std::uint16_t version() const { return version_; }  // 0 before the ServerHello
  const TlsCipherSuite* suite() const { return suite_; }
  std::uint16_t suite_id() const { return suite_id_; }
  const std::string& sni() const { return sni_; }
  // No direction reported undecryptable.
  bool decrypted() const { return !dirs_[0].stopped && !dirs_[1].stopped; }
  // At least one record was decrypted.
  bool any_decrypted() const { return any_decrypted_; }

 private:
  enum class Phase : std::uint8_t { clear, handshake, application };
  struct Direction {
    TlsRecordReader records;
    HandshakeStream handshake;
    Phase phase = Phase::clear;
    bool stopped = false;  // undecryptable, reported
    AeadKey key;
    Bytes iv;
    std::uint64_t seq = 0;
    Bytes traffic_secret;  // TLS 1.3: the current application secret (KeyUpdate derives the next)
    bool switch_to_application = false;  // after this record: its Finished or KeyUpdate
    bool key_update = false;
    // Handshake secrets missing: application keys are tried on each record until one opens.
    bool probing = false;
    int probes = 0;
  };

  void on_record(int d, const TlsRecord& record, TlsListener& listener);
  void on_handshake_message(int d, const HandshakeStream::Message& m, TlsListener& listener);
  void on_plain_content(int d, std::uint8_t type, std::span<const std::uint8_t> content,
                        TlsListener& listener);
  bool open_tls13(int d, const TlsRecord& record, Bytes& out);
  bool open_tls12(int d, const TlsRecord& record, Bytes& out);
  // Keys for direction `d`'s current phase; false (reported) when there are none.
  bool ready_keys(int d, TlsListener& listener);
  void set_tls13_key(int d, std::span<const std::uint8_t> secret);
  void stop(int d, std::string_view why, TlsListener& listener);
  bool tls13() const { return version_ == 0x0304; }

  const TlsKeyLog* keys_;
  const TlsSecrets* secrets_ = nullptr;
  bool looked_up_ = false;
  std::array<Direction, 2> dirs_;
  std::array<std::uint8_t, 32> client_random_{};
  std::array<std::uint8_t, 32> server_random_{};
  bool client_hello_seen_ = false;
  std::string sni_;
  std::uint16_t version_ = 0;
  std::uint16_t suite_id_ = 0;
  const TlsCipherSuite* suite_ = nullptr;
  bool any_decrypted_ = false;
  Bytes scratch_;  // decrypted record
};

}  // namespace closewire::wire
