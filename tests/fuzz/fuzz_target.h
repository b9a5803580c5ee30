// What every fuzz target shares: libFuzzer's entry point, a scratch file for the loaders that
// read a path, and how a target reports a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

// On a target's checking code (comparisons of results, not the code under test): no coverage
// feedback there, so libFuzzer steers by the harness alone, and none of its cost per run.
#if defined(__clang__)
#define CLOSEWIRE_FUZZ_ORACLE __attribute__((no_sanitize("coverage")))
#else
#define CLOSEWIRE_FUZZ_ORACLE
#endif

// Each *_fuzz_test.cpp defines it; libFuzzer, or standalone_main.cpp over a corpus, calls it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace closewire::fuzz {

// Writes `data` to this process's scratch file (one per suffix, under /dev/shm when there is one,
// removed at exit) and returns its path.
const std::string& input_file(std::span<const std::uint8_t> data, std::string_view suffix);

// A finding: says what on stderr and aborts, so libFuzzer keeps the input as a crash.
[[noreturn]] void finding(const std::string& what);

}  // namespace closewire::fuzz
