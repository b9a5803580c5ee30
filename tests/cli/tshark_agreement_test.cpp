// Agreement with Wireshark: on every capture stored under captures/, the WebSocket Close frames
// (sender, receiver, code) that `tshark -Y websocket` decodes are exactly those `closewire replay
// --json` reports. tshark is told which ports carry HTTP (and TLS, with NAME.keys as its key log)
// from closewire's own legs, since neither tool can know a WebSocket on an arbitrary port
// otherwise. Without tshark the test skips, and fails with CI=true (tools/setup installs it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/wire/h2_frame_reader.h"
#include "tests/support/command.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBinary = CLOSEWIRE_BIN;
const fs::path kCaptures = fs::path(CLOSEWIRE_SOURCE_DIR) / "captures";

// "SRC -> DST CODE": one Close frame; CODE "none" when the frame carries no status code.
using CloseFrames = std::multiset<std::string>;

std::string port_of(const std::string& address) {
  return address.substr(address.rfind(':') + 1);
}

// tshark on `capture` with `args`, given NAME.keys as its TLS key log when there is one.
closewire::testing::CommandResult run_tshark(const fs::path& capture, std::string args) {
  args = "-r '" + capture.string() + "' " + args;
  fs::path keys = capture;
  keys.replace_extension(".keys");
  if (fs::exists(keys)) args += " -o 'tls.keylog_file:" + keys.string() + "'";
  auto r = closewire::testing::run_command("tshark", args);
  EXPECT_EQ(r.status, 0) << "tshark " << args << ": " << r.err;
  return r;
}

// tshark prints IPv6 addresses bare; closewire as [addr]:port.
std::string address(const std::string& ip, const std::string& port) {
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + port;
}

struct ClosewireView {
  CloseFrames closes;
  std::set<std::string> http_ports, tls_ports;
  // h2 legs (RFC 8441): "SRC -> DST stream N close CODE" and "SRC -> DST stream N RST_STREAM
  // CODE", and the server ports of h2 connections.
  CloseFrames h2_events;
  std::set<std::string> h2_ports;
};

ClosewireView closewire_view(const fs::path& capture) {
  ClosewireView v;
  const auto r =
      closewire::testing::run_command(kBinary, "replay --json '" + capture.string() + "'");
  EXPECT_EQ(r.status, 0) << capture << ": " << r.err;
  if (r.status != 0) return v;
  const json replay = json::parse(r.out);
  for (const json& c : replay["captures"][0]["connections"]) {
    const bool tls = c.contains("tls");
    if (!c["websocket"].get<bool>() && !tls) continue;
    const std::string client = c["client"], server = c["server"];
    if (c.value("transport", "") == "h2") {
      v.h2_ports.insert(port_of(server));
      if (!c.contains("stream")) continue;
      const std::string stream = " stream " + std::to_string(c["stream"].get<int>());
      for (const json& e : c["events"]) {
        const bool from_client = e["from"] == "client";
        const std::string way =
            (from_client ? client : server) + " -> " + (from_client ? server : client) + stream;
        if (e["kind"] == "ws.close") {
          const bool no_code = !e.contains("code") || e["code"].is_null() ||
                               (e["code"] == 1005 && e.value("bytes", 0) == 0);
          v.h2_events.insert(way + " close " +
                             (no_code ? "none" : std::to_string(e["code"].get<int>())));
        } else if (e["kind"] == "h2.rst_stream") {
          v.h2_events.insert(way + " RST_STREAM " + e["text"].get<std::string>());
        }
      }
      continue;
    }
    (tls ? v.tls_ports : v.http_ports).insert(port_of(server));
    for (const json& e : c["events"]) {
      if (e["kind"] != "ws.close") continue;
      const bool from_client = e["from"] == "client";
      // An empty payload is 1005 to closewire (what a browser reports) and no code to tshark.
      const bool no_code = !e.contains("code") || e["code"].is_null() ||
                           (e["code"] == 1005 && e.value("bytes", 0) == 0);
      v.closes.insert((from_client ? client : server) + " -> " + (from_client ? server : client) +
                      " " + (no_code ? "none" : std::to_string(e["code"].get<int>())));
    }
  }
  return v;
}

CloseFrames tshark_view(const fs::path& capture, const ClosewireView& v) {
  std::string args =
      "-Y 'websocket.opcode == 8' -T fields "
      "-E 'separator=|' -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst "
      "-e tcp.dstport -e websocket.payload.close.status_code";
  for (const auto& p : v.http_ports) args += " -d tcp.port==" + p + ",http";
  for (const auto& p : v.tls_ports) {
    args += " -d tcp.port==" + p + ",tls";
    // HTTP/1.1 inside TLS without ALPN needs telling; an h2 port keeps its ALPN's dissector.
    if (!v.h2_ports.contains(p)) args += " -d tls.port==" + p + ",http";
  }
  const auto r = run_tshark(capture, args);
  CloseFrames out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, '|')) f.push_back(cell);
    f.resize(7);
    // One Close frame per line; a segment holding two gives comma-joined values.
    std::stringstream codes(f[6]);
    std::string code;
    std::vector<std::string> all;
    while (std::getline(codes, code, ',')) all.push_back(code);
    if (all.empty()) all.push_back("");
    for (const auto& c : all) {
      out.insert(address(f[0].empty() ? f[1] : f[0], f[2]) + " -> " +
                 address(f[3].empty() ? f[4] : f[3], f[5]) + " " + (c.empty() ? "none" : c));
    }
  }
  return out;
}

// Bytes of tshark's "88:06:10:e1" (http2.data.data).
std::vector<unsigned> hex_bytes(const std::string& text) {
  std::vector<unsigned> out;
  for (std::size_t i = 0; i + 2 <= text.size(); i += 3)
    out.push_back(static_cast<unsigned>(std::stoul(text.substr(i, 2), nullptr, 16)));
  return out;
}

// A Close frame at the start of a DATA payload (browsers, HAProxy and the generator put each
// WebSocket frame at a DATA frame's start): its code ("none" when it has no payload), or empty.
// Wireshark 4.0 does not dissect WebSocket inside an h2 stream, so the frame header is read here
// from tshark's DATA bytes: FIN+opcode 8, the length, the client's mask.
std::string close_in(const std::vector<unsigned>& b) {
  if (b.size() < 2 || b[0] != 0x88) return "";
  const unsigned length = b[1] & 0x7F;
  if (length == 0) return "none";
  const bool masked = (b[1] & 0x80) != 0;
  const std::size_t at = masked ? 6 : 2;
  if (b.size() < at + 2) return "";
  const unsigned hi = masked ? b[at] ^ b[2] : b[at];
  const unsigned lo = masked ? b[at + 1] ^ b[3] : b[at + 1];
  return std::to_string(hi << 8 | lo);
}

// tshark's HTTP/2 frames of the h2 ports: the Close frames in DATA and every RST_STREAM.
CloseFrames tshark_h2_view(const fs::path& capture, const ClosewireView& v) {
  std::string args = "-Y http2 -T json -J 'ip ipv6 tcp http2' --no-duplicate-keys";
  for (const auto& p : v.h2_ports) args += " -d tcp.port==" + p + ",tls";
  const auto r = run_tshark(capture, args);
  CloseFrames out;
  if (r.status != 0) return out;
  // One value or, merged by --no-duplicate-keys, an array of them.
  const auto each = [](const json& j, const auto& f) {
    if (j.is_array()) {
      for (const json& x : j) f(x);
    } else {
      f(j);
    }
  };
  for (const json& packet : json::parse(r.out)) {
    const json& layers = packet["_source"]["layers"];
    const json& ip = layers.contains("ip") ? layers["ip"] : layers["ipv6"];
    const std::string v6 = layers.contains("ip") ? "ip" : "ipv6";
    const std::string src = address(ip[v6 + ".src"], layers["tcp"]["tcp.srcport"]);
    const std::string dst = address(ip[v6 + ".dst"], layers["tcp"]["tcp.dstport"]);
    each(layers["http2"], [&](const json& layer) {
      if (!layer.contains("http2.stream")) return;
      each(layer["http2.stream"], [&](const json& f) {
        if (!f.contains("http2.type")) return;
        const std::string type = f["http2.type"];
        const std::string way =
            src + " -> " + dst + " stream " + f["http2.streamid"].get<std::string>();
        if (type == "3") {
          out.insert(way + " RST_STREAM " +
                     closewire::wire::h2_error_name(static_cast<std::uint32_t>(
                         std::stoul(f["http2.rst_stream.error"].get<std::string>()))));
        } else if (type == "0" && f.contains("http2.data.data")) {
          const std::string code = close_in(hex_bytes(f["http2.data.data"]));
          if (!code.empty()) out.insert(way + " close " + code);
        }
      });
    });
  }
  return out;
}

std::string difference(const CloseFrames& a, const CloseFrames& b) {
  std::vector<std::string> d;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(d));
  std::string s;
  for (const auto& x : d) s += "\n    " + x;
  return s.empty() ? " none" : s;
}

TEST(TsharkAgreement, EveryStoredCaptureHasTheSameCloseFrames) {
  if (std::system("command -v tshark >/dev/null 2>&1") != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "tshark is missing (tools/setup)";
    GTEST_SKIP() << "tshark is not installed (tools/setup installs it)";
  }
  std::vector<fs::path> captures;
  for (const auto& e : fs::recursive_directory_iterator(kCaptures)) {
    const auto ext = e.path().extension();
    if (ext == ".pcap" || ext == ".pcapng") captures.push_back(e.path());
  }
  std::sort(captures.begin(), captures.end());
  ASSERT_FALSE(captures.empty()) << kCaptures;
  std::size_t frames = 0;
  std::size_t h2_events = 0;
  for (const auto& capture : captures) {
    SCOPED_TRACE(capture.string());
    const ClosewireView ours = closewire_view(capture);
    const CloseFrames theirs = tshark_view(capture, ours);
    frames += ours.closes.size();
    EXPECT_EQ(ours.closes, theirs) << "only closewire:" << difference(ours.closes, theirs)
                                   << "\n  only tshark:" << difference(theirs, ours.closes);
    if (!ours.h2_ports.empty()) {
      const CloseFrames theirs_h2 = tshark_h2_view(capture, ours);
      h2_events += ours.h2_events.size();
      EXPECT_EQ(ours.h2_events, theirs_h2)
          << "h2, only closewire:" << difference(ours.h2_events, theirs_h2)
          << "\n  only tshark:" << difference(theirs_h2, ours.h2_events);
    }
  }
  // Not vacuous: the stored captures hold Close frames both tools see.
  EXPECT_GT(frames, captures.size());
  // Nor is the h2 half: captures/h2 and captures/generated hold h2 streams closewire must find.
  EXPECT_GT(h2_events, 10u);
  std::printf(
      "%zu captures, %zu Close frames agree; on h2 streams %zu Close frames and "
      "RST_STREAMs\n",
      captures.size(), frames, h2_events);
}

}  // namespace
