#include "harness/wire/tls_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>
#include <vector>

namespace closewire::wire {
namespace {

constexpr std::array kSuites = {
    TlsCipherSuite{0x1301, "TLS_AES_128_GCM_SHA256", TlsAead::aes128_gcm, TlsHash::sha256, true},
    TlsCipherSuite{0x1302, "TLS_AES_256_GCM_SHA384", TlsAead::aes256_gcm, TlsHash::sha384, true},
    TlsCipherSuite{0x1303, "TLS_CHACHA20_POLY1305_SHA256", TlsAead::chacha20_poly1305,
                   TlsHash::sha256, true},
    TlsCipherSuite{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TlsAead::aes128_gcm,
                   TlsHash::sha256},
    TlsCipherSuite{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", TlsAead::aes256_gcm,
                   TlsHash::sha384},
    TlsCipherSuite{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TlsAead::aes128_gcm,
                   TlsHash::sha256},
    TlsCipherSuite{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TlsAead::aes256_gcm,
                   TlsHash::sha384},
    TlsCipherSuite{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                   TlsAead::chacha20_poly1305, TlsHash::sha256},
    TlsCipherSuite{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                   TlsAead::chacha20_poly1305, TlsHash::sha256},
    TlsCipherSuite{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", TlsAead::aes128_gcm,
                   TlsHash::sha256},
    TlsCipherSuite{0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TlsAead::aes256_gcm,
                   TlsHash::sha384},
    TlsCipherSuite{0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TlsAead::chacha20_poly1305,
                   TlsHash::sha256},
    TlsCipherSuite{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", TlsAead::aes128_gcm, TlsHash::sha256},
    TlsCipherSuite{0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", TlsAead::aes256_gcm, TlsHash::sha384},
};

// HMAC with one context per hash and thread, its digest fetched once and only the key set per
// call. OpenSSL 3's one-shot HMAC() fetches "HMAC" and the digest by name on every call (a lock
// and string compares each): on a capture of many short TLS 1.3 connections, with eight key
// derivations each, that was most of the cost of decrypting.
class Hmac {
 public:
  explicit Hmac(TlsHash hash) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    ctx_ = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    EVP_MAC_free(mac);  // the context holds its own reference
    // (OSSL_PARAM's pointer is non-const only in its type: the name is read.)
    char* digest = const_cast<char*>(hash == TlsHash::sha256 ? "SHA256" : "SHA384");
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_END};
    if (ctx_ && EVP_MAC_CTX_set_params(ctx_, params) != 1) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~Hmac() { EVP_MAC_CTX_free(ctx_); }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  // HMAC(key, a | b | c) into `out` (room for EVP_MAX_MD_SIZE); its length, 0 on failure.
  std::size_t mac(std::span<const std::uint8_t> key, std::span<const std::uint8_t> a,
                  std::span<const std::uint8_t> b, std::span<const std::uint8_t> c,
                  std::uint8_t* out) {
    std::size_t length = 0;
    if (ctx_ == nullptr || !set_key(key) || EVP_MAC_update(ctx_, a.data(), a.size()) != 1 ||
        EVP_MAC_update(ctx_, b.data(), b.size()) != 1 ||
        EVP_MAC_update(ctx_, c.data(), c.size()) != 1 ||
        EVP_MAC_final(ctx_, out, &length, EVP_MAX_MD_SIZE) != 1) {
      return 0;
    }
    return length;
  }

 private:
  // Keying HMAC hashes the key's two pads; the same key again (a secret's "key" then its "iv",
  // the TLS 1.2 PRF's rounds) only restarts from the pads already hashed.
  bool set_key(std::span<const std::uint8_t> key) {
    if (key_length_ == key.size() && std::equal(key.begin(), key.end(), key_.begin())) {
      if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1) return true;
    }
    key_length_ = kNoKey;
    if (EVP_MAC_init(ctx_, key.data(), key.size(), nullptr) != 1) return false;
    if (key.size() <= key_.size()) {
      std::copy(key.begin(), key.end(), key_.begin());
      key_length_ = key.size();
    }
    return true;
  }

  static constexpr std::size_t kNoKey = ~std::size_t{0};
  EVP_MAC_CTX* ctx_ = nullptr;
  std::array<std::uint8_t, 128> key_{};
  std::size_t key_length_ = kNoKey;  // key_ holds the key ctx_ is keyed with
};

Hmac& hmac_for(TlsHash hash) {
  thread_local Hmac sha256(TlsHash::sha256);
  thread_local Hmac sha384(TlsHash::sha384);
  return hash == TlsHash::sha256 ? sha256 : sha384;
}

Bytes hmac(TlsHash hash, std::span<const std::uint8_t> key, std::span<const std::uint8_t> a,
           std::span<const std::uint8_t> b = {}) {
  Bytes out(EVP_MAX_MD_SIZE);
  out.resize(hmac_for(hash).mac(key, a, b, {}, out.data()));
  return out;
}

// The cipher of `aead`, fetched once: EVP_aes_128_gcm() and the like are fetched again by name
// on every EVP_DecryptInit_ex that names them.
const EVP_CIPHER* cipher_for(TlsAead aead) {
  static EVP_CIPHER* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* const chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (aead) {
    case TlsAead::aes128_gcm:
      return aes128;
    case TlsAead::aes256_gcm:
      return aes256;
    case TlsAead::chacha20_poly1305:
      return chacha;
  }
  return nullptr;
}

// Cipher contexts of keys that are gone, with the cipher each is set up for, kept for the next
// keys on this thread. A capture can hold hundreds of thousands of TLS legs, two contexts each:
// freeing one cleanses and frees OpenSSL's allocations, making one allocates and sets them up
// again, and that was a tenth of the cost of decrypting such a capture.
struct CipherContextPool {
  static constexpr std::size_t kMaxKept = 64;
  std::vector<std::pair<EVP_CIPHER_CTX*, const EVP_CIPHER*>> kept;
  ~CipherContextPool();
};
thread_local bool pool_gone = false;  // trivially destructible: valid after the pool is destroyed

CipherContextPool::~CipherContextPool() {
  pool_gone = true;
  for (const auto& [ctx, cipher] : kept) EVP_CIPHER_CTX_free(ctx);
}

CipherContextPool& context_pool() {
  thread_local CipherContextPool pool;
  return pool;
}

void give_back(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher) {
  if (ctx == nullptr) return;
  if (pool_gone || context_pool().kept.size() >= CipherContextPool::kMaxKept) {
    EVP_CIPHER_CTX_free(ctx);
    return;
  }
  context_pool().kept.emplace_back(ctx, cipher);
}

}  // namespace

std::size_t hash_length(TlsHash hash) {
  return hash == TlsHash::sha256 ? 32 : 48;
}

const TlsCipherSuite* find_cipher_suite(std::uint16_t id) {
  for (const TlsCipherSuite& s : kSuites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

Bytes hkdf_expand_label(TlsHash hash, std::span<const std::uint8_t> secret, std::string_view label,
                        std::span<const std::uint8_t> context, std::size_t length) {
  // HkdfLabel: uint16 length, opaque label<7..255> ("tls13 " + label), opaque context<0..255>.
  // Built on the stack: this runs several times per TLS connection.
  constexpr std::string_view kPrefix = "tls13 ";
  std::array<std::uint8_t, 2 + 1 + 255 + 1 + 255> info;
  std::size_t n = 0;
  info[n++] = static_cast<std::uint8_t>(length >> 8);
  info[n++] = static_cast<std::uint8_t>(length);
  info[n++] = static_cast<std::uint8_t>(kPrefix.size() + label.size());
  n = std::copy(kPrefix.begin(), kPrefix.end(), info.begin() + n) - info.begin();
  n = std::copy(label.begin(), label.end(), info.begin() + n) - info.begin();
  info[n++] = static_cast<std::uint8_t>(context.size());
  n = std::copy(context.begin(), context.end(), info.begin() + n) - info.begin();
  // HKDF-Expand: T(i) = HMAC(secret, T(i-1) | info | i).
  Hmac& mac = hmac_for(hash);
  Bytes out;
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> t;
  std::size_t t_length = 0;
  for (std::uint8_t i = 1; out.size() < length; ++i) {
    t_length = mac.mac(secret, std::span(t.data(), t_length), std::span(info.data(), n),
                       std::span(&i, 1), t.data());
    if (t_length == 0) break;  // OpenSSL failed: a short key fails to open any record
    out.insert(out.end(), t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t_length));
  }
  out.resize(length);
  return out;
}

Bytes tls12_prf(TlsHash hash, std::span<const std::uint8_t> secret, std::string_view label,
                std::span<const std::uint8_t> seed, std::size_t length) {
  // P_hash(secret, label + seed): A(i) = HMAC(secret, A(i-1)), out += HMAC(secret, A(i) + seed).
  Bytes label_seed(label.begin(), label.end());
  label_seed.insert(label_seed.end(), seed.begin(), seed.end());
  Bytes out;
  Bytes a = hmac(hash, secret, label_seed);
  while (out.size() < length) {
    const Bytes block = hmac(hash, secret, a, label_seed);
    out.insert(out.end(), block.begin(), block.end());
    a = hmac(hash, secret, a);
  }
  out.resize(length);
  return out;
}

AeadKey::AeadKey(TlsAead aead, std::span<const std::uint8_t> key) {
  set(aead, key);
}

bool AeadKey::set(TlsAead aead, std::span<const std::uint8_t> key) {
  keyed_ = false;
  const EVP_CIPHER* cipher = cipher_for(aead);
  if (ctx_ == nullptr && !pool_gone && !context_pool().kept.empty()) {
    std::tie(ctx_, cipher_) = context_pool().kept.back();
    context_pool().kept.pop_back();
  }
  if (ctx_ == nullptr) ctx_ = EVP_CIPHER_CTX_new();
  if (ctx_ == nullptr || cipher == nullptr) return false;
  if (cipher != cipher_) {
    cipher_ = nullptr;
    if (EVP_DecryptInit_ex(ctx_, cipher, nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_IVLEN, kAeadNonce, nullptr) != 1) {
      return false;
    }
    cipher_ = cipher;
  }
  // The key once; each record then sets only its nonce.
  keyed_ = EVP_DecryptInit_ex(ctx_, nullptr, nullptr, key.data(), nullptr) == 1;
  return keyed_;
}

AeadKey::~AeadKey() {
  give_back(ctx_, cipher_);
}

AeadKey::AeadKey(AeadKey&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)),
      cipher_(std::exchange(other.cipher_, nullptr)),
      keyed_(std::exchange(other.keyed_, false)) {}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    give_back(ctx_, cipher_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    cipher_ = std::exchange(other.cipher_, nullptr);
    keyed_ = std::exchange(other.keyed_, false);
  }
  return *this;
}

bool AeadKey::open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                   std::span<const std::uint8_t> sealed, Bytes& out) const {
  if (!keyed_ || sealed.size() < kAeadTag || nonce.size() != kAeadNonce) return false;
  const std::size_t n = sealed.size() - kAeadTag;
  out.resize(n);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) != 1) return false;
  if (EVP_DecryptUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  if (n > 0 && EVP_DecryptUpdate(ctx_, out.data(), &len, sealed.data(), static_cast<int>(n)) != 1)
    return false;
  // OpenSSL copies the tag: no copy of ours (the pointer is non-const only in its signature).
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + n);
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kAeadTag, tag) != 1) return false;
  int final_len = 0;
  return EVP_DecryptFinal_ex(ctx_, out.data() + n, &final_len) == 1;
}

}  // namespace closewire::wire
