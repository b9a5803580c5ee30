#include "harness/analysis/pcapng_clock.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace closewire {
namespace {

// __int128 holds every intermediate exactly: ticks (< 2^64) times 10^9 (< 2^30), plus an offset
// of up to 2^63 s in ns (< 2^93).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 Uint128;

constexpr std::uint32_t kShb = 0x0A0D0D0A;
constexpr std::uint32_t kIdb = 1;
constexpr std::uint32_t kPb = 2;
constexpr std::uint32_t kSpb = 3;
constexpr std::uint32_t kEpb = 6;
constexpr std::uint32_t kDsb = 10;
constexpr std::uint32_t kSecretsTls = 0x544c534b;  // "TLSK"
// A Decryption Secrets Block larger than this is passed over (a key log is lines of ~200 bytes).
constexpr std::uint64_t kMaxSecretsBlock = 64 << 20;
constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptTsresol = 9;
constexpr std::uint16_t kOptTsoffset = 14;
// Header (type, length) and trailer (length) around every block's body.
constexpr std::uint32_t kBlockFraming = 12;

std::uint64_t pow10(unsigned n) {  // n <= 19
  std::uint64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

bool binary(std::uint8_t tsresol) {
  return (tsresol & 0x80) != 0;
}

// libpcap refuses an interface whose unit does not fit in 64 bits.
bool libpcap_accepts(std::uint8_t tsresol) {
  return binary(tsresol) ? (tsresol & 0x7F) <= 63 : tsresol <= 19;
}

// Whole seconds of `ticks`: ticks / unit, rounded down.
std::uint64_t whole_seconds(std::uint64_t ticks, std::uint8_t tsresol) {
  const unsigned n = tsresol & 0x7F;
  if (binary(tsresol)) return n >= 64 ? 0 : ticks >> n;
  return n >= 20 ? 0 : ticks / pow10(n);  // 10^20 > 2^64 > ticks
}

std::string int128_text(Int128 v) {
  const bool negative = v < 0;
  Uint128 u = negative ? -static_cast<Uint128>(v) : static_cast<Uint128>(v);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

}  // namespace

std::optional<Nanos> pcapng_time(std::uint64_t ticks, std::uint8_t tsresol,
                                 std::int64_t offset_seconds) {
  const unsigned n = tsresol & 0x7F;
  Uint128 ns = 0;  // floor(ticks * 10^9 / unit)
  if (binary(tsresol)) {
    ns = (Uint128{ticks} * kNanosPerSecond) >> n;  // n <= 127: a defined shift
  } else if (n <= 9) {
    ns = Uint128{ticks} * pow10(9 - n);
  } else {
    ns = n - 9 >= 20 ? 0 : ticks / pow10(n - 9);
  }
  const Int128 total = static_cast<Int128>(ns) + Int128{offset_seconds} * kNanosPerSecond;
  if (total > std::numeric_limits<Nanos>::max() || total < std::numeric_limits<Nanos>::min()) {
    return std::nullopt;
  }
  return static_cast<Nanos>(total);
}

std::string PcapngClock::Stamp::seconds_text() const {
  return int128_text(Int128{whole_seconds(ticks, tsresol)} + offset) + " s";
}

std::uint16_t PcapngClock::u16(const std::uint8_t* p) const {
  return big_endian_ ? static_cast<std::uint16_t>(p[0] << 8 | p[1])
                     : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
}

std::uint32_t PcapngClock::u32(const std::uint8_t* p) const {
  const std::uint32_t a = u16(p);
  const std::uint32_t b = u16(p + 2);
  return big_endian_ ? a << 16 | b : b << 16 | a;
}

std::uint64_t PcapngClock::u64(const std::uint8_t* p) const {
  const std::uint64_t a = u32(p);
  const std::uint64_t b = u32(p + 4);
  return big_endian_ ? a << 32 | b : b << 32 | a;
}

void PcapngClock::feed(std::span<const std::uint8_t> bytes) {
  for (std::size_t i = 0; magic_have_ < 4 && i < bytes.size(); ++i) {
    magic_[magic_have_++] = bytes[i];
    if (magic_have_ == 4 && !pcapng()) stopped_ = true;
  }
  std::size_t i = 0;
  while (i < bytes.size() && !stopped_) {
    const std::size_t left = bytes.size() - i;
    if (skip_ > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, left));
      if (collect_ > 0) {
        const auto keep = static_cast<std::size_t>(std::min<std::uint64_t>(collect_, n));
        idb_body_.append(reinterpret_cast<const char*>(bytes.data() + i), keep);
        collect_ -= keep;
        if (collect_ == 0) collecting_secrets_ ? add_secrets() : add_interface();
      }
      skip_ -= n;
      i += n;
      continue;
    }
    const std::size_t n = std::min(head_need_ - head_have_, left);
    std::memcpy(head_.data() + head_have_, bytes.data() + i, n);
    head_have_ += n;
    i += n;
    if (head_have_ == head_need_) on_head();
  }
}

void PcapngClock::on_head() {
  const std::uint8_t* h = head_.data();
  const std::uint32_t type = u32(h);  // an SHB's type reads the same in either byte order
  if (type == kShb) {
    if (head_need_ < 12) {  // its byte-order magic decides how to read its length
      head_need_ = 12;
      return;
    }
    bool big = false;
    if (std::memcmp(h + 8, "\x4D\x3C\x2B\x1A", 4) == 0) {
      big = false;
    } else if (std::memcmp(h + 8, "\x1A\x2B\x3C\x4D", 4) == 0) {
      big = true;
    } else {
      stopped_ = true;  // not a section: libpcap stops here
      return;
    }
    if (seen_section_ && big != big_endian_) {
      stopped_ = true;  // libpcap refuses sections of another byte order
      return;
    }
    big_endian_ = big;
    seen_section_ = true;
    interfaces_.clear();
  } else if (!seen_section_) {
    stopped_ = true;
    return;
  }
  const std::uint32_t length = u32(h + 4);
  if (length < kBlockFraming) {
    stopped_ = true;  // nothing to skip by: libpcap stops here too
    return;
  }
  const bool has_timestamp = length >= kBlockFraming + 20;  // the EPB's and PB's fixed fields
  if ((type == kEpb || type == kPb) && has_timestamp && head_need_ < kMaxHead) {
    head_need_ = kMaxHead;
    return;
  }
  const auto ticks = [&] { return std::uint64_t{u32(h + 12)} << 32 | u32(h + 16); };
  switch (type) {
    case kEpb:
      push_packet(has_timestamp ? u32(h + 8) : 0, has_timestamp ? ticks() : 0, has_timestamp);
      break;
    case kPb:
      push_packet(has_timestamp ? u16(h + 8) : 0, has_timestamp ? ticks() : 0, has_timestamp);
      break;
    case kSpb:  // no timestamp: libpcap gives it 0 on the first interface
      push_packet(0, 0, length >= kBlockFraming + 4);
      break;
    case kIdb:
      idb_body_.clear();
      collect_ = length - kBlockFraming;
      collecting_secrets_ = false;
      break;
    case kDsb:
      idb_body_.clear();
      collect_ = length <= kMaxSecretsBlock ? length - kBlockFraming : 0;
      collecting_secrets_ = true;
      break;
    default:
      break;
  }
  begin_skip(length, head_need_);
  if (type == kIdb && collect_ == 0) add_interface();
}

void PcapngClock::begin_skip(std::uint64_t block_length, std::size_t consumed) {
  skip_ = block_length - consumed;  // block_length >= consumed: checked by the caller
  head_have_ = 0;
  head_need_ = 8;
}

void PcapngClock::add_interface() {
  // The IDB's body: link type, reserved, snaplen, then options (code, length, value padded to 4),
  // checked as libpcap checks them.
  Interface iface;
  const auto* p = reinterpret_cast<const std::uint8_t*>(idb_body_.data());
  const std::size_t size = idb_body_.size();
  iface.valid = size >= 8;
  bool saw_tsresol = false;
  bool saw_tsoffset = false;
  for (std::size_t pos = 8; iface.valid && pos < size;) {
    if (size - pos < 4) {
      iface.valid = false;
      break;
    }
    const std::uint16_t code = u16(p + pos);
    const std::uint16_t len = u16(p + pos + 2);
    pos += 4;
    const std::size_t padded = (std::size_t{len} + 3) & ~std::size_t{3};
    if (padded > size - pos) {
      iface.valid = false;
    } else if (code == kOptEnd) {
      iface.valid = len == 0;
      break;
    } else if (code == kOptTsresol) {
      iface.valid = len == 1 && !saw_tsresol && libpcap_accepts(p[pos]);
      iface.tsresol = p[pos];
      saw_tsresol = true;
    } else if (code == kOptTsoffset) {
      iface.valid = len == 8 && !saw_tsoffset;
      if (iface.valid) iface.offset = static_cast<std::int64_t>(u64(p + pos));
      saw_tsoffset = true;
    }
    pos += padded;
  }
  if (!first_tsresol_) first_tsresol_ = iface.tsresol;
  interfaces_.push_back(iface);
  idb_body_.clear();
  idb_body_.shrink_to_fit();  // an IDB may be large; its body is not needed any more
}

void PcapngClock::add_secrets() {
  // The DSB's body: secrets type, secrets length, the secrets (padded to 4), options.
  collecting_secrets_ = false;
  const auto* p = reinterpret_cast<const std::uint8_t*>(idb_body_.data());
  if (idb_body_.size() >= 8 && u32(p) == kSecretsTls) {
    const std::uint32_t n = u32(p + 4);
    if (n <= idb_body_.size() - 8) tls_secrets_.push_back(idb_body_.substr(8, n));
  }
  idb_body_.clear();
  idb_body_.shrink_to_fit();
}

void PcapngClock::push_packet(std::uint32_t interface, std::uint64_t ticks, bool fits) {
  Stamp s;
  s.ticks = ticks;
  s.known = fits && interface < interfaces_.size() && interfaces_[interface].valid;
  if (s.known) {
    s.tsresol = interfaces_[interface].tsresol;
    s.offset = interfaces_[interface].offset;
  }
  stamps_.push_back(s);
}

std::optional<PcapngClock::Stamp> PcapngClock::next() {
  if (stamps_.empty()) return std::nullopt;
  Stamp s = stamps_.front();
  stamps_.pop_front();
  return s;
}

}  // namespace closewire
