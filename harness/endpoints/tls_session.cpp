#include "harness/endpoints/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <stdexcept>

namespace closewire::endpoints {
namespace {

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::string drain_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256] = "";
    ERR_error_string_n(e, text, sizeof text);
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsContext> context) : context_(std::move(context)) {
  ssl_ = SSL_new(context_->native());
  network_in_ = BIO_new(BIO_s_mem());
  network_out_ = BIO_new(BIO_s_mem());
  if (!ssl_ || !network_in_ || !network_out_)
    throw std::runtime_error("TLS session: out of memory");
  // An empty input BIO means "would block", not end of file.
  BIO_set_mem_eof_return(network_in_, -1);
  SSL_set_bio(ssl_, network_in_, network_out_);
  if (context_->role() == TlsContext::Role::server) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  const std::string& name = context_->server_name();
  if (!name.empty() && !is_ip_address(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());
  if (context_->verifies()) {
    const int ok = is_ip_address(name)
                       ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str())
                       : SSL_set1_host(ssl_, name.c_str());
    if (ok != 1) throw std::runtime_error("TLS session: bad server name " + name);
  }
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);  // frees both BIOs
}

void TlsSession::start() {
  if (context_->role() == TlsContext::Role::client && !handshake_done_) {
    std::string ignored;
    read(ignored, 0);
  }
}

void TlsSession::receive(std::span<const std::uint8_t> ciphertext) {
  if (!ciphertext.empty())
    BIO_write(network_in_, ciphertext.data(), static_cast<int>(ciphertext.size()));
}

TlsSession::Read TlsSession::fail(int ssl_error, std::string_view during) {
  error_ = std::string(during) + ": " +
           (ssl_error == SSL_ERROR_SSL ? drain_errors() : "SSL error " + std::to_string(ssl_error));
  if (ssl_error == SSL_ERROR_SSL && SSL_get_verify_result(ssl_) != X509_V_OK)
    error_ += std::string(" (") + X509_verify_cert_error_string(SSL_get_verify_result(ssl_)) + ")";
  return Read::error;
}

TlsSession::Read TlsSession::read(std::string& plain, std::size_t max) {
  if (!error_.empty()) return Read::error;
  if (!handshake_done_) {
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Read::need_more;
      return fail(e, "handshake");
    }
    handshake_done_ = true;
    handshake_news_ = true;
  }
  if (close_notify_received_) return Read::close_notify;
  std::array<char, 16384> buf;
  while (plain.size() < max) {
    const std::size_t want = std::min(buf.size(), max - plain.size());
    const int n = SSL_read(ssl_, buf.data(), static_cast<int>(want));
    if (n > 0) {
      plain.append(buf.data(), static_cast<std::size_t>(n));
      continue;
    }
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Read::need_more;
    if (e == SSL_ERROR_ZERO_RETURN) {
      close_notify_received_ = true;
      return Read::close_notify;
    }
    return fail(e, "read");
  }
  return Read::need_more;
}

bool TlsSession::pending() const {
  // Decrypted bytes of the current record, or received records not yet decrypted.
  return SSL_pending(ssl_) > 0 || BIO_ctrl_pending(network_in_) > 0;
}

bool TlsSession::take_handshake_news() {
  const bool news = handshake_news_;
  handshake_news_ = false;
  return news;
}

std::string TlsSession::description() const {
  if (!handshake_done_) return {};
  const std::string protocol = alpn();
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_) +
         (protocol.empty() ? "" : ", ALPN " + protocol);
}

std::string TlsSession::alpn() const {
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &name, &length);
  return name ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
}

bool TlsSession::encrypt(std::string_view plain) {
  std::size_t done = 0;
  while (done < plain.size()) {
    const int n = SSL_write(ssl_, plain.data() + done, static_cast<int>(plain.size() - done));
    if (n <= 0) {
      fail(SSL_get_error(ssl_, n), "write");
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool TlsSession::send_close_notify() {
  if (!handshake_done_ || close_notify_sent_ || !error_.empty()) return false;
  close_notify_sent_ = true;
  SSL_shutdown(ssl_);  // 0: sent, not yet received; the output BIO holds the alert either way
  drain_errors();
  return true;
}

std::string TlsSession::take_output() {
  std::string out(static_cast<std::size_t>(BIO_pending(network_out_)), '\0');
  if (!out.empty()) {
    const int n = BIO_read(network_out_, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  return out;
}

std::string TlsSession::client_random_hex() const {
  std::array<unsigned char, SSL3_RANDOM_SIZE> random{};
  const std::size_t n = SSL_get_client_random(ssl_, random.data(), random.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[random[i] >> 4];
    out += kHex[random[i] & 15];
  }
  return out;
}

}  // namespace closewire::endpoints
