// The TLS 1.3 layer of `closewire-gen-capture --tls` (TLS_AES_128_GCM_SHA256): per connection a
// handshake on the wire and the WebSocket bytes sealed in application_data records, so closewire
// (and Wireshark) decrypt them with the key log written beside the capture.
//
// No key exchange is done: the four traffic secrets are pseudo-random bytes from the seed, and
// the key shares, signature and Finished verify_data are pseudo-random filler of the sizes an
// x25519 / P-256 handshake has (the certificate is a real one, tls_certificate.h). A decrypting
// reader needs only the key log to match the client_random; nothing reads those fields for meaning.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "harness/wire/tls_crypto.h"
#include "harness/wire/tls_key_log.h"
#include "tools/gen_capture/rng.h"

namespace closewire::gen {

// One direction's record protection: AES-128-GCM with the key and IV of a TLS 1.3 traffic secret,
// the nonce the IV XOR the record's sequence number (RFC 8446 §5.3).
class RecordSealer {
 public:
  RecordSealer();
  ~RecordSealer();
  RecordSealer(const RecordSealer&) = delete;
  RecordSealer& operator=(const RecordSealer&) = delete;

  // Derives key and IV from `secret` (HKDF-Expand-Label "key" / "iv") and restarts at sequence 0.
  void set_secret(std::span<const std::uint8_t> secret);
  // Appends one application_data record carrying `content` of inner type `type` to `out`.
  void seal(std::uint8_t type, std::string_view content, std::string& out);

 private:
  EVP_CIPHER_CTX* ctx_;  // one context, re-keyed per secret: no allocation per connection
  std::array<std::uint8_t, wire::kAeadNonce> iv_{};
  std::uint64_t seq_ = 0;
  std::string inner_;  // TLSInnerPlaintext scratch
};

// One connection's TLS state; `begin` starts the next connection (the sealers are reused).
class TlsLayer {
 public:
  static constexpr int kClient = 0, kServer = 1;

  // `alpn`: the one protocol the ClientHello offers and EncryptedExtensions selects.
  explicit TlsLayer(std::string_view alpn = "http/1.1") : alpn_(alpn) {}

  // A new session: client_random and secrets from `rng` (derived from the seed and the index).
  void begin(Rng& rng);

  // Each returns the bytes of one TCP segment, in the order the connection sends them.
  std::string client_hello(Rng& rng);
  // ServerHello and CCS in the clear, then EncryptedExtensions, Certificate, CertificateVerify
  // and Finished sealed with the server handshake secret, one record each (as OpenSSL writes them).
  std::string server_flight(Rng& rng);
  // CCS and the client's Finished (client handshake secret), then `first` sealed as the client's
  // first application data: a browser sends its request right behind its Finished.
  std::string client_finished_and(Rng& rng, std::string_view first);
  // Two NewSessionTickets (OpenSSL's default), sent once the client's Finished is read.
  std::string session_tickets(Rng& rng);
  std::string application_data(int from, std::string_view bytes);
  std::string close_notify(int from);

  // The session's four NSS key log lines (CLIENT_HANDSHAKE_TRAFFIC_SECRET, ...).
  void append_key_log(std::string& out) const;

 private:
  wire::ClientRandom client_random_{};
  std::array<std::array<std::uint8_t, 32>, 4> secrets_{};  // client hs, server hs, client, server
  std::array<std::uint8_t, 32> session_id_{};
  RecordSealer sealers_[2];
  std::string_view alpn_;
};

}  // namespace closewire::gen
