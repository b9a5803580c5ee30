// HTTP/2 bytes for tests: the frame and HPACK writers of harness/wire/h2_frame_writer.h, and the
// two sides of an RFC 8441 WebSocket stream.
#pragma once

#include <string>

#include "harness/wire/h2_frame_writer.h"

namespace closewire::test {

using wire::h2_frame;
using wire::h2_u32;
using wire::HpackEncoder;
using H2Headers = wire::H2Headers;

// A browser's extended CONNECT for a WebSocket at `path`.
H2Headers websocket_connect(const std::string& path = "/chat");
// SETTINGS with ENABLE_CONNECT_PROTOCOL = 1 (a server that allows RFC 8441).
std::string h2_settings_enable_connect();

}  // namespace closewire::test
