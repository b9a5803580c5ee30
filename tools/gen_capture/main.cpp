// closewire-gen-capture: writes a synthetic capture of many WebSocket connections (benchmarks,
// tests, comparisons with tshark).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "harness/analysis/key_log_file.h"
#include "harness/spec/duration.h"
#include "tools/gen_capture/generator.h"

int main(int argc, char** argv) {
  using namespace closewire;
  CLI::App app{
      "closewire-gen-capture: write a pcap of N WebSocket connections over loopback, each closed\n"
      "the way one of the seed scenarios closes (clean, RST after or before the Close reply,\n"
      "client timeout after 2 s, Close without status code)"};
  app.set_version_flag("--version", "closewire-gen-capture 0.1.0");
  gen::GeneratorOptions options;
  std::string out;
  std::string spacing = "1ms";
  bool quiet = false;
  app.add_option("-n,--connections", options.connections, "Number of connections")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  app.add_option("-o,--out", out, "Capture file to write (classic pcap, Ethernet)")->required();
  app.add_option("--packets-per-connection", options.packets_per_connection,
                 "About this many packets per connection (at least ~12: handshakes and close)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 20000u));
  app.add_option("--seed", options.seed, "Seed: same seed, same capture (and close patterns)")
      ->capture_default_str();
  app.add_option("--spacing", spacing, "Time between two connections' SYNs (1ms, 250us, ...)")
      ->capture_default_str();
  app.add_flag("--tls", options.tls,
               "Every connection over TLS 1.3 (TLS_AES_128_GCM_SHA256), its secrets in NAME.keys\n"
               "beside --out NAME.pcap, where closewire replay finds them");
  app.add_flag("--h2", options.h2,
               "Every WebSocket over HTTP/2 (RFC 8441: extended CONNECT, frames in DATA) over\n"
               "TLS 1.3 (implies --tls); streams end as HAProxy ends them");
  app.add_flag("-q,--quiet", quiet, "Print nothing on success");
  app.footer(
      "Prints one line: connections, packets, bytes, capture duration. Exit status: 0 ok, 2 bad\n"
      "arguments or the file cannot be written.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "closewire-gen-capture: %s (try --help)\n", e.what());
    return 2;
  }
  const auto bad_spacing = [&] {
    std::fprintf(stderr,
                 "closewire-gen-capture: --spacing: '%s' is not a duration of at least 1us "
                 "(try --help)\n",
                 spacing.c_str());
    return 2;
  };
  const auto parsed = parse_duration(spacing);
  if (!parsed || *parsed < 1000) return bad_spacing();  // 1 us
  options.spacing = *parsed;
  try {
    const auto begin = std::chrono::steady_clock::now();
    const gen::GeneratorStats stats = gen::generate_capture(options, out);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (!quiet) {
      std::printf(
          "%s: %llu connections, %llu packets, %llu bytes, %.3f s of capture time (%.2f s)%s\n",
          out.c_str(), static_cast<unsigned long long>(stats.connections),
          static_cast<unsigned long long>(stats.packets),
          static_cast<unsigned long long>(stats.bytes),
          static_cast<double>(stats.duration) / kNanosPerSecond, seconds,
          options.tls || options.h2 ? ("; TLS keys in " + key_log_path_for(out)).c_str() : "");
    }
  } catch (const std::invalid_argument& e) {
    // generate_capture checks the options before it writes anything: what is left for it after
    // the checks above is a --out that is its own key log's name.
    std::fprintf(stderr, "closewire-gen-capture: %s (try --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire-gen-capture: %s\n", e.what());
    return 2;
  }
  return 0;
}
