#include "harness/wire/tls_session.h"

#include <cstdio>

namespace closewire::wire {
namespace {

// Records skipped while trying application keys on a session whose handshake secrets are
// missing: a server's handshake flight (certificates included) fits in far fewer.
constexpr int kMaxProbes = 64;

void put_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

// The per-record nonce of TLS 1.3 and of TLS 1.2 ChaCha20 (RFC 7905): the IV XOR the sequence
// number, right-aligned.
std::array<std::uint8_t, kAeadNonce> xor_nonce(const Bytes& iv, std::uint64_t seq) {
  std::array<std::uint8_t, kAeadNonce> nonce{};
  std::copy(iv.begin(), iv.begin() + kAeadNonce, nonce.begin());
  std::array<std::uint8_t, 8> s{};
  put_be64(s.data(), seq);
  for (int i = 0; i < 8; ++i) nonce[4 + i] ^= s[i];
  return nonce;
}

}  // namespace

void TlsSession::feed(bool client, std::span<const std::uint8_t> bytes, TlsListener& listener) {
  const int d = client ? 0 : 1;
  Direction& dir = dirs_[d];
  if (dir.stopped || dir.records.broken()) return;
  const bool ok = dir.records.feed(bytes, [&](const TlsRecord& r) { on_record(d, r, listener); });
  if (!ok && !dir.stopped) {
    dir.stopped = true;
    listener.on_tls_undecryptable(client, "not TLS records any more (bad record header)");
  }
}

void TlsSession::finish(bool client, TlsListener& listener) {
  // Application secrets tried on every record and never one opened: they are not this session's.
  if (dirs_[client ? 0 : 1].probing) stop(client ? 0 : 1, tls_why::wrong_key, listener);
}

void TlsSession::stop(int d, std::string_view why, TlsListener& listener) {
  if (dirs_[d].stopped) return;
  dirs_[d].stopped = true;
  dirs_[d].key = AeadKey{};  // frees its OpenSSL context: this direction is not read again
  listener.on_tls_undecryptable(d == 0, why);
}

void TlsSession::on_record(int d, const TlsRecord& record, TlsListener& listener) {
  Direction& dir = dirs_[d];
  if (dir.stopped) return;
  if (record.type == tls_content::change_cipher_spec) {
    // TLS 1.2: this side encrypts from its next record on. TLS 1.3: middlebox compatibility only.
    if (version_ != 0 && !tls13() && dir.phase == Phase::clear) {
      dir.phase = Phase::application;
      dir.seq = 0;
    }
    return;
  }
  if (dir.phase == Phase::clear) {
    if (record.type == tls_content::application_data) return;  // early data: not followed
    on_plain_content(d, record.type, record.body, listener);
    return;
  }
  if (tls13() && record.type != tls_content::application_data) {
    // A TLS 1.3 peer that failed the handshake may still send its alert in the clear.
    if (record.type == tls_content::alert) on_plain_content(d, record.type, record.body, listener);
    return;
  }
  if (!ready_keys(d, listener)) return;
  bool opened = tls13() ? open_tls13(d, record, scratch_) : open_tls12(d, record, scratch_);
  if (!opened && tls13() && dir.phase == Phase::handshake && secrets_ &&
      !(d == 0 ? secrets_->client_traffic : secrets_->server_traffic).empty()) {
    // Handshake secrets that do not open it: perhaps the handshake is over already.
    dir.phase = Phase::application;
    set_tls13_key(d, d == 0 ? secrets_->client_traffic : secrets_->server_traffic);
    opened = open_tls13(d, record, scratch_);
  }
  if (!opened) {
    if (dir.probing && ++dir.probes <= kMaxProbes) return;  // a handshake record: skip it
    stop(d, tls_why::wrong_key, listener);
    return;
  }
  dir.probing = false;
  any_decrypted_ = true;
  ++dir.seq;
  std::uint8_t type = record.type;
  std::span<const std::uint8_t> content(scratch_);
  if (tls13()) {
    // TLSInnerPlaintext: content, the real type, zero padding.
    std::size_t end = content.size();
    while (end > 0 && content[end - 1] == 0) --end;
    if (end == 0) return;  // all padding: nothing to read
    type = content[end - 1];
    content = content.first(end - 1);
  }
  on_plain_content(d, type, content, listener);
  if (dir.stopped) return;
  if (dir.switch_to_application) {
    dir.switch_to_application = false;
    dir.phase = Phase::application;
    dir.key.clear();  // ready_keys derives the application key for the next record
  }
  if (dir.key_update) {
    dir.key_update = false;
    const Bytes next = hkdf_expand_label(suite_->hash, dir.traffic_secret, "traffic upd", {},
                                         hash_length(suite_->hash));
    set_tls13_key(d, next);
  }
}

void TlsSession::on_plain_content(int d, std::uint8_t type, std::span<const std::uint8_t> content,
                                  TlsListener& listener) {
  switch (type) {
    case tls_content::handshake:
      dirs_[d].handshake.feed(content, [&](const HandshakeStream::Message& m) {
        on_handshake_message(d, m, listener);
      });
      break;
    case tls_content::alert:
      for (std::size_t i = 0; i + 1 < content.size(); i += 2)
        listener.on_tls_alert(d == 0, content[i], content[i + 1]);
      break;
    case tls_content::application_data:
      if (!content.empty()) listener.on_plaintext(d == 0, content);
      break;
    default:
      break;
  }
}

void TlsSession::on_handshake_message(int d, const HandshakeStream::Message& m,
                                      TlsListener& listener) {
  Direction& dir = dirs_[d];
  if (m.type == tls_handshake::client_hello && d == 0 && dir.phase == Phase::clear) {
    if (const std::optional<ClientHello> hello = parse_client_hello(m.body)) {
      client_random_ = hello->random;
      sni_ = hello->sni;
      client_hello_seen_ = true;
    }
  } else if (m.type == tls_handshake::server_hello && d == 1 && dir.phase == Phase::clear) {
    const std::optional<ServerHello> hello = parse_server_hello(m.body);
    if (!hello || hello->hello_retry_request) return;  // the client says hello again
    server_random_ = hello->random;
    version_ = hello->version;
    suite_id_ = hello->cipher_suite;
    suite_ = find_cipher_suite(suite_id_);
    if (suite_ && suite_->tls13 != tls13()) suite_ = nullptr;
    std::string text = tls_version_name(version_) + " ";
    if (const TlsCipherSuite* known = find_cipher_suite(suite_id_)) {
      text += known->name;
    } else {
      char id[8];
      std::snprintf(id, sizeof id, "0x%04x", suite_id_);
      text += id;
    }
    listener.on_tls_handshake(text);
    if (tls13()) {
      // Every later record of either side is protected (the client's by its handshake keys).
      for (Direction& each : dirs_) {
        each.phase = Phase::handshake;
        each.seq = 0;
      }
    }
  } else if (m.type == tls_handshake::finished && tls13() && dir.phase == Phase::handshake) {
    dir.switch_to_application = true;
  } else if (m.type == tls_handshake::key_update && tls13() && dir.phase == Phase::application) {
    dir.key_update = true;
  }
}

bool TlsSession::ready_keys(int d, TlsListener& listener) {
  Direction& dir = dirs_[d];
  if (dir.key.valid()) return true;
  if (!looked_up_ && client_hello_seen_ && keys_ != nullptr) {
    secrets_ = keys_->find(client_random_);
    looked_up_ = secrets_ != nullptr;  // a key log that grows (pcapng blocks) is asked again
  }
  if (secrets_ == nullptr) {
    stop(d, tls_why::no_key, listener);
    return false;
  }
  if (suite_ == nullptr) {
    char why[64];
    std::snprintf(why, sizeof why, "cipher suite 0x%04x is not one closewire decrypts", suite_id_);
    stop(d, why, listener);
    return false;
  }
  if (tls13()) {
    const bool client = d == 0;
    if (dir.phase == Phase::handshake) {
      const Bytes& hs = client ? secrets_->client_handshake : secrets_->server_handshake;
      if (!hs.empty()) {
        set_tls13_key(d, hs);
        dir.seq = 0;
        return true;
      }
      dir.phase = Phase::application;  // no handshake secrets: find the first application record
      dir.probing = true;
    }
    const Bytes& traffic = client ? secrets_->client_traffic : secrets_->server_traffic;
    if (traffic.empty()) {
      stop(d, tls_why::no_key, listener);
      return false;
    }
    set_tls13_key(d, traffic);
    return true;
  }
  if (secrets_->master_secret.empty()) {
    stop(d, tls_why::no_key, listener);
    return false;
  }
  // RFC 5246 §6.3: client key, server key, client IV, server IV (AEAD suites: no MAC keys).
  const std::size_t key_length = suite_->key_length();
  const std::size_t iv_length = suite_->aead == TlsAead::chacha20_poly1305 ? 12 : 4;
  Bytes seed(server_random_.begin(), server_random_.end());
  seed.insert(seed.end(), client_random_.begin(), client_random_.end());
  const Bytes block = tls12_prf(suite_->hash, secrets_->master_secret, "key expansion", seed,
                                2 * key_length + 2 * iv_length);
  const std::size_t key_at = d == 0 ? 0 : key_length;
  const std::size_t iv_at = 2 * key_length + (d == 0 ? 0 : iv_length);
  dir.key.set(suite_->aead, std::span(block).subspan(key_at, key_length));
  dir.iv.assign(block.begin() + static_cast<std::ptrdiff_t>(iv_at),
                block.begin() + static_cast<std::ptrdiff_t>(iv_at + iv_length));
  return dir.key.valid();
}

void TlsSession::set_tls13_key(int d, std::span<const std::uint8_t> secret) {
  Direction& dir = dirs_[d];
  dir.traffic_secret.assign(secret.begin(), secret.end());
  dir.key.set(suite_->aead,
              hkdf_expand_label(suite_->hash, secret, "key", {}, suite_->key_length()));
  dir.iv = hkdf_expand_label(suite_->hash, secret, "iv", {}, kAeadNonce);
  dir.seq = 0;
}

bool TlsSession::open_tls13(int d, const TlsRecord& record, Bytes& out) {
  const Direction& dir = dirs_[d];
  const auto nonce = xor_nonce(dir.iv, dir.seq);
  return dir.key.open(nonce, record.header, record.body, out);
}

bool TlsSession::open_tls12(int d, const TlsRecord& record, Bytes& out) {
  const Direction& dir = dirs_[d];
  std::array<std::uint8_t, kAeadNonce> nonce{};
  std::span<const std::uint8_t> sealed = record.body;
  if (suite_->aead == TlsAead::chacha20_poly1305) {
    nonce = xor_nonce(dir.iv, dir.seq);
  } else {
    // GCM: the 4-byte salt from the key block, then the record's explicit 8-byte nonce.
    if (sealed.size() < 8 + kAeadTag) return false;
    std::copy(dir.iv.begin(), dir.iv.begin() + 4, nonce.begin());
    std::copy(sealed.begin(), sealed.begin() + 8, nonce.begin() + 4);
    sealed = sealed.subspan(8);
  }
  if (sealed.size() < kAeadTag) return false;
  const std::size_t length = sealed.size() - kAeadTag;
  // additional_data: seq_num, type, version, length of the plaintext.
  std::array<std::uint8_t, 13> aad{};
  put_be64(aad.data(), dir.seq);
  aad[8] = record.type;
  aad[9] = record.header[1];
  aad[10] = record.header[2];
  aad[11] = static_cast<std::uint8_t>(length >> 8);
  aad[12] = static_cast<std::uint8_t>(length);
  return dir.key.open(nonce, aad, sealed, out);
}

}  // namespace closewire::wire
