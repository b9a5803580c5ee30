// Capture rings opened ahead and reused: needs root or CAP_NET_RAW, like live_capture_test.
#include "harness/capture/capture_ring.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <filesystem>

#include "harness/analysis/analyzer.h"
#include "harness/capture/live_capture.h"
#include "tests/support/capture_rights.h"

namespace closewire {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string temp_pcap(const char* name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

// Opens a connection to `acceptor`, sends a byte and closes both ends.
void one_connection(asio::io_context& io, tcp::acceptor& acceptor) {
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  asio::write(client, asio::buffer("x", 1));
  char byte;
  asio::read(server, asio::buffer(&byte, 1));
}

std::vector<std::uint16_t> server_ports(const std::string& pcap) {
  std::vector<std::uint16_t> ports;
  analyze_capture(pcap, [&](Connection&& c) { ports.push_back(c.server.port); });
  return ports;
}

TEST(CaptureRing, AWaitingRingKeepsNothing) {
  REQUIRE_CAPTURE_RIGHTS();
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  auto pool = std::make_shared<CaptureRingPool>(1, "lo");
  ASSERT_EQ(pool->size(), 1u);
  one_connection(io, acceptor);  // while the ring waits: not this run's traffic yet
  const std::string path = temp_pcap("waiting.pcap");
  LiveCapture capture({.tcp_ports = {port}, .output_path = path}, pool);
  EXPECT_EQ(pool->size(), 0u);
  one_connection(io, acceptor);
  const auto stats = capture.stop();
  EXPECT_EQ(stats.kernel_dropped, 0u);
  EXPECT_EQ(server_ports(path).size(), 1u)
      << "the connection made before the capture leaked into it";
}

TEST(CaptureRing, AReusedRingCarriesNothingOfTheRunBefore) {
  REQUIRE_CAPTURE_RIGHTS();
  asio::io_context io;
  tcp::acceptor first(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::acceptor second(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto pool = std::make_shared<CaptureRingPool>(1, "lo");
  const std::string a = temp_pcap("ring-a.pcap");
  const std::string b = temp_pcap("ring-b.pcap");
  {
    LiveCapture capture({.tcp_ports = {first.local_endpoint().port()}, .output_path = a}, pool);
    one_connection(io, first);
    capture.stop();
  }
  EXPECT_EQ(pool->size(), 1u) << "the ring did not come back";
  one_connection(io, first);  // between the two runs
  {
    LiveCapture capture(
        {.tcp_ports = {first.local_endpoint().port(), second.local_endpoint().port()},
         .output_path = b},
        pool);
    EXPECT_EQ(pool->size(), 0u) << "the second run did not reuse the ring";
    one_connection(io, second);
    capture.stop();
  }
  EXPECT_EQ(server_ports(a), std::vector<std::uint16_t>{first.local_endpoint().port()});
  EXPECT_EQ(server_ports(b), std::vector<std::uint16_t>{second.local_endpoint().port()});
}

TEST(CaptureRing, APoolForAnotherInterfaceGivesNothing) {
  REQUIRE_CAPTURE_RIGHTS();
  CaptureRingPool pool(1, "lo");
  EXPECT_EQ(pool.take("eth-other"), nullptr);
  EXPECT_NE(pool.take("lo"), nullptr);
  EXPECT_EQ(pool.take("lo"), nullptr);
}

}  // namespace
}  // namespace closewire
