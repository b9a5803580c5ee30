#include "harness/wire/tls_key_log.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace closewire::wire {
namespace {

// A digit's value by character, -1 for anything else: key logs of a million lines are read
// before a capture's first packet, so this is a table, not a chain of range tests.
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();

// `text` (an even number of hex digits) into its text.size() / 2 bytes at `out`.
bool unhex(std::string_view text, std::uint8_t* out) {
  if (text.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < text.size() / 2; ++i) {
    const int hi = kHexValue[static_cast<unsigned char>(text[2 * i])];
    const int lo = kHexValue[static_cast<unsigned char>(text[2 * i + 1])];
    if ((hi | lo) < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The next space-separated field of `s`, removed from it. A plain loop: find_first_of(" \t")
// calls memchr over the two separators once per character, which made it most of the time of
// reading a large key log.
std::string_view field(std::string_view& s) {
  s = trim(s);
  std::size_t end = 0;
  while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
  const std::string_view f = s.substr(0, end);
  s.remove_prefix(end);
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
  ClientRandom random;
  if (random_hex.size() != 2 * random.size() || !unhex(random_hex, random.data())) {
    return "client random is not 32 bytes of hex";
  }
  std::array<std::uint8_t, 64> secret;
  const std::size_t secret_length = secret_hex.size() / 2;
  if (secret_hex.size() > 2 * secret.size() || !unhex(secret_hex, secret.data()) ||
      secret_length == 0) {
    return "secret is not hex of 1-64 bytes";
  }
  if (member == nullptr) return std::nullopt;  // a label closewire does not need
  if (member == &TlsSecrets::master_secret && secret_length != 48) {
    return "CLIENT_RANDOM's master secret is not 48 bytes";
  }
  const auto [it, added] = by_random_.try_emplace(random);
  // This log's lines override the base's for this session: start from the base's secrets.
  if (added && base_ != nullptr) {
    if (const TlsSecrets* below = base_->find(random)) {
      it->second = *below;
      ++overridden_;
    }
  }
  (it->second.*member).assign(secret.begin(), secret.begin() + secret_length);
  return std::nullopt;
}

void TlsKeyLog::add_text(std::string_view text, std::vector<std::string>& warnings) {
  // Room for the sessions of a TLS 1.3 key log this size (about 650 bytes each) up front, rather
  // than rehashing over and over while a large one is read.
  by_random_.reserve(by_random_.size() + text.size() / 600);
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
  if (client_random.size() != ClientRandom{}.size()) return nullptr;
  ClientRandom random;
  std::copy(client_random.begin(), client_random.end(), random.begin());
  if (const auto it = by_random_.find(random); it != by_random_.end()) return &it->second;
  return base_ != nullptr ? base_->find(client_random) : nullptr;
}

std::size_t TlsKeyLog::sessions() const {
  return by_random_.size() + (base_ != nullptr ? base_->sessions() : 0) - overridden_;
}

std::size_t TlsKeyLog::RandomHash::operator()(const ClientRandom& r) const {
  // Client randoms are random: two of their words make a good hash, and reading all 32 bytes
  // of a few hundred thousand would not make a better one.
  std::uint64_t a, b;
  std::memcpy(&a, r.data(), sizeof a);
  std::memcpy(&b, r.data() + 24, sizeof b);
  return static_cast<std::size_t>(a ^ (b * 0x9E3779B97F4A7C15ULL));
}

}  // namespace closewire::wire
