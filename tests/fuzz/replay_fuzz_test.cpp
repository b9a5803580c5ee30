// A capture file, pcap or pcapng, through what `closewire replay --json` does with it: the packet
// source, the analyzer, legs handed to the JSON stream (chains stitched and diagnosed on its
// threads), and the chains `--expect` and `--html` find among all the legs. A CaptureError is an
// expected outcome; any other exception, a crash, a sanitizer report, or output that is not one
// JSON object is a finding.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/chain.h"
#include "harness/analysis/diagnosis.h"
#include "harness/report/json_report.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using namespace closewire;
using closewire::fuzz::finding;

// The JSON text the stream wrote.
std::string replay_json(const std::string& path, std::vector<Connection>& legs) {
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  if (out == nullptr) finding("open_memstream failed");
  {
    report::JsonStream json(out);
    json.begin();
    json.begin_capture(path);
    try {
      const CaptureSummary summary = analyze_capture(path, [&](Connection&& leg) {
        legs.push_back(leg);
        json.connection(std::move(leg));
      });
      json.end_capture(summary, nullptr);
    } catch (const CaptureError& e) {
      json.end_capture_with_error(e.what());
    }
    json.end();
  }
  std::fclose(out);
  std::string result(text, size);
  std::free(text);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = fuzz::input_file({data, size}, ".capture");
  try {
    std::vector<Connection> legs;
    const std::string json = replay_json(path, legs);
    if (!nlohmann::json::accept(json)) finding("replay --json wrote no valid JSON: " + json);
    for (const Chain& chain : find_chains(legs)) {
      for (std::size_t leg : chain.legs) {
        if (leg >= legs.size()) finding("a chain names leg " + std::to_string(leg));
      }
      (void)diagnose(legs, chain);
    }
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
