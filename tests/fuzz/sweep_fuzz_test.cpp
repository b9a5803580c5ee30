// A sweep file (harness/scenario/sweep.h load_sweep) from any bytes: a SpecError naming the place
// is the expected way to refuse it; any other exception, a crash or a sanitizer report is a
// finding. A loaded sweep's points must match its dimensions.
#include <cstdint>
#include <exception>
#include <string>

#include "harness/scenario/sweep.h"
#include "harness/spec/spec_error.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace closewire;
  const std::string& path = fuzz::input_file({data, size}, ".sweep.yaml");
  SweepOptions options;
  options.max_points = 64;  // every point is a whole scenario parse; the limit's check is the same
  try {
    const Sweep sweep = load_sweep(path, options);
    std::size_t product = 1;
    for (const SweepDimension& d : sweep.dimensions) product *= d.values.size();
    if (sweep.total_points != product || sweep.points.size() != product) {
      fuzz::finding("a sweep of " + std::to_string(sweep.points.size()) + " points (" +
                    std::to_string(sweep.total_points) + " in all) over " +
                    std::to_string(product) + " combinations");
    }
    for (const SweepPoint& p : sweep.points) {
      if (p.value_of.size() != sweep.dimensions.size())
        fuzz::finding("a point with " + std::to_string(p.value_of.size()) + " values");
    }
  } catch (const SpecError&) {
  } catch (const std::exception& e) {
    fuzz::finding(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
