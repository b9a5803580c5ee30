#include "harness/endpoints/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace closewire::endpoints {
namespace {

[[noreturn]] void fail(const std::string& what) {
  char text[256] = "";
  ERR_error_string_n(ERR_get_error(), text, sizeof text);
  throw std::runtime_error("TLS context: " + what + ": " + text);
}

// The context's key log, kept in the SSL_CTX's ex_data for the keylog callback.
int key_log_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// A server's ALPN choice: its own first protocol that the client offers.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned int>(ours->size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

void write_key_line(const SSL* ssl, const char* line) {
  auto* log = static_cast<KeyLogFile*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), key_log_index()));
  if (log) log->write(line);
}

}  // namespace

std::string_view to_string(TlsVersion v) {
  return v == TlsVersion::tls1_2 ? "1.2" : "1.3";
}

std::optional<TlsVersion> tls_version_from_string(std::string_view text) {
  if (text == "1.2") return TlsVersion::tls1_2;
  if (text == "1.3") return TlsVersion::tls1_3;
  return std::nullopt;
}

TlsContext::TlsContext(Role role, std::shared_ptr<const TlsIdentity> identity,
                       std::shared_ptr<KeyLogFile> key_log, std::string server_name)
    : role_(role),
      identity_(std::move(identity)),
      key_log_(std::move(key_log)),
      server_name_(std::move(server_name)) {
  ctx_ = SSL_CTX_new(role == Role::server ? TLS_server_method() : TLS_client_method());
  if (!ctx_) fail("SSL_CTX_new");
  if (key_log_) {
    SSL_CTX_set_ex_data(ctx_, key_log_index(), key_log_.get());
    SSL_CTX_set_keylog_callback(ctx_, write_key_line);
  }
  // Partial writes and moving buffers: the stream hands OpenSSL one piece at a time.
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

void TlsContext::set_alpn(const std::vector<std::string>& protocols) {
  alpn_.clear();
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) throw std::invalid_argument("bad ALPN protocol name");
    alpn_ += static_cast<char>(p.size());
    alpn_ += p;
  }
  if (role_ == Role::server) {
    SSL_CTX_set_alpn_select_cb(ctx_, select_alpn, &alpn_);
    return;
  }
  // 0 is success here.
  if (SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(alpn_.data()),
                              static_cast<unsigned int>(alpn_.size())) != 0)
    fail("ALPN");
}

std::shared_ptr<TlsContext> TlsContext::server(std::shared_ptr<const TlsIdentity> identity,
                                               TlsVersion version,
                                               std::shared_ptr<KeyLogFile> key_log) {
  if (!identity) throw std::invalid_argument("a TLS server needs an identity");
  std::shared_ptr<TlsContext> c(
      new TlsContext(Role::server, identity, std::move(key_log), std::string()));
  const int v = version == TlsVersion::tls1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(c->ctx_, v) != 1 ||
      SSL_CTX_set_max_proto_version(c->ctx_, v) != 1)
    fail("protocol version");
  if (SSL_CTX_use_certificate(c->ctx_, identity->leaf()) != 1) fail("the leaf certificate");
  if (SSL_CTX_use_PrivateKey(c->ctx_, identity->leaf_key()) != 1) fail("the leaf key");
  // The CA goes out behind the leaf, as a server with an intermediate would send it.
  if (SSL_CTX_add1_chain_cert(c->ctx_, identity->ca()) != 1) fail("the chain");
  return c;
}

std::shared_ptr<TlsContext> TlsContext::client(std::shared_ptr<const TlsIdentity> trust,
                                               std::shared_ptr<KeyLogFile> key_log,
                                               std::string server_name) {
  std::shared_ptr<TlsContext> c(
      new TlsContext(Role::client, trust, std::move(key_log), std::move(server_name)));
  if (SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c->ctx_, TLS1_3_VERSION) != 1)
    fail("protocol versions");
  if (trust) {
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx_), trust->ca()) != 1)
      fail("trusting the CA");
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
  }
  return c;
}

}  // namespace closewire::endpoints
