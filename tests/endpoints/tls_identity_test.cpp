// The throw-away CA and leaf: the chain verifies, the names are there, the SPKI hash is the leaf's.
#include "harness/endpoints/tls_identity.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

namespace closewire::endpoints {
namespace {

TEST(TlsIdentity, LeafVerifiesAgainstTheCaForLocalhostAndLoopbackAddresses) {
  auto id = TlsIdentity::make();
  X509_STORE* store = X509_STORE_new();
  ASSERT_EQ(X509_STORE_add_cert(store, id->ca()), 1);
  for (const char* name : {"localhost", "127.0.0.1", "::1"}) {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    ASSERT_EQ(X509_STORE_CTX_init(ctx, store, id->leaf(), nullptr), 1);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    if (std::string_view(name) == "localhost")
      X509_VERIFY_PARAM_set1_host(param, name, 0);
    else
      X509_VERIFY_PARAM_set1_ip_asc(param, name);
    EXPECT_EQ(X509_verify_cert(ctx), 1)
        << name << ": " << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
  }
  X509_STORE_free(store);
}

TEST(TlsIdentity, AnotherRunsCaDoesNotVerifyTheLeaf) {
  auto id = TlsIdentity::make();
  auto other = TlsIdentity::make();
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, other->ca());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, id->leaf(), nullptr);
  EXPECT_NE(X509_verify_cert(ctx), 1);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
}

TEST(TlsIdentity, LeafNamesLocalhostAndTheLoopbackAddresses) {
  auto id = TlsIdentity::make();
  EXPECT_EQ(X509_check_host(id->leaf(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(id->leaf(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(id->leaf(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(id->leaf(), "example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ca(id->ca()), 1);
  EXPECT_EQ(X509_check_ca(id->leaf()), 0);
}

TEST(TlsIdentity, SpkiHashIsTheSha256OfTheLeafsPublicKey) {
  auto id = TlsIdentity::make();
  // From the certificate itself, not from the key object the identity kept.
  EVP_PKEY* key = X509_get0_pubkey(id->leaf());
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  ASSERT_GT(len, 0);
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), digest, &n, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  unsigned char b64[64] = {};
  EVP_EncodeBlock(b64, digest, static_cast<int>(n));
  EXPECT_EQ(id->leaf_spki_sha256(), reinterpret_cast<const char*>(b64));
  EXPECT_EQ(id->leaf_spki_sha256().size(), 44u);
  EXPECT_NE(id->leaf_spki_sha256(), TlsIdentity::make()->leaf_spki_sha256());
}

TEST(TlsIdentity, PemExportsReadBack) {
  auto id = TlsIdentity::make();
  EXPECT_TRUE(id->ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(id->leaf_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(id->leaf_key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
  EXPECT_NE(id->ca_pem(), id->leaf_pem());
}

}  // namespace
}  // namespace closewire::endpoints
