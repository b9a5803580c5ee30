#include "harness/analysis/key_log_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/capture_builder.h"

namespace closewire {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(ReadKeyLog, MalformedLinesAreWarningsNamingFileAndLine) {
  const std::string path = test::temp_path("garbage.keys");
  write(path, "# comment\n\nCLIENT_RANDOM nothex 00\nCLIENT_TRAFFIC_SECRET_0 " +
                  std::string(64, 'a') + " " + std::string(64, 'b') + "\n");
  wire::TlsKeyLog log;
  const std::vector<std::string> warnings = read_key_log(path, log);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], path + ":3: client random is not 32 bytes of hex");
  EXPECT_EQ(log.sessions(), 1u);
}

TEST(ReadKeyLog, UnreadableFileIsOneLineNamingIt) {
  wire::TlsKeyLog log;
  const std::string missing = test::temp_path("no-such.keys");
  try {
    read_key_log(missing, log);
    FAIL() << "no error";
  } catch (const KeyLogError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(missing + ": cannot read the key log", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_THROW(read_key_log(test::temp_path(""), log), KeyLogError);  // a directory
}

TEST(KeyLogBeside, NameDotKeysNextToTheCapture) {
  const std::string pcap = test::temp_path("beside.pcap");
  const std::string keys = test::temp_path("beside.keys");
  write(pcap, "x");
  std::remove(keys.c_str());
  EXPECT_EQ(key_log_beside(pcap), "");
  write(keys, "");
  EXPECT_EQ(key_log_beside(pcap), keys);
  EXPECT_EQ(key_log_beside(test::temp_path("beside.pcapng")), keys);
  // A capture already named *.keys has no key log beside it: it would be itself.
  EXPECT_EQ(key_log_beside(keys), "");
}

TEST(KeyLogPathFor, TheExtensionReplaced) {
  EXPECT_EQ(key_log_path_for("/tmp/x/ws.pcap"), "/tmp/x/ws.keys");
  EXPECT_EQ(key_log_path_for("ws.1.pcapng"), "ws.1.keys");
  EXPECT_EQ(key_log_path_for("capture"), "capture.keys");
}

}  // namespace
}  // namespace closewire
