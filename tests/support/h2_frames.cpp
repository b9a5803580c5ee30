#include "tests/support/h2_frames.h"

namespace closewire::test {

H2Headers websocket_connect(const std::string& path) {
  return {{":method", "CONNECT"}, {":protocol", "websocket"},  {":scheme", "https"},
          {":path", path},        {":authority", "localhost"}, {"sec-websocket-version", "13"}};
}

std::string h2_settings_enable_connect() {
  return h2_frame(0x4, 0, 0, std::string("\x00\x08", 2) + h2_u32(1));
}

}  // namespace closewire::test
