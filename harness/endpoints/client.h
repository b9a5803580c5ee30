// A WebSocket client that behaves at the socket level like a browser profile around the close.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "harness/endpoints/client_profile.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/peer.h"
#include "harness/endpoints/tls_context.h"

namespace closewire::endpoints {

struct ClientConfig {
  Profile profile = Profile::chrome;
  std::string host = "127.0.0.1";  // where to connect (a proxy or the server)
  std::uint16_t port = 0;
  std::string target = "/";
  // Overrides the profile's close timeout (default_close_timeout) when set.
  std::optional<std::chrono::milliseconds> close_timeout;
  // false: the client does not answer the server's Close by itself (a step sends the reply), so a
  // scenario can make the reply arrive after a proxy closed, by design rather than by a race.
  bool auto_reply = true;
  // wss: a client-role context; the upgrade and every frame then go through TLS.
  std::shared_ptr<TlsContext> tls;
  // Over TLS, whether its closes send close_notify; unset: the profile's (sends_close_notify).
  std::optional<bool> close_notify;
  // WebSocket over HTTP/2 (RFC 8441), needs `tls`: offers ALPN h2 (and http/1.1: a server that
  // picks it gets the HTTP/1.1 upgrade), then an extended CONNECT on an h2 connection that stays
  // open after the stream ends, as a browser keeps it (stop() closes it).
  bool h2 = false;
};

// Connects, upgrades, then: on the server's Close writes its reply at once (echoing code and
// reason), closes TCP at the server's FIN, or itself when its close timeout fires (chrome 2 s,
// firefox 1 s; safari and rfc wait for the server). Its outcome follows judge_outcome().
class Client {
 public:
  Client(boost::asio::io_context& io, ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();
  void stop();  // abandons the connection (plain close), no further callbacks

  ObservationLog& log();  // connect, upgrade, frames, socket events, own timeout
  void subscribe(ObservationLog::Subscriber s) { log().subscribe(std::move(s)); }

  std::shared_ptr<Peer> peer() const;  // after the upgrade: send frames, close, ...
  bool upgraded() const;
  bool finished() const;  // the client's socket is closed
  std::optional<ClientOutcome> outcome() const;
  // Over h2: the local port of its TCP connection while that connection is open (it outlives
  // the WebSocket's stream); nullopt otherwise.
  std::optional<std::uint16_t> h2_connection_port() const;
  // Over h2, after the close event: ends the h2 connection a browser would keep (FIN, with
  // close_notify as the profile sends it), so that its legs complete; the outcome stays.
  void close_h2_connection();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace closewire::endpoints
