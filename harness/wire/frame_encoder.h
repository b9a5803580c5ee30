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

}  // namespace closewire::wire
