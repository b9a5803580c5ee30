#include "harness/wire/tls_key_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace closewire::wire {
namespace {

const std::string kRandom(64, 'a');  // 32 bytes 0xaa
const std::string kSecret32(64, '1');

TEST(TlsKeyLog, Tls13LabelsAreKeptByClientRandom) {
  TlsKeyLog log;
  std::vector<std::string> warnings;
  log.add_text(
      "# SSL/TLS secrets log file\n\n"
      "CLIENT_HANDSHAKE_TRAFFIC_SECRET " +
          kRandom + " " + kSecret32 +
          "\n"
          "SERVER_HANDSHAKE_TRAFFIC_SECRET " +
          kRandom + " " + kSecret32 +
          "\r\n"
          "CLIENT_TRAFFIC_SECRET_0 " +
          kRandom + " " + kSecret32 +
          "\n"
          "SERVER_TRAFFIC_SECRET_0 " +
          kRandom + " " + std::string(96, 'F') +
          "\n"
          "EXPORTER_SECRET " +
          kRandom + " " + kSecret32 + "\n",
      warnings);
  EXPECT_TRUE(warnings.empty());
  const std::array<std::uint8_t, 32> random = [] {
    std::array<std::uint8_t, 32> r;
    r.fill(0xaa);
    return r;
  }();
  const TlsSecrets* s = log.find(random);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->client_handshake.size(), 32u);
  EXPECT_EQ(s->server_traffic, Bytes(48, 0xff));
  EXPECT_TRUE(s->master_secret.empty());
  std::array<std::uint8_t, 32> other{};
  EXPECT_EQ(log.find(other), nullptr);
}

TEST(TlsKeyLog, Tls12MasterSecret) {
  TlsKeyLog log;
  EXPECT_FALSE(log.add_line("CLIENT_RANDOM " + kRandom + " " + std::string(96, '0')));
  EXPECT_EQ(log.sessions(), 1u);
  // A master secret is 48 bytes.
  EXPECT_TRUE(log.add_line("CLIENT_RANDOM " + kRandom + " " + kSecret32));
}

TEST(TlsKeyLog, GarbageLinesAreWarningsWithTheirLineNumber) {
  TlsKeyLog log;
  std::vector<std::string> warnings;
  log.add_text(
      "garbage\n"
      "CLIENT_RANDOM zz" +
          kRandom.substr(2) + " " + std::string(96, '0') +
          "\n"
          "CLIENT_TRAFFIC_SECRET_0 abcd " +
          kSecret32 +
          "\n"
          "CLIENT_TRAFFIC_SECRET_0 " +
          kRandom +
          " 123\n"
          "NOT_A_LABEL " +
          kRandom + " " + kSecret32 +
          "\n"
          "CLIENT_TRAFFIC_SECRET_0 " +
          kRandom + " " + kSecret32 +
          " extra\n"
          "\x01\xff\xfe binary\n"
          "CLIENT_TRAFFIC_SECRET_0 " +
          kRandom + " " + kSecret32 + "\n",
      warnings);
  ASSERT_EQ(warnings.size(), 7u);
  EXPECT_EQ(warnings[0].substr(0, 3), "1: ");
  EXPECT_EQ(warnings[1], "2: client random is not 32 bytes of hex");
  EXPECT_EQ(warnings[2], "3: client random is not 32 bytes of hex");
  EXPECT_EQ(warnings[3], "4: secret is not hex of 1-64 bytes");
  EXPECT_EQ(warnings[4], "5: unknown label 'NOT_A_LABEL'");
  EXPECT_EQ(log.sessions(), 1u);  // the last line
}

}  // namespace
}  // namespace closewire::wire
