// Two TLS sessions over memory: handshake at both versions, data, close_notify, key log lines.
#include "harness/endpoints/tls_session.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace closewire::endpoints {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path = (std::filesystem::temp_directory_path() /
            ("closewire-tls-session-" + std::to_string(::getpid()) + ".keys"))
               .string();
    keys = std::make_shared<KeyLogFile>(path);
  }
  void TearDown() override { std::filesystem::remove(path); }

  // Shuttles output between the two until neither has anything to say.
  void pump(TlsSession& a, TlsSession& b, std::string& plain_a, std::string& plain_b) {
    for (int round = 0; round < 10; ++round) {
      std::string ab = a.take_output();
      std::string ba = b.take_output();
      if (ab.empty() && ba.empty()) return;
      b.receive(bytes_of(ab));
      a.receive(bytes_of(ba));
      a.read(plain_a, 1 << 20);
      b.read(plain_b, 1 << 20);
    }
  }

  std::string read_keys() {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::shared_ptr<const TlsIdentity> id = TlsIdentity::make();
  std::string path;
  std::shared_ptr<KeyLogFile> keys;
};

TEST_F(TlsSessionTest, Tls13HandshakeDataAndCloseNotify) {
  TlsSession server(TlsContext::server(id, TlsVersion::tls1_3, keys));
  TlsSession client(TlsContext::client(id, keys));
  client.start();
  std::string at_client, at_server;
  pump(client, server, at_client, at_server);
  ASSERT_TRUE(client.handshake_done()) << client.error();
  ASSERT_TRUE(server.handshake_done()) << server.error();
  EXPECT_TRUE(client.description().starts_with("TLSv1.3 ")) << client.description();
  ASSERT_TRUE(client.encrypt("hello"));
  pump(client, server, at_client, at_server);
  EXPECT_EQ(at_server, "hello");
  ASSERT_TRUE(server.send_close_notify());
  EXPECT_FALSE(server.send_close_notify());
  client.receive(bytes_of(server.take_output()));
  EXPECT_EQ(client.read(at_client, 1024), TlsSession::Read::close_notify);
  EXPECT_TRUE(client.close_notify_received());
}

TEST_F(TlsSessionTest, Tls12WhenTheServerSpeaksOnly12) {
  TlsSession server(TlsContext::server(id, TlsVersion::tls1_2, keys));
  TlsSession client(TlsContext::client(id, keys));
  client.start();
  std::string at_client, at_server;
  pump(client, server, at_client, at_server);
  ASSERT_TRUE(client.handshake_done()) << client.error();
  EXPECT_TRUE(client.description().starts_with("TLSv1.2 ")) << client.description();
  const std::string k = read_keys();
  EXPECT_NE(k.find("CLIENT_RANDOM " + client.client_random_hex()), std::string::npos) << k;
}

TEST_F(TlsSessionTest, KeyLogHasEveryTls13SecretOfTheSessionFromBothSides) {
  TlsSession server(TlsContext::server(id, TlsVersion::tls1_3, keys));
  TlsSession client(TlsContext::client(id, keys));
  client.start();
  std::string at_client, at_server;
  pump(client, server, at_client, at_server);
  ASSERT_TRUE(server.handshake_done());
  const std::string random = client.client_random_hex();
  ASSERT_EQ(random, server.client_random_hex());
  ASSERT_EQ(random.size(), 64u);
  const std::string k = read_keys();
  for (const char* label :
       {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}) {
    const std::string line = std::string(label) + " " + random + " ";
    // Both ends log each secret: two lines per label.
    const auto first = k.find(line);
    ASSERT_NE(first, std::string::npos) << label << "\n" << k;
    EXPECT_NE(k.find(line, first + 1), std::string::npos) << label;
  }
}

TEST_F(TlsSessionTest, ClientRefusesALeafFromAnotherCa) {
  TlsSession server(TlsContext::server(TlsIdentity::make(), TlsVersion::tls1_3, keys));
  TlsSession client(TlsContext::client(id, keys));
  client.start();
  std::string at_client, at_server;
  pump(client, server, at_client, at_server);
  EXPECT_FALSE(client.handshake_done());
  EXPECT_NE(client.error().find("certificate verify failed"), std::string::npos) << client.error();
}

TEST_F(TlsSessionTest, ClientWithoutTrustAcceptsAnyLeaf) {
  TlsSession server(TlsContext::server(TlsIdentity::make(), TlsVersion::tls1_3, keys));
  TlsSession client(TlsContext::client(nullptr, keys, "example.com"));
  client.start();
  std::string at_client, at_server;
  pump(client, server, at_client, at_server);
  EXPECT_TRUE(client.handshake_done()) << client.error();
}

}  // namespace
}  // namespace closewire::endpoints
