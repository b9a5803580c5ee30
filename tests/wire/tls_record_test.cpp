#include "harness/wire/tls_record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace closewire::wire {
namespace {

std::vector<std::uint8_t> record(std::uint8_t type, std::size_t body_size, std::uint8_t fill = 0) {
  std::vector<std::uint8_t> r = {type, 3, 3, static_cast<std::uint8_t>(body_size >> 8),
                                 static_cast<std::uint8_t>(body_size)};
  r.insert(r.end(), body_size, fill);
  return r;
}

struct Seen {
  std::uint8_t type;
  std::size_t size;
  std::uint8_t first;
};

TEST(TlsRecordReader, ManyRecordsInOneFeedAndOneSplitByteByByte) {
  std::vector<std::uint8_t> stream = record(22, 10, 1);
  const auto second = record(23, 300, 2);
  const auto third = record(21, 2, 3);
  stream.insert(stream.end(), second.begin(), second.end());
  stream.insert(stream.end(), third.begin(), third.end());
  for (const bool bytewise : {false, true}) {
    TlsRecordReader reader;
    std::vector<Seen> seen;
    auto on = [&](const TlsRecord& r) {
      seen.push_back({r.type, r.body.size(), r.body.empty() ? std::uint8_t{0} : r.body[0]});
    };
    if (bytewise) {
      for (std::uint8_t b : stream) ASSERT_TRUE(reader.feed(std::span(&b, 1), on));
    } else {
      ASSERT_TRUE(reader.feed(stream, on));
    }
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[1].type, 23);
    EXPECT_EQ(seen[1].size, 300u);
    EXPECT_EQ(seen[1].first, 2);
    EXPECT_EQ(seen[2].type, 21);
    EXPECT_EQ(reader.pending(), 0u);
  }
}

TEST(TlsRecordReader, TruncatedRecordIsPending) {
  TlsRecordReader reader;
  const auto r = record(23, 100);
  int n = 0;
  reader.feed(std::span(r).first(40), [&](const TlsRecord&) { ++n; });
  EXPECT_EQ(n, 0);
  EXPECT_EQ(reader.pending(), 40u);
  EXPECT_EQ(reader.pending_needed(), 105u);
}

TEST(TlsRecordReader, OversizedOrUnknownRecordBreaksTheStream) {
  TlsRecordReader reader;
  const std::vector<std::uint8_t> bad = {23, 3, 3, 0xff, 0xff};
  EXPECT_FALSE(reader.feed(bad, [](const TlsRecord&) {}));
  EXPECT_TRUE(reader.broken());
  TlsRecordReader other;
  const std::vector<std::uint8_t> http = {'G', 'E', 'T', ' ', '/'};
  EXPECT_FALSE(other.feed(http, [](const TlsRecord&) {}));
}

TEST(StartsLikeTls, HandshakeRecordOfTls10To13) {
  EXPECT_TRUE(starts_like_tls(std::vector<std::uint8_t>{0x16, 3, 1}));
  EXPECT_TRUE(starts_like_tls(std::vector<std::uint8_t>{0x16, 3, 4, 0}));
  EXPECT_FALSE(starts_like_tls(std::vector<std::uint8_t>{0x16, 3, 0}));
  EXPECT_FALSE(starts_like_tls(std::vector<std::uint8_t>{'G', 'E', 'T'}));
  EXPECT_FALSE(starts_like_tls(std::vector<std::uint8_t>{0x16, 3}));
}

TEST(HandshakeStream, MessagesAcrossPiecesAndBodiesOnlyWhereKept) {
  // A ClientHello-typed message of 3 bytes and a Certificate (11) of 5, fed byte by byte.
  const std::vector<std::uint8_t> bytes = {1, 0, 0, 3, 7, 8, 9, 11, 0, 0, 5, 1, 2, 3, 4, 5};
  HandshakeStream stream;
  std::vector<std::pair<std::uint8_t, std::size_t>> seen;
  for (std::uint8_t b : bytes) {
    stream.feed(std::span(&b, 1), [&](const HandshakeStream::Message& m) {
      seen.emplace_back(m.type, m.body.size());
    });
  }
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(std::uint8_t{1}, std::size_t{3}));
  EXPECT_EQ(seen[1], std::make_pair(std::uint8_t{11}, std::size_t{0}));
}

TEST(Hellos, TruncatedHellosAreRefused) {
  EXPECT_FALSE(parse_client_hello(std::vector<std::uint8_t>(10, 3)));
  EXPECT_FALSE(parse_server_hello(std::vector<std::uint8_t>(20, 3)));
}

TEST(Names, VersionsAndAlerts) {
  EXPECT_EQ(tls_version_name(0x0304), "TLS 1.3");
  EXPECT_EQ(tls_version_name(0x7f1c), "0x7f1c");
  EXPECT_EQ(tls_alert_name(0), "close_notify");
  EXPECT_EQ(tls_alert_name(40), "handshake_failure");
  EXPECT_EQ(tls_alert_name(201), "201");
}

}  // namespace
}  // namespace closewire::wire
