#include "harness/spec/yaml_fields.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <fstream>

#include "harness/spec/duration.h"
#include "harness/spec/spec_error.h"

namespace closewire::yaml {

std::string scalar(const YAML::Node& n, const std::string& file, std::string_view what) {
  if (!n.IsScalar()) throw_spec_error(file, n, fmt::format("{} must be a single value", what));
  return n.Scalar();
}

std::string key(const YAML::Node& k, const std::string& file) {
  if (!k.IsScalar()) throw_spec_error(file, k, "a key must be a single word, not a list or map");
  return k.Scalar();
}

std::optional<std::uint16_t> parse_u16(std::string_view text) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

std::uint16_t code(const YAML::Node& n, const std::string& file) {
  const std::string s = scalar(n, file, "code");
  const auto v = parse_u16(s);
  if (!v) throw_spec_error(file, n, fmt::format("code '{}' is not a number from 0 to 65535", s));
  return *v;
}

std::uint64_t count(const YAML::Node& n, const std::string& file, std::string_view what) {
  const std::string s = scalar(n, file, what);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    throw_spec_error(file, n, fmt::format("{} '{}' is not a whole number", what, s));
  }
  return v;
}

Nanos duration(const YAML::Node& n, const std::string& file, std::string_view what) {
  auto d = parse_duration(scalar(n, file, what));
  if (!d)
    throw_spec_error(file, n,
                     fmt::format("{} '{}' is not a duration like 2s or 250ms", what, n.Scalar()));
  return *d;
}

bool boolean(const YAML::Node& n, const std::string& file, std::string_view what) {
  const std::string s = scalar(n, file, what);
  if (s == "true") return true;
  if (s == "false") return false;
  throw_spec_error(file, n, fmt::format("{} must be true or false", what));
}

void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                const std::string& file, std::string_view what) {
  for (const auto& kv : map) {
    const std::string name = key(kv.first, file);
    bool ok = false;
    for (auto a : allowed) ok = ok || a == name;
    if (!ok) {
      throw_spec_error(
          file, kv.first,
          fmt::format("unknown key '{}' in {} (allowed: {})", name, what, fmt::join(allowed, ", ")));
    }
  }
}

YAML::Node load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SpecError(fmt::format("{}: cannot read the file", path));
  try {
    return YAML::Load(in);
  } catch (const YAML::Exception& e) {
    throw_spec_error(path, e.mark, e.msg);
  }
}

}  // namespace closewire::yaml
