#include "tools/gen_capture/tls_layer.h"

#include <openssl/evp.h>

#include <initializer_list>
#include <stdexcept>

#include "harness/wire/tls_record.h"
#include "tools/gen_capture/tls_certificate.h"

namespace closewire::gen {
namespace {

namespace content = wire::tls_content;

void put(std::string& out, std::initializer_list<int> bytes) {
  for (int b : bytes) out.push_back(static_cast<char>(b));
}
void put16(std::string& out, std::size_t v) {
  put(out, {static_cast<int>((v >> 8) & 0xFF), static_cast<int>(v & 0xFF)});
}
void put24(std::string& out, std::size_t v) {
  put(out, {static_cast<int>((v >> 16) & 0xFF)});
  put16(out, v);
}
void put_random(std::string& out, Rng& rng, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(rng.next()));
}
void put_bytes(std::string& out, std::span<const std::uint8_t> bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Handshake message: type, uint24 length, body.
std::string handshake(std::uint8_t type, std::string_view body) {
  std::string m;
  put(m, {type});
  put24(m, body.size());
  m.append(body);
  return m;
}

// A record in the clear. ClientHello's record says 3.1 (RFC 8446 §5.1: for middleboxes), the
// rest 3.3.
void put_plain_record(std::string& out, std::uint8_t type, int minor, std::string_view body) {
  put(out, {type, 3, minor});
  put16(out, body.size());
  out.append(body);
}

// The change_cipher_spec both sides send in "middlebox compatibility mode" (RFC 8446 D.4), as
// browsers and OpenSSL do; a TLS 1.3 reader skips it.
void put_ccs(std::string& out) {
  put(out, {content::change_cipher_spec, 3, 3, 0, 1, 1});
}

constexpr std::uint16_t kAes128GcmSha256 = 0x1301;
void put_alpn_extension(std::string& out, std::string_view alpn) {
  put16(out, 0x0010);
  put16(out, 2 + 1 + alpn.size());
  put16(out, 1 + alpn.size());
  put(out, {static_cast<int>(alpn.size())});
  out.append(alpn);
}

constexpr char kHex[] = "0123456789abcdef";
void put_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  for (std::uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
}

}  // namespace

// --- RecordSealer --------------------------------------------------------------------------

RecordSealer::RecordSealer() : ctx_(EVP_CIPHER_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_EncryptInit_ex(ctx_, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_IVLEN, wire::kAeadNonce, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL: cannot set up AES-128-GCM");
  }
}

RecordSealer::~RecordSealer() {
  EVP_CIPHER_CTX_free(ctx_);
}

void RecordSealer::set_secret(std::span<const std::uint8_t> secret) {
  const wire::Bytes key = wire::hkdf_expand_label(wire::TlsHash::sha256, secret, "key", {}, 16);
  const wire::Bytes iv =
      wire::hkdf_expand_label(wire::TlsHash::sha256, secret, "iv", {}, wire::kAeadNonce);
  std::copy(iv.begin(), iv.end(), iv_.begin());
  if (EVP_EncryptInit_ex(ctx_, nullptr, nullptr, key.data(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: cannot set an AES-128-GCM key");
  }
  seq_ = 0;
}

void RecordSealer::seal(std::uint8_t type, std::string_view content, std::string& out) {
  // TLSInnerPlaintext: the content, then its real type (no padding).
  inner_.assign(content);
  inner_.push_back(static_cast<char>(type));
  const std::size_t length = inner_.size() + wire::kAeadTag;
  const std::uint8_t header[wire::kTlsRecordHeader] = {content::application_data, 3, 3,
                                                       static_cast<std::uint8_t>(length >> 8),
                                                       static_cast<std::uint8_t>(length)};
  std::array<std::uint8_t, wire::kAeadNonce> nonce = iv_;
  for (int i = 0; i < 8; ++i) nonce[4 + i] ^= static_cast<std::uint8_t>(seq_ >> (56 - 8 * i));
  ++seq_;

  const std::size_t at = out.size() + wire::kTlsRecordHeader;
  out.append(reinterpret_cast<const char*>(header), sizeof header);
  out.resize(at + length);
  auto* sealed = reinterpret_cast<std::uint8_t*>(out.data() + at);
  int n = 0;
  if (EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx_, nullptr, &n, header, sizeof header) != 1 ||  // AAD: the header
      EVP_EncryptUpdate(ctx_, sealed, &n, reinterpret_cast<const std::uint8_t*>(inner_.data()),
                        static_cast<int>(inner_.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx_, sealed + inner_.size(), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, wire::kAeadTag, sealed + inner_.size()) !=
          1) {
    throw std::runtime_error("OpenSSL: AES-128-GCM sealing failed");
  }
}

// --- TlsLayer ------------------------------------------------------------------------------

void TlsLayer::begin(Rng& rng) {
  for (auto& b : client_random_) b = static_cast<std::uint8_t>(rng.next());
  for (auto& secret : secrets_)
    for (auto& b : secret) b = static_cast<std::uint8_t>(rng.next());
  for (auto& b : session_id_) b = static_cast<std::uint8_t>(rng.next());
  sealers_[kClient].set_secret(secrets_[0]);
  sealers_[kServer].set_secret(secrets_[1]);
}

std::string TlsLayer::client_hello(Rng& rng) {
  // As a browser offers it for an IP-literal host (so no server_name): TLS 1.3 and 1.2 suites,
  // x25519, ALPN http/1.1 (a WebSocket over HTTP/1.1).
  std::string ext;
  put(ext, {0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17});  // supported_groups
  put(ext, {0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01});  // sig_algs
  put_alpn_extension(ext, alpn_);
  put(ext, {0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03});        // supported_versions
  put(ext, {0x00, 0x2d, 0x00, 0x02, 0x01, 0x01});                          // psk_key_exchange_modes
  put(ext, {0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20});  // key_share: x25519
  put_random(ext, rng, 32);

  std::string body;
  put(body, {3, 3});
  put_bytes(body, client_random_);
  put(body, {32});
  put_bytes(body, session_id_);
  const std::uint16_t suites[] = {kAes128GcmSha256, 0x1302, 0x1303, 0xC02B, 0xC02F,
                                  0xC02C,           0xC030, 0xCCA9, 0xCCA8};
  put16(body, 2 * std::size(suites));
  for (std::uint16_t s : suites) put16(body, s);
  put(body, {1, 0});  // compression: null
  put16(body, ext.size());
  body += ext;

  std::string out;
  put_plain_record(out, content::handshake, 1, handshake(wire::tls_handshake::client_hello, body));
  return out;
}

std::string TlsLayer::server_flight(Rng& rng) {
  std::string hello;
  put(hello, {3, 3});
  put_random(hello, rng, 32);
  put(hello, {32});
  put_bytes(hello, session_id_);  // echoed, as RFC 8446 §4.1.3 asks
  put16(hello, kAes128GcmSha256);
  put(hello, {0});
  put16(hello, 6 + 40);
  put(hello, {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04});  // supported_versions: TLS 1.3
  put(hello, {0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20});
  put_random(hello, rng, 32);

  std::string out;
  put_plain_record(out, content::handshake, 3, handshake(wire::tls_handshake::server_hello, hello));
  put_ccs(out);

  std::string ee;
  put16(ee, 2 + 2 + 1 + alpn_.size() + 2);
  put_alpn_extension(ee, alpn_);
  sealers_[kServer].seal(content::handshake, handshake(8, ee), out);

  std::string cert;
  put(cert, {0});  // certificate_request_context
  put24(cert, 3 + kServerCertificate.size() + 2);
  put24(cert, kServerCertificate.size());
  put_bytes(cert, kServerCertificate);
  put16(cert, 0);  // the entry's extensions
  sealers_[kServer].seal(content::handshake, handshake(11, cert), out);

  std::string verify;  // CertificateVerify: ecdsa_secp256r1_sha256, a 71-byte DER signature
  put(verify, {0x04, 0x03});
  put16(verify, 71);
  put_random(verify, rng, 71);
  sealers_[kServer].seal(content::handshake, handshake(15, verify), out);

  std::string finished;
  put_random(finished, rng, 32);
  sealers_[kServer].seal(content::handshake, handshake(wire::tls_handshake::finished, finished),
                         out);
  sealers_[kServer].set_secret(secrets_[3]);
  return out;
}

std::string TlsLayer::client_finished_and(Rng& rng, std::string_view first) {
  std::string out;
  put_ccs(out);
  std::string finished;
  put_random(finished, rng, 32);
  sealers_[kClient].seal(content::handshake, handshake(wire::tls_handshake::finished, finished),
                         out);
  sealers_[kClient].set_secret(secrets_[2]);
  sealers_[kClient].seal(content::application_data, first, out);
  return out;
}

std::string TlsLayer::session_tickets(Rng& rng) {
  std::string out;
  for (int i = 0; i < 2; ++i) {
    std::string ticket;
    put(ticket, {0x00, 0x00, 0x1c, 0x20});  // lifetime: 7200 s
    put_random(ticket, rng, 4);             // age_add
    put(ticket, {8});
    put(ticket, {0, 0, 0, 0, 0, 0, 0, i});  // nonce
    put16(ticket, 192);
    put_random(ticket, rng, 192);
    put16(ticket, 0);  // extensions
    sealers_[kServer].seal(content::handshake, handshake(4, ticket), out);
  }
  return out;
}

std::string TlsLayer::application_data(int from, std::string_view bytes) {
  std::string out;
  sealers_[from].seal(content::application_data, bytes, out);
  return out;
}

std::string TlsLayer::close_notify(int from) {
  std::string out;
  sealers_[from].seal(content::alert, std::string_view("\x01\x00", 2), out);  // warning, 0
  return out;
}

void TlsLayer::append_key_log(std::string& out) const {
  static constexpr std::string_view kLabels[] = {
      "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
      "CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 "};
  for (std::size_t i = 0; i < secrets_.size(); ++i) {
    out += kLabels[i];
    put_hex(out, client_random_);
    out.push_back(' ');
    put_hex(out, secrets_[i]);
    out.push_back('\n');
  }
}

}  // namespace closewire::gen
