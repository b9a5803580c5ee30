// Live capture on lo: needs root or CAP_NET_RAW. Outside CI a machine without them skips these
// tests with a message; with CI=true that is a failure.
#include "harness/capture/live_capture.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <filesystem>

#include "harness/analysis/analyzer.h"
#include "tests/support/capture_rights.h"

namespace closewire {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string temp_pcap(const char* name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

TEST(LiveCapture, RecordsAConnectionBetweenItsSentinels) {
  REQUIRE_CAPTURE_RIGHTS();
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  const std::string path = temp_pcap("live.pcap");
  LiveCapture capture({.tcp_ports = {port}, .output_path = path});
  {
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    asio::write(client, asio::buffer(std::string("hello")));
    char buf[5];
    asio::read(server, asio::buffer(buf));
    client.shutdown(tcp::socket::shutdown_send);
    boost::system::error_code ec;
    asio::read(server, asio::buffer(buf, 1), ec);  // EOF: the client's FIN arrived
    EXPECT_EQ(ec, asio::error::eof);
    server.close();
    client.close();
  }
  const LiveCaptureStats stats = capture.stop();
  EXPECT_GE(stats.packets_written, 7u);  // handshake, data, ack, two FINs and their acks
  EXPECT_EQ(stats.kernel_dropped, 0u);

  std::vector<Connection> legs;
  analyze_capture(path, [&](Connection&& c) { legs.push_back(std::move(c)); });
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].server.port, port);
  int fins = 0;
  for (const auto& e : legs[0].events) fins += e.kind == kind::fin ? 1 : 0;
  EXPECT_EQ(fins, 2);
}

TEST(LiveCapture, FilterKeepsOnlyTheRunsPorts) {
  REQUIRE_CAPTURE_RIGHTS();
  asio::io_context io;
  tcp::acceptor ours(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::acceptor other(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string path = temp_pcap("filtered.pcap");
  LiveCapture capture({.tcp_ports = {ours.local_endpoint().port()}, .output_path = path});
  tcp::socket a(io), b(io);
  a.connect(other.local_endpoint());
  tcp::socket a_peer = other.accept();
  b.connect(ours.local_endpoint());
  tcp::socket b_peer = ours.accept();
  capture.stop();
  std::vector<Connection> legs;
  analyze_capture(path, [&](Connection&& c) { legs.push_back(std::move(c)); });
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].server.port, ours.local_endpoint().port());
}

// On "any" the sentinel arrives in a Linux cooked header, which the capture does not read as
// one: the start is never confirmed, and the constructor must throw (not end the process with
// its thread still running).
TEST(LiveCapture, AStartNeverConfirmedThrows) {
  REQUIRE_CAPTURE_RIGHTS();
  EXPECT_THROW(LiveCapture({.interface = "any",
                            .tcp_ports = {1},
                            .output_path = temp_pcap("any.pcap"),
                            .sentinel_timeout_ms = 200,
                            .confirm_with_sentinel = true}),
               CaptureEnvironmentError);
}

// The legs of `pcap` (a snapshot or a stopped capture's file).
std::vector<Connection> legs_of(const std::string& pcap) {
  std::vector<Connection> legs;
  analyze_capture(pcap, [&](Connection&& c) { legs.push_back(std::move(c)); });
  return legs;
}

int fins(const Connection& leg) {
  int n = 0;
  for (const auto& e : leg.events) n += e.kind == kind::fin ? 1 : 0;
  return n;
}

// A checkpoint drains the ring: what a socket sent before it is in the file after it, and a
// snapshot (the file as of the last checkpoint, whole records) reads like a finished capture.
void checkpoint_holds_what_was_sent_before_it(bool sentinel) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  const std::string path = temp_pcap(sentinel ? "checkpoint.pcap" : "checkpoint-ring.pcap");
  const std::string snap = temp_pcap("snapshot.pcap");
  LiveCapture capture(
      {.tcp_ports = {port}, .output_path = path, .confirm_with_sentinel = sentinel});
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  asio::write(client, asio::buffer(std::string("hello")));
  EXPECT_GE(capture.checkpoint(), 4u);  // the handshake and the data segment
  EXPECT_EQ(capture.dropped(), 0u);

  client.shutdown(tcp::socket::shutdown_send);  // a FIN after the checkpoint...
  capture.snapshot(snap);
  auto legs = legs_of(snap);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].server.port, port);
  EXPECT_EQ(fins(legs[0]), 0) << "the snapshot holds more than the last checkpoint";

  const std::uint64_t before = capture.checkpoint();  // ...is in the file after the next one
  capture.snapshot(snap);
  legs = legs_of(snap);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(fins(legs[0]), 1) << "the client's FIN, sent before checkpoint(), is not in the file";

  server.shutdown(tcp::socket::shutdown_send);
  const LiveCaptureStats stats = capture.stop();  // the stop drains what came since
  EXPECT_GT(stats.packets_written, before);
  legs = legs_of(path);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(fins(legs[0]), 2);
}

TEST(LiveCapture, CheckpointHoldsWhatWasSentBeforeIt) {
  REQUIRE_CAPTURE_RIGHTS();
  checkpoint_holds_what_was_sent_before_it(true);
}

// Without the sentinel (as off lo): the start is the ring itself, the stop a last drain.
TEST(LiveCapture, WithoutSentinelTheRingConfirmsStartAndStop) {
  REQUIRE_CAPTURE_RIGHTS();
  checkpoint_holds_what_was_sent_before_it(false);
}

TEST(LiveCapture, WithoutSentinelAFreshCaptureIsAReadableEmptyFile) {
  REQUIRE_CAPTURE_RIGHTS();
  const std::string path = temp_pcap("fresh.pcap");
  const std::string snap = temp_pcap("fresh-snapshot.pcap");
  LiveCapture capture({.tcp_ports = {1}, .output_path = path, .confirm_with_sentinel = false});
  capture.snapshot(snap);  // no checkpoint asked for: the start's own put the header on disk
  EXPECT_TRUE(legs_of(snap).empty());
  EXPECT_EQ(capture.stop().packets_written, 0u);
}

// A capture off lo (without leaving loopback: "any" carries lo's packets too) confirms its start
// without a sentinel, which it would never see there, and still gets every packet.
TEST(LiveCapture, OffLoTheStartNeedsNoSentinel) {
  REQUIRE_CAPTURE_RIGHTS();
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  LiveCapture capture({.interface = "any",
                       .tcp_ports = {acceptor.local_endpoint().port()},
                       .host = "127.0.0.1",
                       .output_path = temp_pcap("any-ring.pcap"),
                       .sentinel_timeout_ms = 200});
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  // Both directions of one handshake; "any" may see a loopback packet once per direction.
  EXPECT_GE(capture.checkpoint(), 3u);
  client.close();
  server.close();
  EXPECT_GE(capture.stop().packets_written, 5u);
}

TEST(LiveCapture, PortFilterAddsTheHostOffLoopback) {
  EXPECT_EQ(port_filter({9000, 9001}), "tcp port 9000 or tcp port 9001");
  EXPECT_EQ(port_filter({80}, "10.0.0.5"), "host 10.0.0.5 and (tcp port 80)");
  EXPECT_EQ(port_filter({}, "10.0.0.5"), "host 10.0.0.5 and (tcp)");
}

TEST(LiveCapture, UnknownInterfaceIsAnEnvironmentError) {
  REQUIRE_CAPTURE_RIGHTS();
  EXPECT_THROW(
      LiveCapture(
          {.interface = "no-such-if0", .tcp_ports = {1}, .output_path = temp_pcap("x.pcap")}),
      CaptureEnvironmentError);
}

}  // namespace
}  // namespace closewire
