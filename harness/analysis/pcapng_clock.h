// Exact packet times of a pcapng file, from its own blocks. libpcap scales each interface's ticks
// to ns itself: its seconds wrap past 2^63 and its fraction overflows for 2^-n resolutions finer
// than 2^-34, silently. This reads the raw 64-bit timestamps as the bytes pass by instead.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "harness/spec/duration.h"  // Nanos

namespace closewire {

// `ticks` units of 10^-n s (2^-n s when the top bit of `tsresol` is set: pcapng's if_tsresol)
// after 1970 plus `offset_seconds` (if_tsoffset), in whole ns (finer units are truncated toward
// the past); nullopt when that does not fit in 64-bit ns (1677 to 2262).
std::optional<Nanos> pcapng_time(std::uint64_t ticks, std::uint8_t tsresol,
                                 std::int64_t offset_seconds);

// The first four bytes of a pcapng file (its Section Header Block's type, the same either order).
inline constexpr std::array<std::uint8_t, 4> kPcapngMagic = {0x0A, 0x0D, 0x0D, 0x0A};

// Walks the blocks of a capture as its bytes are read, in any pieces, and keeps for every packet
// block (EPB, PB, SPB), in file order, its raw timestamp and its interface's resolution and
// offset. Memory: one interface entry per IDB of the current section, a stamp per block fed but
// not yet taken, and the body of one IDB. A stream that is not pcapng is only looked at for its
// first four bytes.
class PcapngClock {
 public:
  struct Stamp {
    std::uint64_t ticks = 0;
    std::uint8_t tsresol = 6;  // pcapng's default: microseconds
    std::int64_t offset = 0;   // if_tsoffset, seconds
    // False for a block naming an interface its section has not described, or too short to hold
    // a timestamp: libpcap rejects those, so they are never taken for a packet.
    bool known = true;

    std::optional<Nanos> time() const { return pcapng_time(ticks, tsresol, offset); }
    // "10000000000 s after 1970": the whole seconds, for messages (any size, exactly).
    std::string seconds_text() const;
  };

  void feed(std::span<const std::uint8_t> bytes);

  // Whether the stream starts like pcapng (false until four bytes are in).
  bool pcapng() const { return magic_have_ == 4 && magic_ == kPcapngMagic; }
  // The stream's first four bytes (a pcap file's magic says µs or ns).
  const std::array<std::uint8_t, 4>& magic() const { return magic_; }
  // if_tsresol of the first interface described, once its IDB has passed by.
  std::optional<std::uint8_t> first_tsresol() const { return first_tsresol_; }

  // The next packet block's stamp, in file order; nullopt when no untaken one has passed by.
  std::optional<Stamp> next();

  // TLS key log text from Decryption Secrets Blocks (secrets type TLSK, as `editcap
  // --inject-secrets tls,FILE` writes) that passed by since the last take, in file order.
  bool has_tls_secrets() const { return !tls_secrets_.empty(); }
  std::vector<std::string> take_tls_secrets() { return std::exchange(tls_secrets_, {}); }

 private:
  struct Interface {
    std::uint8_t tsresol = 6;
    std::int64_t offset = 0;
    bool valid = true;  // false: options libpcap rejects
  };
  // Up to the EPB's fixed fields: type, length, interface, timestamp high and low, two lengths.
  static constexpr std::size_t kMaxHead = 28;

  void on_head();  // head_ holds head_need_ bytes of the current block
  void begin_skip(std::uint64_t block_length, std::size_t consumed);
  void add_interface();
  void add_secrets();  // body_ holds a DSB's body
  void push_packet(std::uint32_t interface, std::uint64_t ticks, bool fits);
  std::uint16_t u16(const std::uint8_t* p) const;
  std::uint32_t u32(const std::uint8_t* p) const;
  std::uint64_t u64(const std::uint8_t* p) const;

  std::array<std::uint8_t, 4> magic_{};
  std::size_t magic_have_ = 0;
  bool stopped_ = false;     // not pcapng, or a block structure libpcap rejects
  bool big_endian_ = false;  // of the current section
  bool seen_section_ = false;

  std::array<std::uint8_t, kMaxHead> head_{};
  std::size_t head_have_ = 0;
  std::size_t head_need_ = 8;
  std::uint64_t skip_ = 0;     // bytes of the current block still to pass over
  std::uint64_t collect_ = 0;  // of which the first this many are an IDB's or DSB's body, kept
  bool collecting_secrets_ = false;  // the body kept is a DSB's
  std::string idb_body_;
  std::vector<std::string> tls_secrets_;

  std::vector<Interface> interfaces_;  // of the current section
  std::optional<std::uint8_t> first_tsresol_;
  std::deque<Stamp> stamps_;
};

}  // namespace closewire
