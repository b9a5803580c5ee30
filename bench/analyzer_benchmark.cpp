// Throughput of analyze_capture over synthetic captures (tools/gen_capture): packets/s and
// bytes/s of capture file, with the legs handed to a sink that only counts them.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include "harness/analysis/analyzer.h"
#include "tools/gen_capture/generator.h"

namespace closewire {
namespace {

// A temporary directory holding the generated captures, removed when the program exits.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "closewire-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Capture {
  std::string path;
  gen::GeneratorStats stats;
};

// Generated once per connection count, on first use.
const Capture& capture_for(std::uint64_t connections) {
  static TempDir dir;
  static std::map<std::uint64_t, Capture> captures;
  auto it = captures.find(connections);
  if (it == captures.end()) {
    gen::GeneratorOptions options;
    options.connections = connections;
    Capture c;
    c.path = (dir.path() / ("ws-" + std::to_string(connections) + ".pcap")).string();
    c.stats = gen::generate_capture(options, c.path);
    it = captures.emplace(connections, std::move(c)).first;
  }
  return it->second;
}

void BM_AnalyzeCapture(benchmark::State& state) {
  const Capture& capture = capture_for(static_cast<std::uint64_t>(state.range(0)));
  std::uint64_t legs = 0, events = 0, websockets = 0;
  for (auto _ : state) {
    const CaptureSummary summary = analyze_capture(capture.path, [&](Connection&& leg) {
      ++legs;
      events += leg.events.size();
      benchmark::DoNotOptimize(leg.events.data());
    });
    websockets += summary.websockets;
  }
  if (legs != capture.stats.connections * state.iterations() || websockets != legs) {
    state.SkipWithError("analyze_capture did not find every WebSocket leg");
  }
  const auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(capture.stats.packets));
  state.SetBytesProcessed(iterations * static_cast<std::int64_t>(capture.stats.bytes));
  state.counters["packets"] = static_cast<double>(capture.stats.packets);
  state.counters["events/leg"] =
      legs ? static_cast<double>(events) / static_cast<double>(legs) : 0.0;
}
BENCHMARK(BM_AnalyzeCapture)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// The generator itself, for scale: how fast the captures above are written.
void BM_GenerateCapture(benchmark::State& state) {
  TempDir dir;
  gen::GeneratorOptions options;
  options.connections = static_cast<std::uint64_t>(state.range(0));
  const std::string path = (dir.path() / "gen.pcap").string();
  gen::GeneratorStats stats;
  for (auto _ : state) stats = gen::generate_capture(options, path);
  const auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(stats.packets));
  state.SetBytesProcessed(iterations * static_cast<std::int64_t>(stats.bytes));
}
BENCHMARK(BM_GenerateCapture)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace closewire

BENCHMARK_MAIN();
