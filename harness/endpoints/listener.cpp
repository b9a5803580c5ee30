#include "harness/endpoints/listener.h"

#include <boost/asio/ip/address.hpp>

namespace closewire::endpoints {

boost::asio::ip::tcp::acceptor listen_on(boost::asio::io_context& io, const std::string& host,
                                         std::uint16_t port) {
  using boost::asio::ip::tcp;
  tcp::endpoint ep(boost::asio::ip::make_address(host), port);
  tcp::acceptor acceptor(io, ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen();
  return acceptor;
}

}  // namespace closewire::endpoints
