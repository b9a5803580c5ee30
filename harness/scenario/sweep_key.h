// A sweep key: a path into a scenario file ("proxies[gateway].latency", "proxies[*].latency",
// "server.on_open[0].close.code", "client.profile"), and setting it in the file's YAML tree.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace closewire {

struct SweepKeySegment {
  std::string name;                  // a map key
  std::vector<std::string> indices;  // [0], [*], [gateway] (the list item whose name it is)
};

struct SweepKey {
  std::string text;  // as written
  std::vector<SweepKeySegment> segments;
};

// Parses a key; throws std::invalid_argument saying what is wrong with it.
SweepKey parse_sweep_key(const std::string& text);

// Sets every place `key` names in `root` to `value` (the node itself, so that an error in it
// points into the sweep block). A missing map key is created (the loader then says whether the
// scenario may have it); a missing list, item or name is an error: throws std::invalid_argument
// naming the part of the key that does not exist.
void set_sweep_key(YAML::Node root, const SweepKey& key, const YAML::Node& value);

}  // namespace closewire
