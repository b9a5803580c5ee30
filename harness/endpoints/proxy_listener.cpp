#include "harness/endpoints/proxy_listener.h"

#include <vector>

#include "harness/endpoints/listener.h"

namespace closewire::endpoints {

struct ProxyListener::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, const std::string& host, std::uint16_t port, RelayConfig c)
      : config(std::move(c)),
        acceptor(listen_on(io, host, port)),
        bound(acceptor.local_endpoint()) {}

  RelayConfig config;
  tcp::acceptor acceptor;
  tcp::endpoint bound;
  std::shared_ptr<ObservationLog> log = std::make_shared<ObservationLog>();
  std::vector<std::shared_ptr<Relay>> relays;
  bool stopped = false;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
      if (self->stopped || ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto relay = Relay::create(std::move(socket), self->config, self->relays.size(), self->log);
        self->relays.push_back(relay);
        relay->start();
      }
      self->accept();
    });
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    error_code ec;
    acceptor.close(ec);
    for (auto& r : relays) r->stop();
    relays.clear();
  }
};

ProxyListener::ProxyListener(asio::io_context& io, const std::string& host, std::uint16_t port,
                             RelayConfig config)
    : impl_(std::make_shared<Impl>(io, host, port, std::move(config))) {
  impl_->accept();
}

ProxyListener::~ProxyListener() {
  impl_->stop();
}

tcp::endpoint ProxyListener::endpoint() const {
  return impl_->bound;
}
ObservationLog& ProxyListener::log() {
  return *impl_->log;
}
std::size_t ProxyListener::connections() const {
  return impl_->relays.size();
}
std::size_t ProxyListener::legs() const {
  std::size_t n = 0;
  for (const auto& r : impl_->relays) n += r->legs();
  return n;
}
void ProxyListener::stop() {
  impl_->stop();
}

}  // namespace closewire::endpoints
