#include "harness/wire/frame.h"

#include <array>

namespace closewire::wire {

std::string_view opcode_name(std::uint8_t opcode) {
  // Static storage so reserved opcodes get a name without allocating.
  static constexpr std::array<std::string_view, 16> kNames = {
      "continuation", "text",         "binary",       "reserved-0x3",
      "reserved-0x4", "reserved-0x5", "reserved-0x6", "reserved-0x7",
      "close",        "ping",         "pong",         "reserved-0xb",
      "reserved-0xc", "reserved-0xd", "reserved-0xe", "reserved-0xf",
  };
  if (opcode >= kNames.size()) return "invalid";
  return kNames[opcode];
}

}  // namespace closewire::wire
