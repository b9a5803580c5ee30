// WebSocket frame encoder, for closewire's own endpoints.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/wire/frame.h"

namespace closewire::wire {

// Encodes one frame. With `mask` the payload is masked with that key (client to server).
std::string encode_frame(Opcode opcode, std::string_view payload, bool fin = true,
                         std::optional<std::array<std::uint8_t, 4>> mask = std::nullopt);

// As encode_frame, with the first header byte (FIN, RSV1-3, 4-bit opcode) given verbatim, so
// endpoints and tests can put reserved opcodes or RSV bits on the wire.
std::string encode_frame_raw(std::uint8_t first_byte, std::string_view payload,
                             std::optional<std::array<std::uint8_t, 4>> mask = std::nullopt);

}  // namespace closewire::wire
