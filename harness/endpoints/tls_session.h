// One TLS connection over memory BIOs: ciphertext in and out as bytes, so the socket stays with
// TcpStream (tcp_stream.h says why).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "harness/endpoints/tls_context.h"

using SSL = struct ssl_st;
using BIO = struct bio_st;

namespace closewire::endpoints {

class TlsSession {
 public:
  enum class Read : std::uint8_t {
    need_more,     // nothing more to decrypt until more ciphertext arrives
    close_notify,  // the peer's close_notify: no data follows
    error,         // a TLS failure (handshake, bad record); see error()
  };

  explicit TlsSession(std::shared_ptr<TlsContext> context);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Client: makes the ClientHello (take it with take_output()). Server: nothing.
  void start();
  // Received ciphertext, to be decrypted by read().
  void receive(std::span<const std::uint8_t> ciphertext);
  // Advances the handshake and decrypts what it can, up to `max` bytes into `plain`; returns
  // need_more while the connection goes on. `max` lets a reader stop with data left in OpenSSL.
  Read read(std::string& plain, std::size_t max);
  // Whether received bytes wait inside OpenSSL, decrypted or not (a stopped reader left them).
  bool pending() const;

  bool handshake_done() const { return handshake_done_; }
  // True once, right after the handshake completed (for the stream's observation).
  bool take_handshake_news();
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done ("..., ALPN h2" with one).
  std::string description() const;
  // The protocol ALPN settled on ("h2", "http/1.1"), "" without one.
  std::string alpn() const;

  // Encrypts application data (after the handshake); the records come out of take_output().
  bool encrypt(std::string_view plain);
  // close_notify into the output, once; false when there was no handshake or it went already.
  bool send_close_notify();
  bool close_notify_sent() const { return close_notify_sent_; }
  bool close_notify_received() const { return close_notify_received_; }
  // Ciphertext waiting to go out: handshake messages, records, tickets, alerts.
  std::string take_output();

  const std::string& error() const { return error_; }
  // The client random of this session as hex (what the key log's lines name), once known.
  std::string client_random_hex() const;

 private:
  Read fail(int ssl_error, std::string_view during);

  std::shared_ptr<TlsContext> context_;
  SSL* ssl_ = nullptr;
  BIO* network_in_ = nullptr;   // owned by ssl_
  BIO* network_out_ = nullptr;  // owned by ssl_
  bool handshake_done_ = false;
  bool handshake_news_ = false;
  bool close_notify_sent_ = false;
  bool close_notify_received_ = false;
  std::string error_;
};

}  // namespace closewire::endpoints
