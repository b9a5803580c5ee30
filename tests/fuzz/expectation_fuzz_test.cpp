// An expectation file (harness/expect/expectation.h load_expectations) from any bytes: a
// SpecError naming the place is the expected way to refuse it; any other exception, a crash or a
// sanitizer report is a finding.
#include <cstdint>
#include <exception>
#include <string>

#include "harness/expect/expectation.h"
#include "harness/spec/spec_error.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace closewire;
  const std::string& path = fuzz::input_file({data, size}, ".expect.yaml");
  try {
    for (const Expectation& e : load_expectations(path)) {
      if (e.where.rfind(path, 0) != 0) fuzz::finding("an expectation placed at '" + e.where + "'");
    }
  } catch (const SpecError&) {
  } catch (const std::exception& e) {
    fuzz::finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
