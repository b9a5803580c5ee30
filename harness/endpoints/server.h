// A WebSocket server that behaves like the seed's Node `ws` 8 server unless told otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/action.h"
#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/peer.h"
#include "harness/endpoints/tls_context.h"

namespace closewire::endpoints {

// The seed's server (Node ws 8): conn.close(4321, "test") as soon as the connection opens.
inline constexpr std::uint16_t kSeedCloseCode = 4321;
inline constexpr std::string_view kSeedCloseReason = "test";
// ws 8's closeTimeout: socket.destroy() when the closing handshake has not ended 30 s after its
// Close; the timer runs until the socket is closed.
inline constexpr std::chrono::milliseconds kWsCloseTimeout{30000};

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks one; see Server::port()
  std::vector<Action> on_open = {Action::close(kSeedCloseCode, std::string(kSeedCloseReason))};
  // ws 8 ends the socket (socket.end(): FIN, keep reading, close at the client's FIN) once its
  // Close was sent and the client's Close received. None: the server leaves the socket open (a
  // server that never closes TCP; its close timeout, or a later action, still ends it).
  std::optional<CloseMode> after_closing_handshake = CloseMode::half_close;
  std::chrono::milliseconds close_timeout = kWsCloseTimeout;
  // ws answers a client's Close with its own. false: the server ends TCP without answering (in
  // after_closing_handshake's mode, or FIN), as servers that skip the reply do (mongoose#1502).
  bool answer_close = true;
  // wss: a server-role context; the upgrade and every frame then go through TLS.
  std::shared_ptr<TlsContext> tls;
};

// Accepts any number of connections; each does the HTTP upgrade (Sec-WebSocket-Accept from the
// key), then runs `on_open`. Answers a client-initiated Close with the same code, like ws.
class Server {
 public:
  Server(boost::asio::io_context& io, ServerConfig config);  // binds and listens at once
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  boost::asio::ip::tcp::endpoint endpoint() const;

  // Every connection's observations, with Observation::connection = accept order.
  ObservationLog& log();
  void subscribe(ObservationLog::Subscriber s) { log().subscribe(std::move(s)); }

  std::size_t connections() const;                  // upgraded so far
  std::shared_ptr<Peer> peer(std::size_t i) const;  // null when out of range
  // Runs steps on connection `i` after whatever runs there now.
  void run_steps(std::size_t i, std::vector<Action> steps);

  void stop();  // stops accepting and closes every connection (plain close)

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace closewire::endpoints
