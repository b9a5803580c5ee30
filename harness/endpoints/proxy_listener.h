// A proxy: an accept loop with one Relay per accepted downstream connection, configured by a
// proxy model (proxy_model.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/observation.h"
#include "harness/endpoints/relay.h"

namespace closewire::endpoints {

class ProxyListener {
 public:
  // Binds and listens at once; relays every connection with `config`.
  ProxyListener(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                RelayConfig config);
  ~ProxyListener();
  ProxyListener(const ProxyListener&) = delete;
  ProxyListener& operator=(const ProxyListener&) = delete;

  boost::asio::ip::tcp::endpoint endpoint() const;
  std::uint16_t port() const { return endpoint().port(); }
  ObservationLog& log();  // all relays; Observation::side is "downstream" or "upstream"
  std::size_t connections() const;
  // The legs of all connections (Relay::legs): each ends with a "closed" on either side.
  std::size_t legs() const;
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace closewire::endpoints
