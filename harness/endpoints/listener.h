// Listening sockets for closewire's endpoints: loopback, dynamic port unless told one.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace closewire::endpoints {

// Binds `host` ("127.0.0.1", "::1", ...) and `port` (0: dynamic) and listens; throws
// boost::system::system_error when that fails.
boost::asio::ip::tcp::acceptor listen_on(boost::asio::io_context& io, const std::string& host,
                                         std::uint16_t port);

}  // namespace closewire::endpoints
