#include "harness/capture/capture_ring.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <stdexcept>
#include <thread>

#include "harness/capture/live_capture.h"

namespace closewire {

std::string tcp_port_filter(const std::vector<std::uint16_t>& ports) {
  std::string f;
  for (auto p : ports) f += fmt::format("{}tcp port {}", f.empty() ? "" : " or ", p);
  return f.empty() ? "tcp" : f;
}

std::string port_filter(const std::vector<std::uint16_t>& ports, const std::string& host) {
  const std::string f = tcp_port_filter(ports);
  return host.empty() ? f : fmt::format("host {} and ({})", host, f);
}

std::unique_ptr<CaptureRing> CaptureRing::open(const std::string& interface, int buffer_bytes) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(interface.c_str(), err);
  if (!p) throw CaptureEnvironmentError(fmt::format("cannot capture on {}: {}", interface, err));
  std::unique_ptr<CaptureRing> ring(new CaptureRing(p, interface));
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
  ring->let_nothing_through();
  return ring;
}

CaptureRing::~CaptureRing() {
  pcap_close(handle_);
}

void CaptureRing::filter(const std::string& bpf) {
  bpf_program program{};
  if (pcap_compile(handle_, &program, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
      pcap_setfilter(handle_, &program) != 0) {
    const std::string why = pcap_geterr(handle_);
    pcap_freecode(&program);
    throw std::runtime_error(fmt::format("capture filter '{}': {}", bpf, why));
  }
  pcap_freecode(&program);
  before_filter_ = total_drops();
}

void CaptureRing::let_nothing_through() {
  filter("less 1");
}

CaptureRing::Drops CaptureRing::total_drops() const {
  pcap_stat ps{};
  if (pcap_stats(handle_, &ps) != 0) return {};
  return {ps.ps_drop, ps.ps_ifdrop};
}

CaptureRing::Drops CaptureRing::drops_since_filter() const {
  const Drops now = total_drops();
  return {now.kernel - before_filter_.kernel, now.interface - before_filter_.interface};
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
  if (ring->interface() != interface_) return;  // not one of ours: closed here
  ring->let_nothing_through();
  std::lock_guard lock(mutex_);
  rings_.push_back(std::move(ring));
}

std::size_t CaptureRingPool::size() const {
  std::lock_guard lock(mutex_);
  return rings_.size();
}

}  // namespace closewire
