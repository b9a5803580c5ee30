#include "harness/wire/tls_key_log.h"

#include <vector>

namespace closewire::wire {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Bytes> unhex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  Bytes out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The next space-separated field of `s`, removed from it.
std::string_view field(std::string_view& s) {
  s = trim(s);
  const std::size_t end = s.find_first_of(" \t");
  const std::string_view f = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return f;
}

Bytes TlsSecrets::*member_of(std::string_view label) {
  if (label == "CLIENT_RANDOM") return &TlsSecrets::master_secret;
  if (label == "CLIENT_HANDSHAKE_TRAFFIC_SECRET") return &TlsSecrets::client_handshake;
  if (label == "SERVER_HANDSHAKE_TRAFFIC_SECRET") return &TlsSecrets::server_handshake;
  if (label == "CLIENT_TRAFFIC_SECRET_0") return &TlsSecrets::client_traffic;
  if (label == "SERVER_TRAFFIC_SECRET_0") return &TlsSecrets::server_traffic;
  return nullptr;
}

}  // namespace

std::optional<std::string> TlsKeyLog::add_line(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#') return std::nullopt;
  const std::string_view label = field(line);
  const std::string_view random_hex = field(line);
  const std::string_view secret_hex = field(line);
  if (random_hex.empty() || secret_hex.empty() || !trim(line).empty()) {
    return "not LABEL <client random> <secret>";
  }
  Bytes TlsSecrets::*member = member_of(label);
  const bool known_label = member != nullptr || label.starts_with("CLIENT_") ||
                           label.starts_with("SERVER_") || label.starts_with("EXPORTER_") ||
                           label.starts_with("EARLY_") || label == "RSA";
  if (!known_label) return "unknown label '" + std::string(label) + "'";
  const std::optional<Bytes> random = unhex(random_hex);
  if (!random || random->size() != 32) return "client random is not 32 bytes of hex";
  const std::optional<Bytes> secret = unhex(secret_hex);
  if (!secret || secret->empty() || secret->size() > 64) return "secret is not hex of 1-64 bytes";
  if (member == nullptr) return std::nullopt;  // a label closewire does not need
  if (member == &TlsSecrets::master_secret && secret->size() != 48) {
    return "CLIENT_RANDOM's master secret is not 48 bytes";
  }
  by_random_[std::string(random->begin(), random->end())].*member = *secret;
  return std::nullopt;
}

void TlsKeyLog::add_text(std::string_view text, std::vector<std::string>& warnings) {
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (std::optional<std::string> problem = add_line(line)) {
      warnings.push_back(std::to_string(number) + ": " + *problem);
    }
  }
}

const TlsSecrets* TlsKeyLog::find(std::span<const std::uint8_t> client_random) const {
  const auto it = by_random_.find(
      std::string(reinterpret_cast<const char*>(client_random.data()), client_random.size()));
  return it == by_random_.end() ? nullptr : &it->second;
}

}  // namespace closewire::wire
