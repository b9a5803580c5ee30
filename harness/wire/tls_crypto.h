// TLS key schedule and record AEAD over OpenSSL 3's EVP primitives: HKDF-Expand-Label (TLS 1.3,
// RFC 8446 §7), the TLS 1.2 PRF (RFC 5246 §5) and AES-GCM / ChaCha20-Poly1305 record opening.
// closewire's own: libtins does not decrypt TLS; this is Wireshark-style decryption from a key log
// (issue 16). Pure: no I/O.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace closewire::wire {

using Bytes = std::vector<std::uint8_t>;

enum class TlsHash : std::uint8_t { sha256, sha384 };
enum class TlsAead : std::uint8_t { aes128_gcm, aes256_gcm, chacha20_poly1305 };

std::size_t hash_length(TlsHash hash);

// The cipher suites closewire decrypts: every TLS 1.3 AEAD suite but CCM, and TLS 1.2's (EC)DHE
// and RSA suites with AES-GCM or ChaCha20-Poly1305.
struct TlsCipherSuite {
  std::uint16_t id = 0;
  std::string_view name;  // IANA name, "TLS_AES_128_GCM_SHA256"
  TlsAead aead = TlsAead::aes128_gcm;
  TlsHash hash = TlsHash::sha256;
  bool tls13 = false;
  std::size_t key_length() const { return aead == TlsAead::aes128_gcm ? 16 : 32; }
};
const TlsCipherSuite* find_cipher_suite(std::uint16_t id);

// HKDF-Expand-Label(secret, label, context, length): label without the "tls13 " prefix.
Bytes hkdf_expand_label(TlsHash hash, std::span<const std::uint8_t> secret, std::string_view label,
                        std::span<const std::uint8_t> context, std::size_t length);

// PRF(secret, label, seed) of TLS 1.2: P_SHA256 or P_SHA384, `length` bytes.
Bytes tls12_prf(TlsHash hash, std::span<const std::uint8_t> secret, std::string_view label,
                std::span<const std::uint8_t> seed, std::size_t length);

// One direction's AEAD key; opens records with a 12-byte nonce.
class AeadKey {
 public:
  AeadKey() = default;
  AeadKey(TlsAead aead, std::span<const std::uint8_t> key);
  // Sets the key (false when OpenSSL refuses it: then not valid()), keeping this object's OpenSSL
  // context: a TLS 1.3 direction changes keys at least twice, and allocating and setting up a
  // context costs more than the key schedule.
  bool set(TlsAead aead, std::span<const std::uint8_t> key);
  // Forgets the key (not valid() until the next set()); the context stays for that set().
  void clear() { keyed_ = false; }
  ~AeadKey();
  AeadKey(AeadKey&& other) noexcept;
  AeadKey& operator=(AeadKey&& other) noexcept;
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;

  bool valid() const { return keyed_; }
  // Decrypts `sealed` (ciphertext then its 16-byte tag) into `out`; false when the tag does not
  // verify (wrong key, wrong sequence number, corrupt record).
  bool open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
            std::span<const std::uint8_t> sealed, Bytes& out) const;

 private:
  EVP_CIPHER_CTX* ctx_ = nullptr;
  const EVP_CIPHER* cipher_ = nullptr;  // the one ctx_ is set up for
  bool keyed_ = false;
};

inline constexpr std::size_t kAeadTag = 16;
inline constexpr std::size_t kAeadNonce = 12;

}  // namespace closewire::wire
