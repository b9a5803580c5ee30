// A throw-away certificate authority and a leaf for loopback, made in memory for one run: what the
// TLS endpoints present, what clients trust, and what a browser is told to accept.
#pragma once

#include <memory>
#include <string>

using X509 = struct x509_st;
using EVP_PKEY = struct evp_pkey_st;

namespace closewire::endpoints {

class TlsIdentity {
 public:
  // EC P-256 CA ("closewire throw-away CA") and a leaf for localhost, 127.0.0.1 and ::1 signed by
  // it, valid from an hour ago for two days. Throws std::runtime_error when OpenSSL fails.
  static std::shared_ptr<const TlsIdentity> make();
  ~TlsIdentity();
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;

  X509* ca() const { return ca_; }
  X509* leaf() const { return leaf_; }
  EVP_PKEY* leaf_key() const { return leaf_key_; }

  // base64(SHA-256(the leaf's SubjectPublicKeyInfo, DER)): Chromium's
  // --ignore-certificate-errors-spki-list takes it.
  std::string leaf_spki_sha256() const;
  // PEM, for real proxies' configs (nginx ssl_certificate, HAProxy crt) and for trusting the CA.
  std::string ca_pem() const;
  std::string leaf_pem() const;
  std::string leaf_key_pem() const;  // PKCS#8, unencrypted

 private:
  TlsIdentity() = default;
  X509* ca_ = nullptr;
  EVP_PKEY* ca_key_ = nullptr;
  X509* leaf_ = nullptr;
  EVP_PKEY* leaf_key_ = nullptr;
};

}  // namespace closewire::endpoints
