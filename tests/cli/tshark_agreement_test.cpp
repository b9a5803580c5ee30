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

// tshark prints IPv6 addresses bare; closewire as [addr]:port.
std::string address(const std::string& ip, const std::string& port) {
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + port;
}

struct ClosewireView {
  CloseFrames closes;
  std::set<std::string> http_ports, tls_ports;
};

ClosewireView closewire_view(const fs::path& capture) {
  ClosewireView v;
  const auto r = closewire::testing::run_command(kBinary, "replay --json '" + capture.string() + "'");
  EXPECT_EQ(r.status, 0) << capture << ": " << r.err;
  if (r.status != 0) return v;
  const json replay = json::parse(r.out);
  for (const json& c : replay["captures"][0]["connections"]) {
    const bool tls = c.contains("tls");
    if (!c["websocket"].get<bool>() && !tls) continue;
    const std::string client = c["client"], server = c["server"];
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
  std::string args = "-r '" + capture.string() + "' -Y 'websocket.opcode == 8' -T fields " +
                     "-E 'separator=|' -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst " +
                     "-e tcp.dstport -e websocket.payload.close.status_code";
  for (const auto& p : v.http_ports) args += " -d tcp.port==" + p + ",http";
  for (const auto& p : v.tls_ports) args += " -d tcp.port==" + p + ",tls -d tls.port==" + p + ",http";
  fs::path keys = capture;
  keys.replace_extension(".keys");
  if (fs::exists(keys)) args += " -o 'tls.keylog_file:" + keys.string() + "'";
  const auto r = closewire::testing::run_command("tshark", args);
  EXPECT_EQ(r.status, 0) << "tshark " << args << ": " << r.err;
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
  for (const auto& capture : captures) {
    SCOPED_TRACE(capture.string());
    const ClosewireView ours = closewire_view(capture);
    const CloseFrames theirs = tshark_view(capture, ours);
    frames += ours.closes.size();
    EXPECT_EQ(ours.closes, theirs) << "only closewire:" << difference(ours.closes, theirs)
                                   << "\n  only tshark:" << difference(theirs, ours.closes);
  }
  // Not vacuous: the stored captures hold Close frames both tools see.
  EXPECT_GT(frames, captures.size());
  std::printf("%zu captures, %zu Close frames agree\n", captures.size(), frames);
}

}  // namespace
