#include "harness/wire/tls_crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace closewire::wire {
namespace {

Bytes hex(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(
        static_cast<std::uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  return out;
}

// RFC 8448 §3 (Simple 1-RTT Handshake, TLS_AES_128_GCM_SHA256): write key and IV from each
// traffic secret.
struct TrafficKeys {
  std::string_view secret;
  std::string_view key;
  std::string_view iv;
};

TEST(HkdfExpandLabel, Rfc8448TrafficKeys) {
  const TrafficKeys cases[] = {
      {"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",  // server handshake
       "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
      {"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",  // client handshake
       "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},
      {"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",  // server application
       "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
      {"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",  // client application
       "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"},
  };
  for (const TrafficKeys& c : cases) {
    const Bytes secret = hex(c.secret);
    EXPECT_EQ(hkdf_expand_label(TlsHash::sha256, secret, "key", {}, 16), hex(c.key)) << c.secret;
    EXPECT_EQ(hkdf_expand_label(TlsHash::sha256, secret, "iv", {}, 12), hex(c.iv)) << c.secret;
  }
}

// The P_SHA256 and P_SHA384 vectors from the IETF TLS WG list (msg03416), as BearSSL and others
// check them.
TEST(Tls12Prf, PublishedSha256Vector) {
  EXPECT_EQ(tls12_prf(TlsHash::sha256, hex("9bbe436ba940f017b17652849a71db35"), "test label",
                      hex("a0ba9f936cda311827a6f796ffd5198c"), 100),
            hex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                "87347b66"));
}

TEST(Tls12Prf, Sha384StartsLikeThePublishedVector) {
  const Bytes out = tls12_prf(TlsHash::sha384, hex("b80b733d6ceefcdc71566ea48e5567df"),
                              "test label", hex("cd665cf6a8447dd6ff8b27555edb7465"), 148);
  EXPECT_EQ(out.size(), 148u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 16), hex("7b0c18e9ced410ed1804f2cfa34a336a"));
}

TEST(AeadKey, WrongTagIsRefusedNotACrash) {
  const Bytes key(16, 1);
  AeadKey aead(TlsAead::aes128_gcm, key);
  ASSERT_TRUE(aead.valid());
  const Bytes nonce(12, 0);
  Bytes out;
  EXPECT_FALSE(aead.open(nonce, {}, Bytes(40, 7), out));
  EXPECT_FALSE(aead.open(nonce, {}, Bytes(3, 7), out));  // shorter than a tag
}

TEST(CipherSuites, KnownAndUnknown) {
  ASSERT_NE(find_cipher_suite(0x1303), nullptr);
  EXPECT_EQ(find_cipher_suite(0x1303)->name, "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_TRUE(find_cipher_suite(0x1302)->tls13);
  EXPECT_EQ(find_cipher_suite(0xC030)->hash, TlsHash::sha384);
  EXPECT_EQ(find_cipher_suite(0x1304), nullptr);  // CCM: not decrypted
}

}  // namespace
}  // namespace closewire::wire
