// A TLS client and server (OpenSSL over memory BIOs) for crafted TLS captures: a real handshake
// with a throw-away self-signed EC certificate, each flight handed to the test as the bytes one
// side put on the wire, the session's secrets kept in the NSS key log format.
#pragma once

#include <openssl/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "harness/analysis/event.h"

namespace closewire::test {

struct TlsPeersOptions {
  int max_version = 0;              // TLS1_2_VERSION for TLS 1.2; 0: up to TLS 1.3
  std::string ciphersuites;         // TLS 1.3 suites (client and server), "" = OpenSSL's default
  std::string cipher_list;          // TLS 1.2 suites, "" = OpenSSL's default
  std::string server_ciphersuites;  // the server's TLS 1.3 suites when they must differ
  std::string sni = "localhost";
};

class TlsPeers {
 public:
  // Bytes one side wrote to the wire, in order.
  using Wire = std::function<void(Side from, const std::string& bytes)>;

  TlsPeers(const TlsPeersOptions& options, Wire wire);
  ~TlsPeers();
  TlsPeers(const TlsPeers&) = delete;
  TlsPeers& operator=(const TlsPeers&) = delete;

  // Runs the handshake to its end (or until it fails: false).
  bool handshake();
  // `from` writes `plaintext` (one record); the peer reads whatever came. Returns what it read.
  std::string send(Side from, std::string_view plaintext);
  void key_update(Side from);  // a KeyUpdate (not requesting one back), sent with the next write
  void close_notify(Side from);
  const std::string& key_log() const { return key_log_; }

 private:
  SSL* ssl(Side s) const { return s == Side::client ? client_ : server_; }
  void pump(Side from);  // moves `from`'s written bytes to the wire and the peer
  std::string drain(Side to);

  Wire wire_;
  SSL_CTX* client_ctx_ = nullptr;
  SSL_CTX* server_ctx_ = nullptr;
  SSL* client_ = nullptr;
  SSL* server_ = nullptr;
  std::string key_log_;
};

}  // namespace closewire::test
