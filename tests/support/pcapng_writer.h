// Raw pcapng blocks in a chosen byte order, for captures whose sections, interfaces (if_tsresol,
// if_tsoffset) and 64-bit timestamps a test picks, down to blocks libpcap rejects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace closewire::test {

struct PcapngInterface {
  int link_type = 1;                     // LINKTYPE_ETHERNET
  std::optional<std::uint8_t> tsresol;   // if_tsresol; absent: microseconds
  std::optional<std::int64_t> tsoffset;  // if_tsoffset, seconds
};

class PcapngWriter {
 public:
  explicit PcapngWriter(bool big_endian = false) : big_endian_(big_endian) {}

  void section();                                // SHB, version 1.0
  void interface(const PcapngInterface& iface);  // IDB
  // EPB: `ticks` in the interface's units; the wire length is the frame's unless given (a cut).
  void packet(std::uint32_t interface, std::uint64_t ticks, std::string_view frame,
              std::optional<std::uint32_t> wire_length = std::nullopt);
  void obsolete_packet(std::uint16_t interface, std::uint64_t ticks, std::string_view frame);  // PB
  void simple_packet(std::string_view frame);  // SPB: no timestamp
  // Any block: its type and the body between length and trailing length (padded to 4 here).
  void block(std::uint32_t type, std::string_view body);

  const std::string& bytes() const { return out_; }
  void write(const std::string& path) const;

  // Numbers in the writer's byte order, to build a body for block().
  std::string u16(std::uint16_t v) const;
  std::string u32(std::uint32_t v) const;
  std::string u64(std::uint64_t v) const;

 private:
  bool big_endian_;
  std::string out_;
};

}  // namespace closewire::test
