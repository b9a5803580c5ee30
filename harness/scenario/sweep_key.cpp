#include "harness/scenario/sweep_key.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace closewire {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

[[noreturn]] void bad(const std::string& why) {
  throw std::invalid_argument(why);
}

// The items of `list` that `index` names: a number, "*" (all) or a `name:`.
std::vector<std::size_t> items(const YAML::Node& list, const std::string& index,
                               const std::string& where) {
  std::vector<std::size_t> out;
  if (index == "*") {
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(i);
    if (out.empty()) bad(fmt::format("'{}' is an empty list: [*] sets nothing", where));
    return out;
  }
  if (std::isdigit(static_cast<unsigned char>(index[0]))) {
    const std::size_t i = std::stoul(index);
    if (i >= list.size()) bad(fmt::format("'{}' has {} items: no [{}]", where, list.size(), index));
    return {i};
  }
  std::vector<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) continue;
    if (item["name"].Scalar() == index) out.push_back(i);
    names.push_back(item["name"].Scalar());
  }
  if (out.empty()) {
    bad(fmt::format("no item named '{}' in '{}' (names: {})", index, where,
                    names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  }
  return out;
}

void set_at(YAML::Node node, const SweepKey& key, std::size_t seg, const std::string& where,
            const YAML::Node& value) {
  const SweepKeySegment& s = key.segments[seg];
  const std::string here = where.empty() ? s.name : where + "." + s.name;
  if (!node.IsMap()) bad(fmt::format("'{}' is not a map: it has no '{}'", where, s.name));
  const bool last = seg + 1 == key.segments.size();
  if (s.indices.empty()) {
    if (last) {
      node[s.name] = value;
      return;
    }
    if (!node[s.name]) node[s.name] = YAML::Node(YAML::NodeType::Map);
    set_at(node[s.name], key, seg + 1, here, value);
    return;
  }
  if (!node[s.name]) bad(fmt::format("the scenario has no '{}'", here));
  // Walk the indices: each one selects items of a list, the last one is set or descended into.
  std::vector<YAML::Node> at{node[s.name]};
  std::string path = here;
  for (std::size_t k = 0; k < s.indices.size(); ++k) {
    std::vector<YAML::Node> next;
    for (const auto& list : at) {
      if (!list.IsSequence()) bad(fmt::format("'{}' is not a list: no [{}]", path, s.indices[k]));
      const bool end = k + 1 == s.indices.size();
      for (std::size_t i : items(list, s.indices[k], path)) {
        if (end && last) {
          YAML::Node l = list;
          l[i] = value;
        } else {
          next.push_back(list[i]);
        }
      }
    }
    path += "[" + s.indices[k] + "]";
    at = std::move(next);
  }
  if (!last) {
    for (auto& n : at) set_at(n, key, seg + 1, path, value);
  }
}

}  // namespace

SweepKey parse_sweep_key(const std::string& text) {
  SweepKey key{text, {}};
  std::size_t i = 0;
  const auto expect_name = [&] {
    const std::size_t start = i;
    while (i < text.size() && name_char(text[i])) ++i;
    if (i == start) {
      bad(i < text.size()
              ? fmt::format("'{}' at column {} is not part of a key name", text[i], i + 1)
              : "a key ends in a name (e.g. client.profile)");
    }
    return text.substr(start, i - start);
  };
  while (true) {
    SweepKeySegment seg{expect_name(), {}};
    while (i < text.size() && text[i] == '[') {
      const std::size_t close = text.find(']', i);
      if (close == std::string::npos) bad("a '[' without its ']'");
      const std::string index = text.substr(i + 1, close - i - 1);
      const bool number =
          !index.empty() && index.find_first_not_of("0123456789") == std::string::npos;
      const bool name = !index.empty() && std::all_of(index.begin(), index.end(), name_char);
      if (index != "*" && !number && !name)
        bad(fmt::format("[{}] is not an index: a number, * or an item's name", index));
      if (number && index.size() > 6) bad(fmt::format("[{}] is not a list index", index));
      seg.indices.push_back(index);
      i = close + 1;
    }
    key.segments.push_back(std::move(seg));
    if (i == text.size()) break;
    if (text[i] != '.')
      bad(fmt::format("'{}' at column {}: parts of a key are joined by '.'", text[i], i + 1));
    ++i;
  }
  return key;
}

void set_sweep_key(YAML::Node root, const SweepKey& key, const YAML::Node& value) {
  if (key.segments.empty()) bad("an empty key");
  set_at(root, key, 0, "", value);
}

}  // namespace closewire
