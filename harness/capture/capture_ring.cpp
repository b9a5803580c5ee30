#include "harness/capture/capture_ring.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <thread>
#include <utility>

#include "harness/capture/live_capture.h"

namespace closewire {
namespace {

// Until a run sets its own filter a waiting ring stays empty. (What is left in it from an earlier
// run, libpcap filters again with the next run's filter.)
void let_nothing_through(pcap_t* p) {
  bpf_program none{};
  if (pcap_compile(p, &none, "less 1", 1, PCAP_NETMASK_UNKNOWN) == 0) {
    pcap_setfilter(p, &none);
    pcap_freecode(&none);
  }
}

}  // namespace

std::unique_ptr<CaptureRing> CaptureRing::open(const std::string& interface, int buffer_bytes) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(interface.c_str(), err);
  if (!p) throw CaptureEnvironmentError(fmt::format("cannot capture on {}: {}", interface, err));
  std::unique_ptr<CaptureRing> ring(new CaptureRing(p));
  // An IP packet is at most 64 KiB (+ the IPv6 header and Ethernet's): a larger snapshot length
  // would only make every slot of the ring bigger.
  pcap_set_snaplen(p, 65535 + 40 + 14);
  pcap_set_immediate_mode(p, 1);  // libpcap then uses a TPACKET_V2 ring: frames visible at once
  pcap_set_buffer_size(p, buffer_bytes);
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // falls back to µs where unsupported
  const int rc = pcap_activate(p);
  if (rc < 0) {
    const std::string why = rc == PCAP_ERROR_PERM_DENIED
                                ? "no permission to capture (run as root or grant CAP_NET_RAW)"
                                : pcap_geterr(p);
    throw CaptureEnvironmentError(fmt::format("cannot capture on {}: {}", interface, why));
  }
  let_nothing_through(p);
  return ring;
}

std::unique_ptr<CaptureRing> CaptureRing::adopt(pcap* handle) {
  let_nothing_through(handle);
  return std::unique_ptr<CaptureRing>(new CaptureRing(handle));
}

CaptureRing::~CaptureRing() {
  if (handle_) pcap_close(handle_);
}

pcap* CaptureRing::release() {
  return std::exchange(handle_, nullptr);
}

CaptureRingPool::CaptureRingPool(std::size_t count, const std::string& interface, int buffer_bytes)
    : interface_(interface), rings_(count) {
  std::vector<std::string> errors(count);
  std::vector<std::thread> openers;
  for (std::size_t i = 0; i < count; ++i) {
    openers.emplace_back([&, i] {
      try {
        rings_[i] = CaptureRing::open(interface, buffer_bytes);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : openers) t.join();
  std::erase(rings_, nullptr);
  for (const auto& e : errors) {
    if (!e.empty()) error_ = e;
  }
}

CaptureRingPool::~CaptureRingPool() {
  std::vector<std::thread> closers;
  for (auto& ring : rings_) closers.emplace_back([r = std::move(ring)] {});
  for (auto& t : closers) t.join();
}

std::unique_ptr<CaptureRing> CaptureRingPool::take(const std::string& interface) {
  std::lock_guard lock(mutex_);
  if (interface != interface_ || rings_.empty()) return nullptr;
  auto ring = std::move(rings_.back());
  rings_.pop_back();
  return ring;
}

void CaptureRingPool::give_back(std::unique_ptr<CaptureRing> ring) {
  std::lock_guard lock(mutex_);
  rings_.push_back(std::move(ring));
}

std::size_t CaptureRingPool::size() const {
  std::lock_guard lock(mutex_);
  return rings_.size();
}

}  // namespace closewire
