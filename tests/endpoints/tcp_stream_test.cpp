// Close modes on real loopback sockets: what the other side of the connection sees.
#include "harness/endpoints/tcp_stream.h"

#include <cerrno>

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>

#include "harness/endpoints/listener.h"
#include "tests/endpoints/loop.h"
#include "tests/support/timing.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::ms_between;
using testing::run_until;

class TcpStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto acceptor = listen_on(io, "127.0.0.1", 0);
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    a = make(std::move(server), log_a, data_a, "a");
    b = make(std::move(client), log_b, data_b, "b");
  }

  std::shared_ptr<TcpStream> make(tcp::socket s, ObservationLog& log, std::string& data,
                                  std::string side) {
    auto stream = TcpStream::create(
        std::move(s), [&log](Observation o) { log.add(std::move(o)); }, std::move(side));
    TcpStream::Callbacks cb;
    cb.on_data = [&data](std::span<const std::uint8_t> bytes) {
      data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    stream->set_callbacks(std::move(cb));
    return stream;
  }

  ::testing::AssertionResult wait_for(ObservationLog& log, K kind,
                                      std::chrono::milliseconds limit = 2000ms) {
    return run_until(
        io, [&] { return log.first(kind) != nullptr; }, limit, std::string(to_string(kind)));
  }

  std::string dump() { return "a:\n" + log_a.dump(origin) + "b:\n" + log_b.dump(origin); }

  asio::io_context io;
  Clock::time_point origin = Clock::now();
  ObservationLog log_a, log_b;
  std::string data_a, data_b;
  std::shared_ptr<TcpStream> a, b;
};

TEST_F(TcpStreamTest, FinArrivesBehindTheQueuedData) {
  b->start_reading();
  a->write("hello");
  a->close(CloseMode::fin);
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_EQ(data_b, "hello");
  EXPECT_EQ(log_b.count(K::read_error), 0u);
  ASSERT_NE(log_a.first(K::closed), nullptr);
  EXPECT_EQ(log_a.first(K::closed)->note, "fin");
}

TEST_F(TcpStreamTest, FinReadsWhatArrivedSoItStaysAFin) {
  b->write("unread");
  ASSERT_TRUE(run_until(
      io, [&] { return a->unread_bytes() > 0; }, 1000ms, "bytes at a"));
  a->close(CloseMode::fin);
  b->start_reading();
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_EQ(log_b.count(K::read_error), 0u);
}

TEST_F(TcpStreamTest, RstGivesThePeerEconnreset) {
  a->close(CloseMode::rst);
  b->start_reading();
  ASSERT_TRUE(wait_for(log_b, K::read_error)) << dump();
  EXPECT_EQ(log_b.first(K::read_error)->error, ECONNRESET);
}

TEST_F(TcpStreamTest, CloseUnreadWithBytesWaitingResetsThePeer) {
  b->write("unread bytes");
  ASSERT_TRUE(run_until(
      io, [&] { return a->unread_bytes() > 0; }, 1000ms, "bytes at a"));
  a->close(CloseMode::close_unread);
  b->start_reading();
  ASSERT_TRUE(wait_for(log_b, K::read_error)) << dump();
  EXPECT_EQ(log_b.first(K::read_error)->error, ECONNRESET);
  EXPECT_TRUE(data_a.empty());  // a never read them
  EXPECT_NE(log_a.first(K::closed)->note.find("12 bytes unread"), std::string::npos) << dump();
}

TEST_F(TcpStreamTest, CloseUnreadWaitsForBytesToLeaveUnread) {
  a->start_reading();
  a->close(CloseMode::close_unread, 1000ms);
  b->start_reading();
  ASSERT_TRUE(run_until(
      io, [&] { return log_a.first(K::close_started) != nullptr; }, 500ms));
  b->write("late");  // arrives after a stopped reading
  ASSERT_TRUE(wait_for(log_b, K::read_error)) << dump();
  EXPECT_EQ(log_b.first(K::read_error)->error, ECONNRESET);
  EXPECT_TRUE(data_a.empty());
  EXPECT_LT(ms_between(log_a.first(K::close_started)->at, log_a.first(K::closed)->at),
            closewire::testing::late(500));
}

TEST_F(TcpStreamTest, HalfCloseKeepsReadingUntilThePeersFin) {
  a->start_reading();
  b->start_reading();
  a->close(CloseMode::half_close);
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_TRUE(a->is_open());
  b->write("after your fin");
  ASSERT_TRUE(run_until(
      io, [&] { return data_a == "after your fin"; }, 1000ms, "data at a"));
  b->close(CloseMode::fin);
  ASSERT_TRUE(wait_for(log_a, K::closed)) << dump();
  EXPECT_NE(log_a.first(K::eof), nullptr);
  EXPECT_EQ(log_b.count(K::read_error), 0u);
}

TEST_F(TcpStreamTest, DelayedCloseWaitsForItsTimer) {
  b->start_reading();
  a->close(CloseMode::delayed, 200ms);
  ASSERT_TRUE(wait_for(log_b, K::eof, 1000ms)) << dump();
  double waited = ms_between(log_a.first(K::close_started)->at, log_a.first(K::closed)->at);
  EXPECT_GE(waited, 195.0);
  EXPECT_LE(waited, 200.0 + closewire::testing::late(100));
  EXPECT_EQ(log_a.first(K::delay_ended)->note, "timer");
}

TEST_F(TcpStreamTest, DelayedCloseEndsAtOnceOnThePeersFin) {
  a->close(CloseMode::delayed, 1000ms);
  b->close(CloseMode::fin);
  ASSERT_TRUE(wait_for(log_a, K::closed, 1500ms)) << dump();
  EXPECT_EQ(log_a.first(K::delay_ended)->note, "peer fin");
  EXPECT_LT(ms_between(log_b.first(K::closed)->at, log_a.first(K::closed)->at),
            closewire::testing::late(50))
      << dump();
}

TEST_F(TcpStreamTest, DelayedCloseLeavesLateBytesUnreadSoItResets) {
  a->start_reading();
  b->start_reading();
  a->close(CloseMode::delayed, 200ms);
  b->write("ping during the delay");
  ASSERT_TRUE(wait_for(log_b, K::read_error, 1000ms)) << dump();
  EXPECT_EQ(log_b.first(K::read_error)->error, ECONNRESET);
  EXPECT_TRUE(data_a.empty());  // Envoy stopped reading: the bytes stayed in the kernel
  EXPECT_EQ(log_a.first(K::delay_ended)->note, "timer");
}

TEST_F(TcpStreamTest, DelayedZeroClosesRightAfterTheFlush) {
  b->start_reading();
  a->write(std::string(1 << 20, 'x'));
  a->close(CloseMode::delayed, 0ms);
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_EQ(data_b.size(), std::size_t{1} << 20);
  EXPECT_EQ(log_a.count(K::delay_ended), 0u);
}

TEST_F(TcpStreamTest, DelayedTimerIsReArmedByWriteProgress) {
  error_code ec;
  a->socket().set_option(asio::socket_base::send_buffer_size(16384), ec);
  const std::size_t total = 1 << 20;
  a->write(std::string(total, 'y'));
  a->close(CloseMode::delayed, 150ms);
  // b starts reading only after 100 ms: the flush stalls, then progresses again before the timer.
  asio::steady_timer later(io, 100ms);
  later.async_wait([&](const error_code&) { b->start_reading(); });
  ASSERT_TRUE(wait_for(log_b, K::eof, 5000ms)) << dump();
  EXPECT_EQ(data_b.size(), total) << "the delay cut the flush short\n" << dump();
  EXPECT_EQ(log_a.first(K::delay_ended)->note, "timer");
  EXPECT_GE(ms_between(log_a.first(K::close_started)->at, log_a.first(K::closed)->at), 250.0);
}

}  // namespace
}  // namespace closewire::endpoints
