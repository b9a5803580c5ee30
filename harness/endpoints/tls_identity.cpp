#include "harness/endpoints/tls_identity.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace closewire::endpoints {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("throw-away TLS identity: ") + what + " failed");
}

void check(int ok, const char* what) {
  if (ok != 1) fail(what);
}

EVP_PKEY* p256_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) fail("EVP_EC_gen(P-256)");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) fail(value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok, "X509_add_ext");
}

// A certificate for `key` named `common_name`, without extensions or signature yet.
X509* new_cert(EVP_PKEY* key, const char* common_name) {
  X509* cert = X509_new();
  if (!cert) fail("X509_new");
  check(X509_set_version(cert, X509_VERSION_3), "X509_set_version");
  BIGNUM* serial = BN_new();
  check(BN_rand(serial, 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), "BN_rand");
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
  BN_free(serial);
  // An hour back: a peer whose clock is a little behind still accepts it.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert), -3600)) fail("notBefore");
  if (!X509_gmtime_adj(X509_getm_notAfter(cert), 2L * 24 * 3600)) fail("notAfter");
  check(X509_set_pubkey(cert, key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("closewire"), -1, -1, 0),
        "subject O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0),
        "subject CN");
  return cert;
}

std::string pem_of(int (*write)(BIO*, void*), void* object) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio || write(bio, object) != 1) {
    BIO_free(bio);
    fail("PEM export");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

}  // namespace

std::shared_ptr<const TlsIdentity> TlsIdentity::make() {
  std::shared_ptr<TlsIdentity> id(new TlsIdentity());
  id->ca_key_ = p256_key();
  id->ca_ = new_cert(id->ca_key_, "closewire throw-away CA");
  check(X509_set_issuer_name(id->ca_, X509_get_subject_name(id->ca_)), "CA issuer");
  add_extension(id->ca_, id->ca_, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(id->ca_, id->ca_, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(id->ca_, id->ca_, NID_subject_key_identifier, "hash");
  if (X509_sign(id->ca_, id->ca_key_, EVP_sha256()) <= 0) fail("signing the CA");

  id->leaf_key_ = p256_key();
  id->leaf_ = new_cert(id->leaf_key_, "localhost");
  check(X509_set_issuer_name(id->leaf_, X509_get_subject_name(id->ca_)), "leaf issuer");
  add_extension(id->leaf_, id->ca_, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(id->leaf_, id->ca_, NID_key_usage, "critical,digitalSignature");
  add_extension(id->leaf_, id->ca_, NID_ext_key_usage, "serverAuth");
  add_extension(id->leaf_, id->ca_, NID_subject_alt_name,
                "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1");
  add_extension(id->leaf_, id->ca_, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(id->leaf_, id->ca_key_, EVP_sha256()) <= 0) fail("signing the leaf");
  return id;
}

TlsIdentity::~TlsIdentity() {
  X509_free(leaf_);
  EVP_PKEY_free(leaf_key_);
  X509_free(ca_);
  EVP_PKEY_free(ca_key_);
}

std::string TlsIdentity::leaf_spki_sha256() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(leaf_key_, &der);
  if (len <= 0) fail("i2d_PUBKEY");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const int ok =
      EVP_Digest(der, static_cast<std::size_t>(len), digest, &digest_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  check(ok, "SHA-256 of the SPKI");
  std::string out(4 * ((digest_len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest,
                                static_cast<int>(digest_len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string TlsIdentity::ca_pem() const {
  return pem_of([](BIO* b, void* x) { return PEM_write_bio_X509(b, static_cast<X509*>(x)); }, ca_);
}

std::string TlsIdentity::leaf_pem() const {
  return pem_of([](BIO* b, void* x) { return PEM_write_bio_X509(b, static_cast<X509*>(x)); },
                leaf_);
}

std::string TlsIdentity::leaf_key_pem() const {
  return pem_of(
      [](BIO* b, void* k) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr,
                                        nullptr);
      },
      leaf_key_);
}

}  // namespace closewire::endpoints
