// The NSS key log format (SSLKEYLOGFILE, what Wireshark reads): TLS secrets by client random.
// Pure: lines in, secrets out; harness/analysis/key_log_file.h reads files.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "harness/wire/tls_crypto.h"

namespace closewire::wire {

using ClientRandom = std::array<std::uint8_t, 32>;

// What one session's lines gave; empty where the log had no such line.
struct TlsSecrets {
  Bytes master_secret;     // CLIENT_RANDOM (TLS 1.2)
  Bytes client_handshake;  // CLIENT_HANDSHAKE_TRAFFIC_SECRET
  Bytes server_handshake;  // SERVER_HANDSHAKE_TRAFFIC_SECRET
  Bytes client_traffic;    // CLIENT_TRAFFIC_SECRET_0
  Bytes server_traffic;    // SERVER_TRAFFIC_SECRET_0
};

class TlsKeyLog {
 public:
  // One line of a key log. Comments, blank lines and labels closewire does not use
  // (EXPORTER_SECRET, EARLY_...) are fine; nullopt then. Otherwise what is wrong with the line.
  std::optional<std::string> add_line(std::string_view line);
  // Every line of `text`; each malformed one as "LINE: what" in `warnings` (1-based).
  void add_text(std::string_view text, std::vector<std::string>& warnings);

  // This log's lines override `base`'s for the same session (from the first line of this log
  // for it on, its lines go over a copy of the base's secrets) and its sessions are found too,
  // as if `base` had been copied into this log first -- without copying a log that can hold
  // hundreds of thousands of sessions. `base` must outlive this log and not change under it.
  void set_base(const TlsKeyLog* base) { base_ = base; }

  const TlsSecrets* find(std::span<const std::uint8_t> client_random) const;
  std::size_t sessions() const;
  bool empty() const { return sessions() == 0; }

 private:
  struct RandomHash {
    std::size_t operator()(const ClientRandom& r) const;
  };
  std::unordered_map<ClientRandom, TlsSecrets, RandomHash> by_random_;
  const TlsKeyLog* base_ = nullptr;
  std::size_t overridden_ = 0;  // sessions of by_random_ that base_ has too
};

}  // namespace closewire::wire
