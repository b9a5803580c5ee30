#include "harness/real/config_template.h"

#include <gtest/gtest.h>

namespace closewire::real {
namespace {

TEST(ConfigTemplate_Render, FillsPlaceholdersAndKeepsConfigBraces) {
  const std::string text =
      "events { worker_connections 64; }\nlisten {listen_address};\nmap $x $y { '' close; }\n";
  EXPECT_EQ(render_template(text, {{"listen_address", "127.0.0.1:80"}}, "t"),
            "events { worker_connections 64; }\nlisten 127.0.0.1:80;\nmap $x $y { '' close; }\n");
}

TEST(ConfigTemplate_Render, UnknownPlaceholderNamesTheTemplate) {
  try {
    render_template("port {nope}", {}, "nginx.conf.in");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "nginx.conf.in: no value for the placeholder {nope}");
  }
}

TEST(ConfigTemplate_Render, NestedYamlBracesKeepTheirPlaceholders) {
  EXPECT_EQ(render_template("{ address: {listen_host}, port_value: {listen_port} }",
                            {{"listen_host", "::1"}, {"listen_port", "9"}}, "t"),
            "{ address: ::1, port_value: 9 }");
}

TEST(ConfigTemplate_Render, PlaceholdersMayHoldDigitsButNotStartWithOne) {
  EXPECT_EQ(render_template("{h2_workaround} x{2}", {{"h2_workaround", "on"}}, "t"), "on x{2}");
}

}  // namespace
}  // namespace closewire::real
