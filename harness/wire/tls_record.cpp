#include "harness/wire/tls_record.h"

#include <cstdio>

namespace closewire::wire {
namespace {

// A cursor over a handshake body that fails (instead of reading past the end) on short input.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  std::size_t left() const { return bytes_.size(); }
  std::uint32_t number(std::size_t width) {
    if (!need(width)) return 0;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = v << 8 | bytes_[i];
    bytes_ = bytes_.subspan(width);
    return v;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    if (!need(n)) return {};
    const auto out = bytes_.first(n);
    bytes_ = bytes_.subspan(n);
    return out;
  }
  // A vector with a `width`-byte length prefix.
  std::span<const std::uint8_t> vec(std::size_t width) { return take(number(width)); }

 private:
  bool need(std::size_t n) {
    if (!ok_ || bytes_.size() < n) ok_ = false;
    return ok_;
  }
  std::span<const std::uint8_t> bytes_;
  bool ok_ = true;
};

constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtSupportedVersions = 43;

// SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3.
constexpr std::array<std::uint8_t, 32> kHelloRetryRandom = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

}  // namespace

bool starts_like_tls(std::span<const std::uint8_t> first) {
  return first.size() >= 3 && first[0] == tls_content::handshake && first[1] == 3 &&
         first[2] >= 1 && first[2] <= 4;
}

bool TlsRecordReader::header_done() {
  const std::uint8_t type = buffer_[0];
  const std::size_t length = std::size_t{buffer_[3]} << 8 | buffer_[4];
  if (type < tls_content::change_cipher_spec || type > 24 || buffer_[1] != 3 ||
      length > kTlsMaxRecordBody) {
    broken_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return false;
  }
  need_ = kTlsRecordHeader + length;
  return true;
}

std::optional<ClientHello> parse_client_hello(std::span<const std::uint8_t> body) {
  Reader r(body);
  ClientHello hello;
  r.number(2);  // legacy_version
  const auto random = r.take(32);
  r.vec(1);  // session id
  r.vec(2);  // cipher suites
  r.vec(1);  // compression methods
  if (!r.ok()) return std::nullopt;
  std::copy(random.begin(), random.end(), hello.random.begin());
  if (r.left() == 0) return hello;  // no extensions
  Reader extensions(r.vec(2));
  while (r.ok() && extensions.ok() && extensions.left() > 0) {
    const std::uint32_t type = extensions.number(2);
    Reader data(extensions.vec(2));
    if (type != kExtServerName) continue;
    Reader names(data.vec(2));
    while (names.ok() && names.left() > 0) {
      const std::uint32_t name_type = names.number(1);
      const auto name = names.vec(2);
      if (names.ok() && name_type == 0) {
        hello.sni.assign(name.begin(), name.end());
        break;
      }
    }
  }
  return hello;
}

std::optional<ServerHello> parse_server_hello(std::span<const std::uint8_t> body) {
  Reader r(body);
  ServerHello hello;
  hello.version = static_cast<std::uint16_t>(r.number(2));
  const auto random = r.take(32);
  r.vec(1);  // session id
  hello.cipher_suite = static_cast<std::uint16_t>(r.number(2));
  r.number(1);  // compression method
  if (!r.ok()) return std::nullopt;
  std::copy(random.begin(), random.end(), hello.random.begin());
  hello.hello_retry_request = hello.random == kHelloRetryRandom;
  if (r.left() == 0) return hello;
  Reader extensions(r.vec(2));
  while (r.ok() && extensions.ok() && extensions.left() > 0) {
    const std::uint32_t type = extensions.number(2);
    Reader data(extensions.vec(2));
    if (type == kExtSupportedVersions) {
      const std::uint32_t v = data.number(2);
      if (data.ok()) hello.version = static_cast<std::uint16_t>(v);
    }
  }
  return hello;
}

std::string tls_version_name(std::uint16_t version) {
  switch (version) {
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
    default: {
      char text[8];
      std::snprintf(text, sizeof text, "0x%04x", version);
      return text;
    }
  }
}

std::string tls_alert_name(std::uint8_t description) {
  switch (description) {
    case 0:
      return "close_notify";
    case 10:
      return "unexpected_message";
    case 20:
      return "bad_record_mac";
    case 22:
      return "record_overflow";
    case 40:
      return "handshake_failure";
    case 42:
      return "bad_certificate";
    case 43:
      return "unsupported_certificate";
    case 44:
      return "certificate_revoked";
    case 45:
      return "certificate_expired";
    case 46:
      return "certificate_unknown";
    case 47:
      return "illegal_parameter";
    case 48:
      return "unknown_ca";
    case 49:
      return "access_denied";
    case 50:
      return "decode_error";
    case 51:
      return "decrypt_error";
    case 70:
      return "protocol_version";
    case 71:
      return "insufficient_security";
    case 80:
      return "internal_error";
    case 86:
      return "inappropriate_fallback";
    case 90:
      return "user_canceled";
    case 100:
      return "no_renegotiation";
    case 109:
      return "missing_extension";
    case 110:
      return "unsupported_extension";
    case 112:
      return "unrecognized_name";
    case 116:
      return "certificate_required";
    case 120:
      return "no_application_protocol";
    default:
      return std::to_string(description);
  }
}

}  // namespace closewire::wire
