// The harness's layering, enforced: harness/meson.build lists the folders lowest first, and a file
// may include only its own folder and the folders before it. tools/ sits above every folder;
// nothing under harness/ includes tools/ or tests/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The folder order from `harness_layers = ['spec', 'wire', ...]` in harness/meson.build.
std::vector<std::string> layers(const fs::path& root) {
  const std::string text = read(root / "harness" / "meson.build");
  const auto start = text.find("harness_layers = [");
  const auto end = text.find(']', start);
  std::vector<std::string> out;
  if (start == std::string::npos || end == std::string::npos) return out;
  const std::string list = text.substr(start, end - start);
  const std::regex name("'([a-z_]+)'");
  for (std::sregex_iterator it(list.begin(), list.end(), name), last; it != last; ++it)
    out.push_back((*it)[1]);
  return out;
}

// One line per include that breaks the order: "harness/wire/x.h:12 includes harness/analysis/..".
std::vector<std::string> violations(const fs::path& root) {
  const auto order = layers(root);
  auto rank = [&](const std::string& folder) -> long {
    for (std::size_t i = 0; i < order.size(); ++i)
      if (order[i] == folder) return static_cast<long>(i);
    return -1;
  };
  const long top = static_cast<long>(order.size());  // tools/
  const std::regex include(R"re(^\s*#\s*include\s*"([a-z_]+)/([a-z_]+)/)re");
  std::vector<std::string> out;
  for (const char* tree : {"harness", "tools"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / tree)) {
      const auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      const fs::path rel = fs::relative(entry.path(), root);
      const std::string top_dir = rel.begin()->string();
      const std::string folder = std::next(rel.begin())->string();
      const long self = top_dir == "tools" ? top : rank(folder);
      if (self < 0) {
        out.push_back(rel.string() + ": folder '" + folder +
                      "' is not in harness_layers (harness/meson.build)");
        continue;
      }
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string where = rel.string() + ":" + std::to_string(n) + " includes " +
                                  m[1].str() + "/" + m[2].str() + "/";
        if (m[1] == "tests" || (m[1] == "tools" && top_dir == "harness")) {
          out.push_back(where + ": harness/ and tools/ never include " + m[1].str() + "/");
        } else if (m[1] == "harness") {
          const long target = rank(m[2]);
          if (target < 0)
            out.push_back(where + ": not a layer");
          else if (target > self)
            out.push_back(where + ": goes up the order (" + order[target] + " is above " +
                          (top_dir == "tools" ? "tools" : folder) + ")");
        }
      }
    }
  }
  return out;
}

struct TempTree {
  fs::path root = fs::temp_directory_path() / ("closewire-layering-" + std::to_string(::getpid()));
  TempTree() {
    fs::remove_all(root);
    fs::create_directories(root / "harness" / "wire");
    fs::create_directories(root / "harness" / "analysis");
    fs::create_directories(root / "tools" / "closewire");
    std::ofstream(root / "harness" / "meson.build") << "harness_layers = ['wire', 'analysis']\n";
  }
  ~TempTree() { fs::remove_all(root); }
  void file(const std::string& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text;
  }
};

TEST(Layering, TheTreeKeepsTheOrder) {
  const fs::path root = CLOSEWIRE_SOURCE_DIR;
  ASSERT_GE(layers(root).size(), 5u) << "harness_layers not found in harness/meson.build";
  std::string all;
  for (const auto& v : violations(root)) all += v + "\n";
  EXPECT_EQ(all, "");
}

TEST(Layering, AnIncludeDownTheOrderIsFine) {
  TempTree t;
  t.file("harness/analysis/a.cpp", "#include \"harness/wire/w.h\"\n#include \"harness/analysis/a.h\"\n");
  t.file("tools/closewire/main.cpp", "#include \"harness/analysis/a.h\"\n");
  EXPECT_TRUE(violations(t.root).empty());
}

TEST(Layering, AnUpwardIncludeIsNamedWithFileAndLine) {
  TempTree t;
  t.file("harness/wire/w.cpp", "// x\n#include \"harness/analysis/a.h\"\n");
  const auto v = violations(t.root);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0],
            "harness/wire/w.cpp:2 includes harness/analysis/: goes up the order (analysis is above "
            "wire)");
}

TEST(Layering, HarnessNeverIncludesToolsOrTests) {
  TempTree t;
  t.file("harness/analysis/a.cpp", "#include \"tools/closewire/x.h\"\n#include \"tests/y/z.h\"\n");
  EXPECT_EQ(violations(t.root).size(), 2u);
}

TEST(Layering, AFolderOutsideTheListIsAnError) {
  TempTree t;
  t.file("harness/extra/e.cpp", "int x;\n");
  const auto v = violations(t.root);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("not in harness_layers"), std::string::npos);
}

}  // namespace
