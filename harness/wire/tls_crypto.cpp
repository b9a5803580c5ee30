#include "harness/wire/tls_crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <utility>

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

const EVP_MD* md_of(TlsHash hash) {
  return hash == TlsHash::sha256 ? EVP_sha256() : EVP_sha384();
}

Bytes hmac(TlsHash hash, std::span<const std::uint8_t> key, std::span<const std::uint8_t> a,
           std::span<const std::uint8_t> b = {}) {
  Bytes data(a.begin(), a.end());
  data.insert(data.end(), b.begin(), b.end());
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned length = 0;
  HMAC(md_of(hash), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
       &length);
  out.resize(length);
  return out;
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
  Bytes info;
  info.push_back(static_cast<std::uint8_t>(length >> 8));
  info.push_back(static_cast<std::uint8_t>(length));
  constexpr std::string_view kPrefix = "tls13 ";
  info.push_back(static_cast<std::uint8_t>(kPrefix.size() + label.size()));
  info.insert(info.end(), kPrefix.begin(), kPrefix.end());
  info.insert(info.end(), label.begin(), label.end());
  info.push_back(static_cast<std::uint8_t>(context.size()));
  info.insert(info.end(), context.begin(), context.end());
  // HKDF-Expand: T(i) = HMAC(secret, T(i-1) | info | i).
  Bytes out;
  Bytes t;
  for (std::uint8_t i = 1; out.size() < length; ++i) {
    Bytes block = t;
    block.insert(block.end(), info.begin(), info.end());
    block.push_back(i);
    t = hmac(hash, secret, block);
    out.insert(out.end(), t.begin(), t.end());
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
  switch (aead) {
    case TlsAead::aes128_gcm:
      cipher_ = EVP_aes_128_gcm();
      break;
    case TlsAead::aes256_gcm:
      cipher_ = EVP_aes_256_gcm();
      break;
    case TlsAead::chacha20_poly1305:
      cipher_ = EVP_chacha20_poly1305();
      break;
  }
  ctx_ = EVP_CIPHER_CTX_new();
  if (ctx_ == nullptr) return;
  // The key once; each record then sets only its nonce.
  if (EVP_DecryptInit_ex(ctx_, cipher_, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_IVLEN, kAeadNonce, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx_, nullptr, nullptr, key.data(), nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = nullptr;
  }
}

AeadKey::~AeadKey() {
  EVP_CIPHER_CTX_free(ctx_);
}

AeadKey::AeadKey(AeadKey&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), cipher_(other.cipher_) {}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    cipher_ = other.cipher_;
  }
  return *this;
}

bool AeadKey::open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                   std::span<const std::uint8_t> sealed, Bytes& out) const {
  if (ctx_ == nullptr || sealed.size() < kAeadTag || nonce.size() != kAeadNonce) return false;
  const std::size_t n = sealed.size() - kAeadTag;
  out.resize(n);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) != 1) return false;
  if (EVP_DecryptUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  if (n > 0 && EVP_DecryptUpdate(ctx_, out.data(), &len, sealed.data(), static_cast<int>(n)) != 1)
    return false;
  Bytes tag(sealed.begin() + static_cast<std::ptrdiff_t>(n), sealed.end());
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kAeadTag, tag.data()) != 1) return false;
  int final_len = 0;
  return EVP_DecryptFinal_ex(ctx_, out.data() + n, &final_len) == 1;
}

}  // namespace closewire::wire
