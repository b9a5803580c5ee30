#include "harness/analysis/read_tap.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "tests/support/capture_builder.h"

namespace closewire {
namespace {

std::string bytes_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + i / 251);
  return s;
}

TEST(ReadTap, TheTapSeesEveryByteReadInOrder) {
  const std::string path = test::temp_path("tap.bin");
  const std::string content = bytes_of(300'000);
  std::ofstream(path, std::ios::binary) << content;
  std::string tapped;
  std::FILE* file =
      open_tapped(::open(path.c_str(), O_RDONLY), true,
                  [&](std::span<const std::uint8_t> b) { tapped.append(b.begin(), b.end()); });
  ASSERT_NE(file, nullptr);
  std::setvbuf(file, nullptr, _IOFBF, 4096);
  std::string read(content.size(), '\0');
  ASSERT_EQ(std::fread(read.data(), 1, 1000, file), 1000u);
  // What the stream has read ahead so far, no more than that.
  EXPECT_GE(tapped.size(), 1000u);
  EXPECT_LT(tapped.size(), content.size());
  EXPECT_EQ(tapped, content.substr(0, tapped.size()));
  ASSERT_EQ(std::fread(read.data() + 1000, 1, content.size() - 1000, file), content.size() - 1000);
  EXPECT_EQ(std::fgetc(file), EOF);
  EXPECT_EQ(read, content);
  EXPECT_EQ(tapped, content);
  EXPECT_EQ(std::fclose(file), 0);
}

TEST(ReadTap, ClosesTheDescriptorOnlyWhenItOwnsIt) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "abc", 3), 3);
  ::close(fds[1]);
  std::size_t seen = 0;
  std::FILE* borrowed = open_tapped(fds[0], false, [&](auto b) { seen += b.size(); });
  ASSERT_NE(borrowed, nullptr);
  char c[4] = {};
  EXPECT_EQ(std::fread(c, 1, 4, borrowed), 3u);
  EXPECT_EQ(seen, 3u);
  std::fclose(borrowed);
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), 0) << "a borrowed descriptor stays open";

  std::FILE* owned = open_tapped(fds[0], true, [](auto) {});
  ASSERT_NE(owned, nullptr);
  std::fclose(owned);
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace closewire
