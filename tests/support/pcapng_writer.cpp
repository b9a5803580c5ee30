#include "tests/support/pcapng_writer.h"

#include <fstream>
#include <stdexcept>

namespace closewire::test {

std::string PcapngWriter::u16(std::uint16_t v) const {
  const char lo = static_cast<char>(v);
  const char hi = static_cast<char>(v >> 8);
  return big_endian_ ? std::string{hi, lo} : std::string{lo, hi};
}

std::string PcapngWriter::u32(std::uint32_t v) const {
  const std::string lo = u16(static_cast<std::uint16_t>(v));
  const std::string hi = u16(static_cast<std::uint16_t>(v >> 16));
  return big_endian_ ? hi + lo : lo + hi;
}

std::string PcapngWriter::u64(std::uint64_t v) const {
  const std::string lo = u32(static_cast<std::uint32_t>(v));
  const std::string hi = u32(static_cast<std::uint32_t>(v >> 32));
  return big_endian_ ? hi + lo : lo + hi;
}

void PcapngWriter::block(std::uint32_t type, std::string_view body) {
  std::string padded(body);
  padded.append((4 - padded.size() % 4) % 4, '\0');
  const auto length = static_cast<std::uint32_t>(padded.size() + 12);
  out_ += u32(type) + u32(length) + padded + u32(length);
}

void PcapngWriter::section() {
  // Byte-order magic, version 1.0, section length unknown (-1).
  block(0x0A0D0D0A, u32(0x1A2B3C4D) + u16(1) + u16(0) + u64(~std::uint64_t{0}));
}

void PcapngWriter::interface(const PcapngInterface& iface) {
  std::string body = u16(static_cast<std::uint16_t>(iface.link_type)) + u16(0) + u32(262144);
  if (iface.tsresol)
    body += u16(9) + u16(1) + std::string{static_cast<char>(*iface.tsresol)} + std::string(3, '\0');
  if (iface.tsoffset) body += u16(14) + u16(8) + u64(static_cast<std::uint64_t>(*iface.tsoffset));
  body += u16(0) + u16(0);  // opt_endofopt
  block(1, body);
}

void PcapngWriter::packet(std::uint32_t interface, std::uint64_t ticks, std::string_view frame,
                          std::optional<std::uint32_t> wire_length) {
  const auto size = static_cast<std::uint32_t>(frame.size());
  block(6, u32(interface) + u32(static_cast<std::uint32_t>(ticks >> 32)) +
               u32(static_cast<std::uint32_t>(ticks)) + u32(size) +
               u32(wire_length.value_or(size)) + std::string(frame));
}

void PcapngWriter::obsolete_packet(std::uint16_t interface, std::uint64_t ticks,
                                   std::string_view frame) {
  const auto size = static_cast<std::uint32_t>(frame.size());
  block(2, u16(interface) + u16(0) + u32(static_cast<std::uint32_t>(ticks >> 32)) +
               u32(static_cast<std::uint32_t>(ticks)) + u32(size) + u32(size) + std::string(frame));
}

void PcapngWriter::simple_packet(std::string_view frame) {
  block(3, u32(static_cast<std::uint32_t>(frame.size())) + std::string(frame));
}

void PcapngWriter::write(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  out.write(out_.data(), static_cast<std::streamsize>(out_.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace closewire::test
