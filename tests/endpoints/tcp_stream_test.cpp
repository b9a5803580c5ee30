// Close modes on real loopback sockets: what the other side of the connection sees.
#include "harness/endpoints/tcp_stream.h"

#include <cerrno>

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>

#include "harness/endpoints/listener.h"
#include "tests/endpoints/loop.h"
#include "tests/endpoints/tls_fixture.h"
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

// The same streams over TLS: a is the server, b the client.
class TlsStreamTest : public ::testing::Test {
 protected:
  void start(TlsVersion version = TlsVersion::tls1_3) {
    auto acceptor = listen_on(io, "127.0.0.1", 0);
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    a = make(std::move(server), log_a, data_a, "a", tls.server(version));
    b = make(std::move(client), log_b, data_b, "b", tls.client());
    a->start_reading();
    b->start_reading();
    ASSERT_TRUE(run_until(
        io, [&] { return log_a.first(K::tls_handshake) && log_b.first(K::tls_handshake); }, 2000ms,
        "both handshakes"))
        << dump();
  }

  std::shared_ptr<TcpStream> make(tcp::socket s, ObservationLog& log, std::string& data,
                                  std::string side, std::shared_ptr<TlsContext> ctx) {
    auto stream = TcpStream::create(
        std::move(s), [&log](Observation o) { log.add(std::move(o)); }, std::move(side),
        std::move(ctx));
    TcpStream::Callbacks cb;
    cb.on_data = [&data](std::span<const std::uint8_t> bytes) {
      data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    stream->set_callbacks(std::move(cb));
    return stream;
  }

  ::testing::AssertionResult wait_for(ObservationLog& log, K kind) {
    return run_until(
        io, [&] { return log.first(kind) != nullptr; }, 2000ms, std::string(to_string(kind)));
  }
  std::string dump() { return "a:\n" + log_a.dump(origin) + "b:\n" + log_b.dump(origin); }

  testing::TlsFixture tls;
  asio::io_context io;
  Clock::time_point origin = Clock::now();
  ObservationLog log_a, log_b;
  std::string data_a, data_b;
  std::shared_ptr<TcpStream> a, b;
};

TEST_F(TlsStreamTest, PlaintextBothWaysAtTls13) {
  start();
  EXPECT_TRUE(log_b.first(K::tls_handshake)->note.starts_with("TLSv1.3 ")) << dump();
  a->write("from a");
  b->write("from b");
  ASSERT_TRUE(run_until(
      io, [&] { return data_a == "from b" && data_b == "from a"; }, 2000ms, "both messages"))
      << dump();
}

TEST_F(TlsStreamTest, Tls12WhenTheServerSpeaks12) {
  start(TlsVersion::tls1_2);
  EXPECT_TRUE(log_b.first(K::tls_handshake)->note.starts_with("TLSv1.2 ")) << dump();
}

TEST_F(TlsStreamTest, WritesBeforeTheHandshakeGoOutAfterIt) {
  auto acceptor = listen_on(io, "127.0.0.1", 0);
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  b = make(std::move(client), log_b, data_b, "b", tls.client());
  b->write("early");
  a = make(std::move(server), log_a, data_a, "a", tls.server());
  a->start_reading();
  b->start_reading();
  ASSERT_TRUE(run_until(
      io, [&] { return data_a == "early"; }, 2000ms, "the early write"))
      << dump();
}

TEST_F(TlsStreamTest, FinCloseSendsCloseNotifyFirst) {
  start();
  a->write("last");
  a->close(CloseMode::fin);
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_EQ(data_b, "last");
  ASSERT_NE(log_a.first(K::close_notify_sent), nullptr) << dump();
  ASSERT_NE(log_b.first(K::close_notify_received), nullptr) << dump();
  EXPECT_LE(log_b.first(K::close_notify_received)->at, log_b.first(K::eof)->at);
  EXPECT_EQ(log_b.first(K::eof)->note, "after close_notify");
}

TEST_F(TlsStreamTest, FinWithoutCloseNotifyIsABareFin) {
  start();
  a->write("last");
  a->set_close_notify(false);
  a->close(CloseMode::fin);
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_EQ(data_b, "last");
  EXPECT_EQ(log_a.first(K::close_notify_sent), nullptr) << dump();
  EXPECT_EQ(log_b.first(K::close_notify_received), nullptr) << dump();
  EXPECT_EQ(log_b.first(K::eof)->note, "without close_notify");
}

TEST_F(TlsStreamTest, HalfCloseSendsCloseNotifyBeforeItsFin) {
  start();
  a->close(CloseMode::half_close);
  ASSERT_TRUE(wait_for(log_b, K::eof)) << dump();
  EXPECT_EQ(log_b.first(K::eof)->note, "after close_notify");
  EXPECT_EQ(log_a.count(K::close_notify_sent), 1u);
  b->close(CloseMode::fin);  // b's close_notify and FIN end a's half-close
  ASSERT_TRUE(wait_for(log_a, K::closed)) << dump();
  EXPECT_NE(log_a.first(K::close_notify_received), nullptr) << dump();
  EXPECT_EQ(log_a.count(K::close_notify_sent), 1u) << "close_notify goes out once\n" << dump();
}

TEST_F(TlsStreamTest, CloseNotifyThenRst) {
  start();
  a->close(CloseMode::rst);
  ASSERT_TRUE(run_until(
      io, [&] { return log_b.first(K::read_error) || log_b.first(K::eof); }, 2000ms,
      "b's read end"))
      << dump();
  ASSERT_NE(log_a.first(K::close_notify_sent), nullptr) << dump();
  ASSERT_NE(log_b.first(K::read_error), nullptr) << dump();
  EXPECT_EQ(log_b.first(K::read_error)->error, ECONNRESET) << dump();
}

TEST_F(TlsStreamTest, RstWithoutCloseNotify) {
  start();
  a->set_close_notify(false);
  a->close(CloseMode::rst);
  ASSERT_TRUE(wait_for(log_b, K::read_error)) << dump();
  EXPECT_EQ(log_a.first(K::close_notify_sent), nullptr);
  EXPECT_EQ(log_b.first(K::close_notify_received), nullptr);
  EXPECT_EQ(log_b.first(K::read_error)->error, ECONNRESET);
  EXPECT_NE(log_b.first(K::read_error)->note.find("without close_notify"), std::string::npos);
}

TEST_F(TlsStreamTest, StopReadingLeavesTheRecordsInTheKernel) {
  start();
  b->stop_reading();
  a->write("unread");
  ASSERT_TRUE(run_until(
      io, [&] { return b->unread_bytes() > 0; }, 1000ms, "ciphertext at b"))
      << dump();
  EXPECT_GT(b->unread_bytes(), std::string("unread").size()) << "a TLS record, not plaintext";
  EXPECT_TRUE(data_b.empty());
  b->start_reading();
  ASSERT_TRUE(run_until(
      io, [&] { return data_b == "unread"; }, 1000ms, "the record, once b reads"))
      << dump();
}

TEST_F(TlsStreamTest, ClientRefusesAServerOfAnotherCa) {
  auto acceptor = listen_on(io, "127.0.0.1", 0);
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  testing::TlsFixture other;
  a = make(std::move(server), log_a, data_a, "a", other.server());
  b = make(std::move(client), log_b, data_b, "b", tls.client());
  a->start_reading();
  b->start_reading();
  ASSERT_TRUE(wait_for(log_b, K::closed)) << dump();
  ASSERT_NE(log_b.first(K::read_error), nullptr);
  EXPECT_NE(log_b.first(K::read_error)->note.find("certificate verify failed"), std::string::npos)
      << dump();
  EXPECT_EQ(log_b.first(K::tls_handshake), nullptr);
}

}  // namespace
}  // namespace closewire::endpoints
