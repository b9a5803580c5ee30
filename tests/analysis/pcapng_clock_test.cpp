#include "harness/analysis/pcapng_clock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/support/pcapng_writer.h"

namespace closewire {
namespace {

using test::PcapngInterface;
using test::PcapngWriter;

constexpr Nanos kMax = std::numeric_limits<Nanos>::max();
constexpr Nanos kMin = std::numeric_limits<Nanos>::min();
constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};

struct TimeCase {
  std::uint8_t tsresol;
  std::uint64_t ticks;
  Nanos expected;  // floor(ticks * 10^9 / unit), worked out with exact fractions
};

// About 1790000000.123456789123 s, in each unit (the largest tick count where it does not fit).
const TimeCase kEveryKindOfUnit[] = {
    {0x00, 1790000000u, 1790000000000000000},
    {0x01, 17900000001u, 1790000000100000000},
    {0x03, 1790000000123u, 1790000000123000000},
    {0x06, 1790000000123456u, 1790000000123456000},
    {0x09, 1790000000123456789u, 1790000000123456789},
    {0x0a, 17900000001234567891u, 1790000000123456789},
    {0x0c, kAllOnes, 18446744073709551},
    {0x13, kAllOnes, 1844674407},
    {0x80, 1790000000u, 1790000000000000000},
    {0x81, 3580000001u, 1790000000500000000},
    {0x8a, 1832960000126u, 1790000000123046875},
    {0x9e, 1921997865092560717u, 1790000000123456788},
    {0xa0, 7687991460370242871u, 1790000000123456788},
    // libpcap 1.10 gets these two wrong: ticks * 10^9 overflows its 64-bit fraction.
    {0xa3, kAllOnes, 536870911999999999},
    {0xbf, kAllOnes, 1999999999},
};

TEST(PcapngTime, ExactForPowersOfTenAndOfTwo) {
  for (const TimeCase& c : kEveryKindOfUnit) {
    EXPECT_EQ(pcapng_time(c.ticks, c.tsresol, 0), c.expected)
        << "if_tsresol 0x" << std::hex << int{c.tsresol};
  }
}

TEST(PcapngTime, UnitsFinerThan64BitsOfTicksReachAreStillExact) {
  EXPECT_EQ(pcapng_time(kAllOnes, 20, 0), 184467440);  // 10^-20 s
  EXPECT_EQ(pcapng_time(kAllOnes, 28, 0), 1);
  EXPECT_EQ(pcapng_time(kAllOnes, 29, 0), 0);
  EXPECT_EQ(pcapng_time(kAllOnes, 127, 0), 0);
  EXPECT_EQ(pcapng_time(kAllOnes, 0xC0, 0), 999999999);  // 2^-64 s
  EXPECT_EQ(pcapng_time(kAllOnes, 0xFF, 0), 0);
}

TEST(PcapngTime, NothingBeyondSixtyFourBitNanoseconds) {
  // 10^10 s at 1 s: libpcap's seconds * 10^9 overflowed into a time in 1653.
  EXPECT_EQ(pcapng_time(10'000'000'000u, 0, 0), std::nullopt);
  EXPECT_EQ(pcapng_time(9'223'372'036u, 0, 0), 9'223'372'036'000'000'000);
  EXPECT_EQ(pcapng_time(9'223'372'037u, 0, 0), std::nullopt);
  EXPECT_EQ(pcapng_time(static_cast<std::uint64_t>(kMax), 9, 0), kMax);
  EXPECT_EQ(pcapng_time(static_cast<std::uint64_t>(kMax) + 1, 9, 0), std::nullopt);
  EXPECT_EQ(pcapng_time(kAllOnes, 9, 0), std::nullopt);  // libpcap: 1 ns before 1970
  EXPECT_EQ(pcapng_time(kAllOnes, 0x80, 0), std::nullopt);
}

TEST(PcapngTime, OffsetsAreWholeSecondsEitherWay) {
  EXPECT_EQ(pcapng_time(5, 9, 1'790'000'000), 1'790'000'000'000'000'005);
  EXPECT_EQ(pcapng_time(0, 6, -100), -100 * kNanosPerSecond);
  // Ticks alone past 2^63 ns, brought back in range by the offset.
  EXPECT_EQ(pcapng_time(static_cast<std::uint64_t>(kMax) + 1, 9, -1), kMax - kNanosPerSecond + 1);
  EXPECT_EQ(pcapng_time(0, 9, -9'223'372'036), -9'223'372'036'000'000'000);
  EXPECT_EQ(pcapng_time(0, 9, -9'223'372'037), std::nullopt);
  EXPECT_EQ(pcapng_time(0, 9, std::numeric_limits<std::int64_t>::min()), std::nullopt);
  EXPECT_EQ(pcapng_time(kAllOnes, 0, std::numeric_limits<std::int64_t>::max()), std::nullopt);
  EXPECT_NE(pcapng_time(0, 9, -9'223'372'036), kMin);
}

TEST(PcapngClockStamp, SecondsTextIsExactAtAnySize) {
  PcapngClock::Stamp s;
  s.ticks = 10'000'000'000u;
  s.tsresol = 0;
  EXPECT_EQ(s.seconds_text(), "10000000000 s");
  s.ticks = kAllOnes;
  s.offset = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(s.seconds_text(), "27670116110564327422 s");
  s.ticks = 0;
  s.offset = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(s.seconds_text(), "-9223372036854775808 s");
}

std::vector<PcapngClock::Stamp> all_stamps(PcapngClock& clock) {
  std::vector<PcapngClock::Stamp> out;
  while (auto s = clock.next()) out.push_back(*s);
  return out;
}

std::span<const std::uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Two sections; interfaces of several units; EPB, PB, SPB and a block the clock skips.
std::string mixed_file(bool big_endian) {
  PcapngWriter w(big_endian);
  w.section();
  w.interface({});                                  // 0: microseconds (no if_tsresol)
  w.interface({1, std::uint8_t{0xa3}, -5});         // 1: 2^-35 s, 5 s back
  w.packet(0, 1'790'000'000'123'456u, "frame");     // 1790000000.123456 s
  w.block(0x0BAD, std::string(37, 'x'));            // unknown: skipped
  w.packet(1, kAllOnes, "");                        // 2^29 - 2^-35 s, minus 5 s
  w.obsolete_packet(0, 7'000'001u, "pb");           // 7.000001 s
  w.simple_packet("spb");                           // no timestamp: 0 on interface 0
  w.section();                                      // interfaces start over
  w.interface({1, std::uint8_t{0}, std::nullopt});  // 0: seconds
  w.packet(0, 42, "late");
  w.packet(1, 42, "");  // interface 1 is not described in this section
  return w.bytes();
}

void expect_mixed_stamps(const std::vector<PcapngClock::Stamp>& got) {
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].time(), 1'790'000'000'123'456'000);
  EXPECT_EQ(got[1].time(), 536'870'911'999'999'999 - 5 * kNanosPerSecond);
  EXPECT_EQ(got[2].time(), 7'000'001'000);
  EXPECT_EQ(got[3].time(), 0);
  EXPECT_TRUE(got[3].known);
  EXPECT_EQ(got[4].time(), 42 * kNanosPerSecond);
  EXPECT_FALSE(got[5].known);
}

TEST(PcapngClock, FollowsInterfacesAcrossSectionsAndBlockKinds) {
  for (bool big : {false, true}) {
    PcapngClock clock;
    clock.feed(span_of(mixed_file(big)));
    EXPECT_TRUE(clock.pcapng());
    EXPECT_EQ(clock.first_tsresol(), 6);
    expect_mixed_stamps(all_stamps(clock));
  }
}

TEST(PcapngClock, SameStampsHoweverTheBytesArrive) {
  const std::string file = mixed_file(false);
  {
    PcapngClock clock;
    for (std::size_t i = 0; i < file.size(); ++i) clock.feed(span_of(file.substr(i, 1)));
    expect_mixed_stamps(all_stamps(clock));
  }
  std::mt19937 random(15);
  for (int round = 0; round < 50; ++round) {
    PcapngClock clock;
    for (std::size_t i = 0; i < file.size();) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 40)(random);
      clock.feed(span_of(file.substr(i, n)));
      i += n;
    }
    expect_mixed_stamps(all_stamps(clock));
  }
}

TEST(PcapngClock, StampsAreTakenAsTheyPassBy) {
  PcapngWriter w;
  w.section();
  w.interface({1, std::uint8_t{9}, std::nullopt});
  w.packet(0, 1, "a");
  PcapngClock clock;
  clock.feed(span_of(w.bytes()));
  EXPECT_EQ(clock.next()->time(), 1);
  EXPECT_EQ(clock.next(), std::nullopt);
  const std::size_t before = w.bytes().size();
  w.packet(0, 2, "b");
  clock.feed(span_of(w.bytes().substr(before)));
  EXPECT_EQ(clock.next()->time(), 2);
}

TEST(PcapngClock, InterfacesLibpcapRefusesGiveNoKnownStamps) {
  PcapngWriter w;
  w.section();
  w.interface({1, std::uint8_t{20}, std::nullopt});  // 10^-20: libpcap refuses it
  w.block(1, w.u16(1) + w.u16(0) + w.u32(65535) +    // if_tsresol of 2 bytes
                 w.u16(9) + w.u16(2) + w.u16(0x0909) + w.u16(0) + w.u16(0) + w.u16(0));
  w.block(1, w.u16(1));  // shorter than its fixed fields
  w.packet(0, 1, "");
  w.packet(1, 1, "");
  w.packet(2, 1, "");
  w.block(6, w.u32(0) + w.u32(0));  // an EPB too short for its timestamp
  PcapngClock clock;
  clock.feed(span_of(w.bytes()));
  const auto got = all_stamps(clock);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& s : got) EXPECT_FALSE(s.known);
}

TEST(PcapngClock, OtherFilesOnlyShowTheirMagic) {
  const std::string pcap_ns = std::string("\x4d\x3c\xb2\xa1", 4) + std::string(40, '\x06');
  PcapngClock clock;
  clock.feed(span_of(pcap_ns.substr(0, 2)));
  EXPECT_FALSE(clock.pcapng());
  clock.feed(span_of(pcap_ns.substr(2)));
  EXPECT_FALSE(clock.pcapng());
  EXPECT_EQ(clock.magic(), (std::array<std::uint8_t, 4>{0x4d, 0x3c, 0xb2, 0xa1}));
  EXPECT_EQ(clock.next(), std::nullopt);
}

TEST(PcapngClock, StopsWhereTheBlockStructureBreaks) {
  PcapngWriter w;
  w.section();
  w.interface({1, std::uint8_t{9}, std::nullopt});
  w.packet(0, 1, "");
  std::string bytes = w.bytes() + w.u32(6) + w.u32(8) + std::string(64, '\0');  // length < 12
  PcapngClock clock;
  clock.feed(span_of(bytes));
  EXPECT_EQ(all_stamps(clock).size(), 1u);
  // A section in the other byte order: libpcap refuses it, so does the clock.
  PcapngWriter other(true);
  other.section();
  other.interface({1, std::uint8_t{9}, std::nullopt});
  other.packet(0, 1, "");
  PcapngClock mixed;
  mixed.feed(span_of(w.bytes() + other.bytes()));
  EXPECT_EQ(all_stamps(mixed).size(), 1u);
}

}  // namespace
}  // namespace closewire

namespace closewire {
namespace {

// A Decryption Secrets Block's TLS key log text is handed out; other secrets types are not.
TEST(PcapngClock, TlsSecretsFromDecryptionSecretsBlocks) {
  for (const bool big : {false, true}) {
    PcapngWriter w(big);
    w.section();
    w.interface({});
    const std::string keys = "CLIENT_RANDOM 00 11\n";  // 20 bytes: padded to 20
    w.block(10, w.u32(0x544c534b) + w.u32(static_cast<std::uint32_t>(keys.size())) + keys);
    w.block(10, w.u32(0x57475553) + w.u32(4) + "wg!!");  // WireGuard: not ours
    w.packet(0, 1, std::string(60, '\0'));
    PcapngClock clock;
    for (char c : w.bytes()) clock.feed(std::span(reinterpret_cast<const std::uint8_t*>(&c), 1));
    ASSERT_TRUE(clock.has_tls_secrets());
    const std::vector<std::string> secrets = clock.take_tls_secrets();
    ASSERT_EQ(secrets.size(), 1u);
    EXPECT_EQ(secrets[0], keys);
    EXPECT_FALSE(clock.has_tls_secrets());
    EXPECT_TRUE(clock.next().has_value());  // the packet's stamp still follows
  }
}

}  // namespace
}  // namespace closewire
