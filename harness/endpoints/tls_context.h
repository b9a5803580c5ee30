// One side's TLS configuration as an OpenSSL context: the server presents the run's leaf at one
// protocol version, the client accepts TLS 1.2 or 1.3; both write their secrets to the key log.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/endpoints/key_log.h"
#include "harness/endpoints/tls_identity.h"

using SSL_CTX = struct ssl_ctx_st;

namespace closewire::endpoints {

enum class TlsVersion : std::uint8_t { tls1_2, tls1_3 };

std::string_view to_string(TlsVersion v);  // "1.2", "1.3"
std::optional<TlsVersion> tls_version_from_string(std::string_view text);  // "1.2", "1.3"

class TlsContext {
 public:
  enum class Role : std::uint8_t { client, server };

  // Presents `identity`'s leaf and speaks exactly `version`.
  static std::shared_ptr<TlsContext> server(std::shared_ptr<const TlsIdentity> identity,
                                            TlsVersion version,
                                            std::shared_ptr<KeyLogFile> key_log);
  // Speaks TLS 1.2 or 1.3, as the server chooses. With `trust`, verifies the server's chain
  // against its CA and `server_name`; without, accepts any certificate (like curl -k: a probe of
  // a real ingress). `server_name` also goes out as SNI unless it is an IP address.
  static std::shared_ptr<TlsContext> client(std::shared_ptr<const TlsIdentity> trust,
                                            std::shared_ptr<KeyLogFile> key_log,
                                            std::string server_name = "localhost");
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // ALPN (RFC 7301), e.g. {"h2", "http/1.1"}: a client offers these in its ClientHello; a server
  // picks its first one the client offers (none in common: no ALPN in its answer).
  void set_alpn(const std::vector<std::string>& protocols);

  SSL_CTX* native() const { return ctx_; }
  Role role() const { return role_; }
  const std::string& server_name() const { return server_name_; }
  bool verifies() const { return identity_ != nullptr && role_ == Role::client; }
  const KeyLogFile* key_log() const { return key_log_.get(); }

 private:
  TlsContext(Role role, std::shared_ptr<const TlsIdentity> identity,
             std::shared_ptr<KeyLogFile> key_log, std::string server_name);

  Role role_;
  SSL_CTX* ctx_ = nullptr;
  std::shared_ptr<const TlsIdentity> identity_;
  std::shared_ptr<KeyLogFile> key_log_;
  std::string server_name_;
  std::string alpn_;  // the wire format: length-prefixed names
};

}  // namespace closewire::endpoints
