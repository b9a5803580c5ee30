// A scenario file (harness/scenario/scenario.h load_scenario) from any bytes: a SpecError naming
// the place is the expected way to refuse it; any other exception, a crash or a sanitizer report
// is a finding. What loads must name its chain consistently.
#include <cstdint>
#include <exception>
#include <string>

#include "harness/scenario/scenario.h"
#include "harness/spec/spec_error.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace closewire;
  const std::string& path = fuzz::input_file({data, size}, ".yaml");
  try {
    const Scenario s = load_scenario(path);
    if (s.leg_names().size() + 1 != s.chain().size()) {
      fuzz::finding("a chain of " + std::to_string(s.chain().size()) + " endpoints with " +
                    std::to_string(s.leg_names().size()) + " legs");
    }
  } catch (const SpecError&) {
  } catch (const std::exception& e) {
    fuzz::finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
