#include "tests/support/tls_peers.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace closewire::test {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("tls_peers: ") + what);
}

// A P-256 key and a self-signed certificate for CN=localhost, valid for a day.
void add_certificate(SSL_CTX* ctx) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "EVP_EC_gen");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  check(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign");
  check(SSL_CTX_use_certificate(ctx, cert) == 1, "use_certificate");
  check(SSL_CTX_use_PrivateKey(ctx, key) == 1, "use_PrivateKey");
  X509_free(cert);
  EVP_PKEY_free(key);
}

void keep_key_log_line(const SSL* ssl, const char* line) {
  auto* log = static_cast<std::string*>(SSL_get_app_data(ssl));
  *log += line;
  *log += '\n';
}

SSL_CTX* make_ctx(bool server, const TlsPeersOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  check(ctx != nullptr, "SSL_CTX_new");
  if (o.max_version) SSL_CTX_set_max_proto_version(ctx, o.max_version);
  const std::string& suites =
      server && !o.server_ciphersuites.empty() ? o.server_ciphersuites : o.ciphersuites;
  if (!suites.empty()) check(SSL_CTX_set_ciphersuites(ctx, suites.c_str()) == 1, "ciphersuites");
  if (!o.cipher_list.empty())
    check(SSL_CTX_set_cipher_list(ctx, o.cipher_list.c_str()) == 1, "cipher_list");
  SSL_CTX_set_keylog_callback(ctx, keep_key_log_line);
  if (server) add_certificate(ctx);
  return ctx;
}

SSL* make_ssl(SSL_CTX* ctx, std::string* key_log) {
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);  // empty means "wait for more", not the peer's EOF
  SSL_set_bio(ssl, in, BIO_new(BIO_s_mem()));
  SSL_set_app_data(ssl, key_log);
  return ssl;
}

}  // namespace

TlsPeers::TlsPeers(const TlsPeersOptions& options, Wire wire) : wire_(std::move(wire)) {
  client_ctx_ = make_ctx(false, options);
  server_ctx_ = make_ctx(true, options);
  client_ = make_ssl(client_ctx_, &key_log_);
  server_ = make_ssl(server_ctx_, &key_log_);
  SSL_set_connect_state(client_);
  SSL_set_accept_state(server_);
  if (!options.sni.empty()) SSL_set_tlsext_host_name(client_, options.sni.c_str());
}

TlsPeers::~TlsPeers() {
  SSL_free(client_);
  SSL_free(server_);
  SSL_CTX_free(client_ctx_);
  SSL_CTX_free(server_ctx_);
}

void TlsPeers::pump(Side from) {
  BIO* out = SSL_get_wbio(ssl(from));
  std::string bytes;
  char buffer[4096];
  for (int n; (n = BIO_read(out, buffer, sizeof buffer)) > 0;) bytes.append(buffer, n);
  if (bytes.empty()) return;
  wire_(from, bytes);
  BIO_write(SSL_get_rbio(ssl(peer_of(from))), bytes.data(), static_cast<int>(bytes.size()));
}

bool TlsPeers::handshake() {
  for (int round = 0; round < 10; ++round) {
    // SSL_get_error right after each call: writing into a BIO clears the retry flags it reads.
    const int c = SSL_do_handshake(client_);
    const int ce = SSL_get_error(client_, c);
    pump(Side::client);
    const int s = SSL_do_handshake(server_);
    const int se = SSL_get_error(server_, s);
    pump(Side::server);
    if (c == 1 && s == 1) {
      drain(Side::client);  // tickets
      return true;
    }
    if ((c != 1 && ce != SSL_ERROR_WANT_READ) || (s != 1 && se != SSL_ERROR_WANT_READ)) {
      pump(Side::client);
      pump(Side::server);
      if (std::getenv("TLS_PEERS_DEBUG")) {
        std::fprintf(stderr, "handshake: client %d/%d server %d/%d\n", c, ce, s, se);
        ERR_print_errors_fp(stderr);
      }
      ERR_clear_error();
      return false;
    }
  }
  return false;
}

std::string TlsPeers::drain(Side to) {
  std::string out;
  char buffer[4096];
  for (int n; (n = SSL_read(ssl(to), buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  ERR_clear_error();
  pump(to);  // anything reading made it write (a KeyUpdate answer, an alert)
  return out;
}

std::string TlsPeers::send(Side from, std::string_view plaintext) {
  check(SSL_write(ssl(from), plaintext.data(), static_cast<int>(plaintext.size())) > 0,
        "SSL_write");
  pump(from);
  return drain(peer_of(from));
}

void TlsPeers::key_update(Side from) {
  check(SSL_key_update(ssl(from), SSL_KEY_UPDATE_NOT_REQUESTED) == 1, "SSL_key_update");
}

void TlsPeers::close_notify(Side from) {
  SSL_shutdown(ssl(from));
  pump(from);
  drain(peer_of(from));
}

}  // namespace closewire::test
