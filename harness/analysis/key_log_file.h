// Key log files (NSS format, as SSLKEYLOGFILE writes them) read into a TlsKeyLog.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "harness/wire/tls_key_log.h"

namespace closewire {

// A key log that cannot be read: one line naming the file.
class KeyLogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Adds the secrets of the key log at `path` to `log`. Returns one warning per malformed line,
// "FILE:LINE: what" (the line is skipped). Throws KeyLogError when the file cannot be read.
std::vector<std::string> read_key_log(const std::string& path, wire::TlsKeyLog& log);

// Where a capture's key log goes: "NAME.keys" beside "NAME.pcap" / "NAME.pcapng" (any extension),
// the name replay looks for; the capture's own path when it is already named *.keys.
std::string key_log_path_for(const std::string& capture_path);
// key_log_path_for(capture_path) when that file exists (and is not the capture); empty otherwise.
std::string key_log_beside(const std::string& capture_path);

}  // namespace closewire
