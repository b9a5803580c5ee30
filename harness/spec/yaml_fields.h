// Reading typed fields from YAML with errors that name FILE:LINE:COLUMN (expectations, scenarios).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "harness/spec/duration.h"

namespace closewire::yaml {

std::string scalar(const YAML::Node& n, const std::string& file, std::string_view what);
// A map's key as text; a key that is itself a list or map is an error at the key.
std::string key(const YAML::Node& k, const std::string& file);
// A number from 0 to 65535 written in full (a close code, a port), or nothing.
std::optional<std::uint16_t> parse_u16(std::string_view text);
std::uint16_t code(const YAML::Node& n, const std::string& file);
Nanos duration(const YAML::Node& n, const std::string& file, std::string_view what);
bool boolean(const YAML::Node& n, const std::string& file, std::string_view what);
std::uint64_t count(const YAML::Node& n, const std::string& file, std::string_view what);
// Every key of `map` must be one of `allowed`.
void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                const std::string& file, std::string_view what);
// Parses a whole file; a syntax error becomes a SpecError with its position.
YAML::Node load_file(const std::string& path);

}  // namespace closewire::yaml
