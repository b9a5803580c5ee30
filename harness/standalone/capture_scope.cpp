#include "harness/standalone/capture_scope.h"

#include <boost/asio/ip/address.hpp>

namespace closewire::standalone {

namespace asio = boost::asio;

bool is_loopback(const std::string& numeric_host) {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(numeric_host, ec);
  if (ec) return false;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return a.is_loopback();
}

LiveCaptureOptions capture_scope(const std::vector<std::uint16_t>& ports, const std::string& host,
                                 const std::string& interface, const std::string& path) {
  LiveCaptureOptions o;
  o.interface = interface;
  o.tcp_ports = ports;
  o.host = is_loopback(host) ? std::string() : host;
  o.output_path = path;
  o.buffer_bytes = kSessionRingBytes;
  return o;
}

}  // namespace closewire::standalone
