// Test helpers for TLS endpoints: a throw-away identity and a key log in a temporary file.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "harness/endpoints/key_log.h"
#include "harness/endpoints/tls_context.h"
#include "harness/endpoints/tls_identity.h"

namespace closewire::endpoints::testing {

class TlsFixture {
 public:
  TlsFixture()
      : identity(TlsIdentity::make()),
        key_path((std::filesystem::temp_directory_path() /
                  ("closewire-test-" + std::to_string(::getpid()) + "-" +
                   std::to_string(counter()++) + ".keys"))
                     .string()),
        key_log(std::make_shared<KeyLogFile>(key_path)) {}
  ~TlsFixture() { std::filesystem::remove(key_path); }

  std::shared_ptr<TlsContext> server(TlsVersion v = TlsVersion::tls1_3) const {
    return TlsContext::server(identity, v, key_log);
  }
  std::shared_ptr<TlsContext> client() const { return TlsContext::client(identity, key_log); }
  std::string keys() const {
    std::ifstream in(key_path);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::shared_ptr<const TlsIdentity> identity;
  std::string key_path;
  std::shared_ptr<KeyLogFile> key_log;

 private:
  static std::atomic<int>& counter() {
    static std::atomic<int> n{0};
    return n;
  }
};

}  // namespace closewire::endpoints::testing
