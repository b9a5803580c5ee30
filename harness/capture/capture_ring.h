// An activated libpcap handle (its kernel ring allocated) that lets nothing through, and a pool
// of them opened before a run's scenarios start and handed back after each capture.
//
// Why a pool: allocating a packet ring zeroes its memory inside one system call that the kernel
// does not preempt (PREEMPT_NONE, the server default). In a VM that first touch costs several ms
// per MB, and a scenario event loop waiting to run on that core waits with it: measured, 9-30 ms
// late timers in scenarios running beside one that was just starting its capture. Opening the
// rings before any scenario's timed part, and reusing them, keeps that cost out of the timing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct pcap;

namespace closewire {

// With immediate mode libpcap uses TPACKET_V2, one fixed slot per packet: a 64 KiB snapshot takes
// a 128 KiB block per slot, so 4 MiB hold 32 packets and 16 MiB 128.
// A capture opened while peers already run (serve, proxy, probe) keeps 4 MiB: zeroing 16 MiB held
// a core long enough to make a probe's 2 s close timer fire 10 ms late in 2 of 6 runs.
inline constexpr int kDefaultRingBytes = 4 * 1024 * 1024;
// A run's pool is opened before any scenario's timed part, so its rings can be large: 32 slots
// dropped packets when a few TLS scenarios with real proxies ran side by side on a busy 2-core
// machine (handshake bursts while the reader thread waited for a core).
inline constexpr int kRunRingBytes = 16 * 1024 * 1024;

// "tcp port 9000 or tcp port 9001" ("tcp" for no port): the BPF for a run's own connections.
std::string tcp_port_filter(const std::vector<std::uint16_t>& ports);
// tcp_port_filter(ports); with `host`, only packets to or from it ("host 10.0.0.5 and (...)"): a
// capture off loopback sees every machine's traffic to those ports.
std::string port_filter(const std::vector<std::uint16_t>& ports, const std::string& host = {});

class CaptureRing {
 public:
  // Throws CaptureEnvironmentError (live_capture.h) when the machine cannot capture.
  static std::unique_ptr<CaptureRing> open(const std::string& interface,
                                           int buffer_bytes = kDefaultRingBytes);
  ~CaptureRing();
  CaptureRing(const CaptureRing&) = delete;
  CaptureRing& operator=(const CaptureRing&) = delete;

  pcap* handle() const { return handle_; }
  const std::string& interface() const { return interface_; }

  // From now on only packets matching `bpf` enter the ring. Throws std::runtime_error for a
  // filter libpcap rejects.
  void filter(const std::string& bpf);
  // Nothing enters the ring (a ring waiting in a pool stays empty). What an earlier run left in
  // it, libpcap filters again with the next filter().
  void let_nothing_through();

  struct Drops {
    std::uint64_t kernel = 0;     // pcap_stats ps_drop
    std::uint64_t interface = 0;  // pcap_stats ps_ifdrop
  };
  // Packets dropped since the last filter(). pcap_stats counts from activation, when the ring
  // took every packet on the interface (other runs' traffic too) and may have overflowed: those
  // drops are not the caller's packets.
  Drops drops_since_filter() const;

 private:
  CaptureRing(pcap* handle, std::string interface)
      : handle_(handle), interface_(std::move(interface)) {}
  Drops total_drops() const;

  pcap* handle_;
  std::string interface_;
  Drops before_filter_;
};

class CaptureRingPool {
 public:
  // Opens `count` rings side by side (each is a few ms of kernel page zeroing); keeps those that
  // opened and the error of one that did not.
  CaptureRingPool(std::size_t count, const std::string& interface,
                  int buffer_bytes = kDefaultRingBytes);
  // Closes the rings side by side: closing a packet socket waits for a kernel grace period
  // (about 25 ms here); one after the other, a few rings added a tenth of a second to a run.
  ~CaptureRingPool();
  CaptureRingPool(const CaptureRingPool&) = delete;
  CaptureRingPool& operator=(const CaptureRingPool&) = delete;

  // A ring for `interface`, or null when none is left (or the pool is for another interface).
  std::unique_ptr<CaptureRing> take(const std::string& interface);
  // A ring back for the next scenario (it lets nothing through again); a ring on another
  // interface is closed instead.
  void give_back(std::unique_ptr<CaptureRing> ring);
  std::size_t size() const;
  // Why the pool holds fewer rings than asked (empty when it holds them all).
  const std::string& error() const { return error_; }

 private:
  std::string interface_;
  std::string error_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<CaptureRing>> rings_;
};

}  // namespace closewire
