// closewire serve, proxy and probe as separate processes over loopback: the seed bug and fix
// reproduced by hand must give the same verdicts and wire order as scenarios/seed/{bug,fix}.yaml.
// The seed tests capture (root or CAP_NET_RAW): with CI=true a machine without that fails,
// elsewhere they skip with a message.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "harness/spec/duration.h"
#include "tests/standalone/process.h"
#include "tests/support/capture_rights.h"

namespace closewire::standalone_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBinary = CLOSEWIRE_BIN;

// Per process: two build directories testing at once must not share files.
std::string temp(const std::string& name) {
  return (fs::path(::testing::TempDir()) / (std::to_string(::getpid()) + "-" + name)).string();
}

// A timing bound in ms, widened like every tolerance on a slow machine (CLOSEWIRE_TOLERANCE_SCALE).
double slack(double ms) {
  return ms * tolerance_scale_from_env();
}

std::unique_ptr<Process> closewire(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return std::make_unique<Process>(std::move(args));
}

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1;
}

// Starts a command and returns its port from "listening on 127.0.0.1:PORT".
std::string start(std::unique_ptr<Process>& p, std::vector<std::string> args) {
  p = closewire(std::move(args));
  const auto line = p->wait_line("listening on ", 10s);
  if (!line) {
    p->wait_exit(1s);
    ADD_FAILURE() << "no 'listening on' line; stderr: " << p->err();
    return "0";
  }
  return line->substr(line->rfind(':') + 1);
}

// serve, sidecar and gateway (Envoy <= 1.22, 10 ms per hop) with `timeout`; stops them at the end.
struct SeedChain {
  std::unique_ptr<Process> server, sidecar, gateway;
  std::string gateway_port;
  std::string gateway_pcap;

  explicit SeedChain(const std::string& timeout, const std::string& name) {
    const std::string server_port = start(server, {"serve", "--listen", "127.0.0.1:0"});
    const auto envoy = [&](const std::string& upstream) {
      return std::vector<std::string>{"proxy",
                                      "--listen",
                                      "127.0.0.1:0",
                                      "--upstream",
                                      "127.0.0.1:" + upstream,
                                      "--model",
                                      "envoy",
                                      "--delayed-close-timeout",
                                      timeout,
                                      "--no-delay-close-for-upgrades",
                                      "false",
                                      "--latency",
                                      "10ms"};
    };
    const std::string sidecar_port = start(sidecar, envoy(server_port));
    gateway_pcap = temp(name + "-gateway.pcap");
    auto gw = envoy(sidecar_port);
    gw.insert(gw.end(), {"--capture", gateway_pcap});
    gateway_port = start(gateway, gw);
  }

  // SIGTERM to each: a clean summary and exit 0.
  void stop() {
    for (auto* p : {gateway.get(), sidecar.get(), server.get()}) {
      p->signal(SIGTERM);
      EXPECT_EQ(p->wait_exit(10s), 0) << p->err();
      EXPECT_NE(p->out().find("stopped by SIGTERM"), std::string::npos) << p->out();
    }
  }
};

json replay_json(const std::string& pcap) {
  auto p = closewire({"replay", "--json", pcap});
  EXPECT_EQ(p->wait_exit(20s), 0) << p->err();
  return json::parse(p->out());
}

// The client leg of the probe's capture: the one WebSocket connection in it.
json client_leg(const std::string& pcap, const std::string& gateway_port) {
  const json j = replay_json(pcap);
  for (const auto& c : j["captures"][0]["connections"]) {
    if (c["websocket"] && c["server"] == "127.0.0.1:" + gateway_port) return c;
  }
  ADD_FAILURE() << "no WebSocket leg to the gateway in " << pcap;
  return json::object();
}

// "from kind [code]" of every FIN, RST and Close on the leg, in order.
std::vector<std::string> close_order(const json& leg) {
  std::vector<std::string> out;
  for (const auto& e : leg["events"]) {
    const std::string kind = e["kind"];
    if (kind != "tcp.fin" && kind != "tcp.rst" && kind != "ws.close") continue;
    std::string s = e["from"].get<std::string>() + " " + kind;
    if (kind == "ws.close" && !e["code"].is_null()) s += " " + std::to_string(e["code"].get<int>());
    out.push_back(s);
  }
  return out;
}

double ms_of(const json& leg, const std::string& from, const std::string& kind) {
  for (const auto& e : leg["events"]) {
    if (e["from"] == from && e["kind"] == kind) return e["ms"];
  }
  ADD_FAILURE() << "no " << from << " " << kind;
  return 0;
}

void expect_verdict(const json& leg, const std::string& profile, int code, bool clean) {
  const json& v = leg["verdicts"][profile];
  EXPECT_EQ(v["code"], code) << profile << ": " << v.dump();
  EXPECT_EQ(v["was_clean"], clean) << profile << ": " << v.dump();
}

struct ProbeResult {
  int status = -1;
  std::string out;
};

ProbeResult probe(const std::string& port, const std::string& profile, const std::string& pcap) {
  auto p =
      closewire({"probe", "ws://127.0.0.1:" + port + "/", "--profile", profile, "--capture", pcap});
  ProbeResult r;
  const auto status = p->wait_exit(20s);
  EXPECT_TRUE(status) << "probe did not end";
  r.status = status.value_or(-1);
  r.out = p->out();
  EXPECT_TRUE(p->err().empty()) << p->err();
  return r;
}

TEST(Standalone, SeedBugByHand) {
  REQUIRE_CAPTURE_RIGHTS();
  SeedChain chain("1s", "bug");
  const std::string pcap = temp("bug-probe.pcap");
  const ProbeResult legacy = probe(chain.gateway_port, "chrome-legacy", pcap);
  EXPECT_EQ(legacy.status, 0) << legacy.out;
  EXPECT_NE(legacy.out.find("chrome-legacy observed: 1006 not clean"), std::string::npos)
      << legacy.out;

  // scenarios/seed/bug.yaml on client-gateway, the gateway being the server side here.
  const json leg = client_leg(pcap, chain.gateway_port);
  EXPECT_EQ(close_order(leg),
            (std::vector<std::string>{"server ws.close 4321", "client ws.close 4321",
                                      "client tcp.fin", "server tcp.fin"}));
  EXPECT_NEAR(ms_of(leg, "client", "tcp.fin") - ms_of(leg, "client", "ws.close"), 2000, slack(10));
  EXPECT_LE(ms_of(leg, "server", "tcp.fin") - ms_of(leg, "client", "tcp.fin"), slack(5));
  expect_verdict(leg, "chrome-legacy", 1006, false);
  for (const char* p : {"chrome", "firefox", "safari"}) {
    expect_verdict(leg, p, 4321, true);
    EXPECT_EQ(leg["verdicts"][p]["reason"], "test");
  }

  const ProbeResult current = probe(chain.gateway_port, "chrome", temp("bug-probe-chrome.pcap"));
  EXPECT_EQ(current.status, 0) << current.out;
  EXPECT_NE(current.out.find("chrome observed: 4321 \"test\" clean"), std::string::npos)
      << current.out;

  chain.stop();
  // The gateway judged its downstream legs as they ended, and its file replays the same.
  EXPECT_NE(chain.gateway->out().find(
                "downstream verdicts: chrome 4321 clean, chrome-legacy 1006 not clean"),
            std::string::npos)
      << chain.gateway->out();
  const json gw = replay_json(chain.gateway_pcap);
  int downstream = 0;
  for (const auto& c : gw["captures"][0]["connections"]) {
    if (c["server"] != "127.0.0.1:" + chain.gateway_port) continue;
    ++downstream;
    EXPECT_EQ(c["verdicts"]["chrome"]["code"], 4321);
  }
  EXPECT_EQ(downstream, 2);
}

TEST(Standalone, SeedFixByHand) {
  REQUIRE_CAPTURE_RIGHTS();
  SeedChain chain("0s", "fix");
  const std::string pcap = temp("fix-probe.pcap");
  const ProbeResult legacy = probe(chain.gateway_port, "chrome-legacy", pcap);
  EXPECT_EQ(legacy.status, 0) << legacy.out;
  EXPECT_NE(legacy.out.find("chrome-legacy observed: 4321 \"test\" clean"), std::string::npos)
      << legacy.out;

  // scenarios/seed/fix.yaml on client-gateway.
  const json leg = client_leg(pcap, chain.gateway_port);
  EXPECT_EQ(close_order(leg),
            (std::vector<std::string>{"server ws.close 4321", "client ws.close 4321",
                                      "server tcp.fin", "client tcp.fin"}));
  EXPECT_NEAR(ms_of(leg, "server", "tcp.fin") - ms_of(leg, "client", "ws.close"), 40, slack(10));
  EXPECT_LE(ms_of(leg, "client", "tcp.fin") - ms_of(leg, "server", "tcp.fin"), slack(5));
  for (const char* p : {"chrome", "chrome-legacy", "firefox", "safari"}) {
    expect_verdict(leg, p, 4321, true);
    EXPECT_EQ(leg["verdicts"][p]["reason"], "test");
  }
  chain.stop();
}

TEST(Standalone, ProbeCountAndIntervalMakeThatManyConnectionsThatFarApart) {
  REQUIRE_CAPTURE_RIGHTS();
  std::unique_ptr<Process> server;
  const std::string port = start(server, {"serve", "--listen", "127.0.0.1:0"});
  const std::string pcap = temp("probe-count.pcap");
  auto p = closewire({"probe", "ws://127.0.0.1:" + port + "/", "--profile", "chrome", "--count",
                      "3", "--interval", "100ms", "--capture", pcap});
  EXPECT_EQ(p->wait_exit(20s), 0) << p->out() << p->err();
  for (const char* n : {"#1 chrome observed", "#2 chrome observed", "#3 chrome observed"})
    EXPECT_NE(p->out().find(n), std::string::npos) << p->out();
  const json j = replay_json(pcap);
  std::vector<json> legs;
  for (const auto& c : j["captures"][0]["connections"])
    if (c["websocket"]) legs.push_back(c);
  ASSERT_EQ(legs.size(), 3u);
  // Each connection starts --interval after the previous one ended (its last event).
  for (std::size_t i = 1; i < legs.size(); ++i) {
    const auto& prev = legs[i - 1]["events"];
    const double prev_end_ns = prev.back()["t_ns"].get<double>();
    const double start_ns = legs[i]["events"].front()["t_ns"].get<double>();
    EXPECT_GE((start_ns - prev_end_ns) / 1e6, 99.0) << i;
    EXPECT_LE((start_ns - prev_end_ns) / 1e6, 100.0 + slack(100)) << i;
  }
  server->signal(SIGTERM);
  EXPECT_EQ(server->wait_exit(10s), 0);
}

// wss by hand: a TLS 1.2 server, an Envoy proxy terminating TLS 1.3 and speaking TLS upstream, a
// wss probe; each writes its sessions' secrets to its key log (the probe's beside its capture).
TEST(Standalone, WssServeProxyAndProbeWriteTheirKeyLogs) {
  REQUIRE_CAPTURE_RIGHTS();
  auto text_of = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string server_keys = temp("wss-serve.keys");
  const std::string proxy_keys = temp("wss-proxy.keys");
  const std::string pcap = temp("wss-probe.pcap");
  const std::string probe_keys = temp("wss-probe.keys");
  std::unique_ptr<Process> server, proxy;
  const std::string server_port =
      start(server, {"serve", "--listen", "127.0.0.1:0", "--tls", "--tls-version", "1.2",
                     "--keylog", server_keys});
  EXPECT_NE(server->out().find("tls 1.2, leaf SPKI sha256 "), std::string::npos) << server->out();
  const std::string proxy_port =
      start(proxy, {"proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + server_port,
                    "--model", "envoy", "--delayed-close-timeout", "0s", "--tls",
                    "--upstream-tls", "--keylog", proxy_keys});
  auto p = closewire({"probe", "wss://127.0.0.1:" + proxy_port + "/", "--profile", "chrome",
                      "--capture", pcap});
  // The probe's own analysis decrypts its leg with its key log: the verdict agrees (exit 0).
  EXPECT_EQ(p->wait_exit(20s), 0) << p->out() << p->err();
  EXPECT_NE(p->out().find("chrome observed: 4321 \"test\" clean"), std::string::npos)
      << p->out() << p->err();
  EXPECT_NE(p->out().find("the capture says 4321 \"test\" clean: agree"), std::string::npos)
      << p->out();
  EXPECT_NE(p->out().find("key log " + probe_keys), std::string::npos) << p->out();
  // TLS 1.3 between the probe and the proxy (both ends log it), TLS 1.2 behind it.
  EXPECT_NE(text_of(probe_keys).find("CLIENT_TRAFFIC_SECRET_0 "), std::string::npos);
  EXPECT_NE(text_of(proxy_keys).find("CLIENT_TRAFFIC_SECRET_0 "), std::string::npos);
  EXPECT_NE(text_of(proxy_keys).find("CLIENT_RANDOM "), std::string::npos);
  EXPECT_NE(text_of(server_keys).find("CLIENT_RANDOM "), std::string::npos);
  for (auto* proc : {&proxy, &server}) {
    (*proc)->signal(SIGTERM);
    EXPECT_EQ((*proc)->wait_exit(10s), 0);
  }
}

// WebSocket over HTTP/2 by hand: a proxy that takes RFC 8441 streams on its TLS side, a probe
// that sends its WebSocket as one. Behind a relay that resets right behind the server's Close,
// the h2 proxy resets the stream, and what the probe observed is what the capture says.
TEST(Standalone, H2ProxyAndProbe) {
  REQUIRE_CAPTURE_RIGHTS();
  std::unique_ptr<Process> server, resetting, plain_relay, h2_proxy, h2_after_reset;
  const std::string server_port = start(server, {"serve", "--listen", "127.0.0.1:0"});
  const std::string h2_port =
      start(h2_proxy, {"proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + server_port,
                       "--model", "tcp", "--tls", "--h2"});
  auto clean = closewire({"probe", "wss://127.0.0.1:" + h2_port + "/", "--h2", "--profile",
                          "chrome", "--capture", temp("h2-clean.pcap")});
  EXPECT_EQ(clean->wait_exit(20s), 0) << clean->out() << clean->err();
  EXPECT_NE(clean->out().find("WebSocket over h2 stream 1"), std::string::npos) << clean->out();
  EXPECT_NE(clean->out().find("the capture says 4321 \"test\" clean: agree"), std::string::npos)
      << clean->out();

  const std::string resetting_port =
      start(resetting, {"proxy", "--listen", "127.0.0.1:0", "--upstream",
                        "127.0.0.1:" + server_port, "--model", "tcp", "--reset-behind-close"});
  const std::string reset_h2_port =
      start(h2_after_reset, {"proxy", "--listen", "127.0.0.1:0", "--upstream",
                             "127.0.0.1:" + resetting_port, "--model", "tcp", "--tls", "--h2"});
  auto reset = closewire({"probe", "wss://127.0.0.1:" + reset_h2_port + "/", "--h2", "--profile",
                          "chrome", "--capture", temp("h2-reset.pcap")});
  EXPECT_EQ(reset->wait_exit(20s), 0) << reset->out() << reset->err();
  EXPECT_NE(reset->out().find("h2.rst_stream"), std::string::npos) << reset->out();
  // Mostly the reset wins (1006); the model's reply, microseconds after the Close, can leave
  // first (4321 clean): either way what the probe observed is what the capture says.
  EXPECT_NE(reset->out().find(": agree"), std::string::npos) << reset->out();
  EXPECT_TRUE(reset->out().find("the capture says 1006 not clean") != std::string::npos ||
              reset->out().find("the capture says 4321 \"test\" clean") != std::string::npos)
      << reset->out();
  for (auto* proc : {&h2_after_reset, &resetting, &h2_proxy, &server}) {
    (*proc)->signal(SIGTERM);
    EXPECT_EQ((*proc)->wait_exit(10s), 0);
  }

  // h2 needs TLS: one line, exit 2, on either end.
  auto no_tls = closewire(
      {"proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9", "--model", "tcp", "--h2"});
  EXPECT_EQ(no_tls->wait_exit(10s), 2);
  EXPECT_EQ(no_tls->err(),
            "closewire proxy: --h2 needs --tls: browsers speak HTTP/2 only over TLS\n");
  auto ws = closewire({"probe", "ws://127.0.0.1:9/", "--h2", "--profile", "chrome"});
  EXPECT_EQ(ws->wait_exit(10s), 2);
  EXPECT_TRUE(one_line(ws->err())) << ws->err();
  EXPECT_NE(ws->err().find("--h2 needs a wss:// URL"), std::string::npos) << ws->err();
}

TEST(Standalone, ProbeTimeoutAbandonsAConnectionWithNoCloseEvent) {
  REQUIRE_CAPTURE_RIGHTS();
  std::unique_ptr<Process> server;
  const std::string port = start(server, {"serve", "--listen", "127.0.0.1:0", "--close", "none"});
  const std::string pcap = temp("probe-timeout.pcap");
  auto p = closewire({"probe", "ws://127.0.0.1:" + port + "/", "--profile", "chrome", "--timeout",
                      "300ms", "--capture", pcap});
  EXPECT_EQ(p->wait_exit(20s), 1) << p->out() << p->err();
  EXPECT_NE(p->out().find("#1: no close event within 300 ms: abandoned"), std::string::npos)
      << p->out();
  // The probe closed TCP itself at its timeout, counted from the upgrade.
  const json leg = client_leg(pcap, port);
  const double waited = ms_of(leg, "client", "tcp.fin") - ms_of(leg, "server", "http.upgrade");
  EXPECT_GE(waited, 299.0);
  EXPECT_LE(waited, 300.0 + slack(50));
  server->signal(SIGTERM);
  EXPECT_EQ(server->wait_exit(10s), 0);
}

TEST(Standalone, BusyPortIsOneLineAndExit2) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string port = std::to_string(taken.local_endpoint().port());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--listen", "127.0.0.1:" + port},
        std::vector<std::string>{"proxy", "--listen", "127.0.0.1:" + port, "--upstream",
                                 "127.0.0.1:9", "--model", "tcp"}}) {
    auto p = closewire(args);
    EXPECT_EQ(p->wait_exit(10s), 2) << args[0];
    EXPECT_TRUE(one_line(p->err())) << p->err();
    EXPECT_NE(p->err().find("cannot listen on 127.0.0.1:" + port), std::string::npos) << p->err();
  }
}

TEST(Standalone, RemoteAddressesNeedAllowRemote) {
  // Refused before any socket is opened: nothing is sent to 10.0.0.1.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--listen", "10.0.0.1:9000"},
        std::vector<std::string>{"proxy", "--listen", "127.0.0.1:0", "--upstream", "10.0.0.1:80",
                                 "--model", "envoy"},
        std::vector<std::string>{"probe", "ws://10.0.0.1:80/", "--profile", "chrome"}}) {
    auto p = closewire(args);
    EXPECT_EQ(p->wait_exit(10s), 2) << args[0];
    EXPECT_TRUE(one_line(p->err())) << p->err();
    EXPECT_NE(p->err().find("--allow-remote"), std::string::npos) << p->err();
  }
  auto help = closewire({"probe", "--help"});
  EXPECT_EQ(help->wait_exit(10s), 0);
  EXPECT_NE(help->out().find("--allow-remote"), std::string::npos);
  EXPECT_NE(help->out().find("deliberate"), std::string::npos) << help->out();
}

TEST(Standalone, BadFlagsAreOneLineAndExit2) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--close", "abc"},
        std::vector<std::string>{"proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9",
                                 "--model", "tcp", "--delayed-close-timeout", "1s"},
        std::vector<std::string>{"proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9",
                                 "--model", "nginx"},
        std::vector<std::string>{"probe", "http://127.0.0.1:443/", "--profile", "chrome"}}) {
    auto p = closewire(args);
    EXPECT_EQ(p->wait_exit(10s), 2) << args[0];
    EXPECT_TRUE(one_line(p->err())) << p->err();
  }
}

TEST(Standalone, SigtermStopsServeCleanly) {
  std::unique_ptr<Process> server;
  const std::string port = start(server, {"serve", "--listen", "127.0.0.1:0", "--close", "none"});
  // One connection left open: the stop must close it and account for it.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect(
      {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))});
  boost::asio::write(
      s, boost::asio::buffer(std::string(
             "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")));
  boost::asio::streambuf head;
  boost::asio::read_until(s, head, "\r\n\r\n");
  server->signal(SIGTERM);
  EXPECT_EQ(server->wait_exit(10s), 0) << server->err();
  EXPECT_NE(server->out().find("closed by the stop"), std::string::npos) << server->out();
  EXPECT_NE(server->out().find("serve: stopped by SIGTERM: 1 connections"), std::string::npos)
      << server->out();
  EXPECT_TRUE(server->err().empty()) << server->err();
}

}  // namespace
}  // namespace closewire::standalone_test
