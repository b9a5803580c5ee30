#include "harness/wire/close_payload.h"

#include <gtest/gtest.h>

#include <string>

namespace closewire::wire {
namespace {

using Status = ClosePayload::Status;

TEST(ClosePayload, EmptyIsNoStatus1005) {
  const auto p = parse_close_payload("");
  EXPECT_EQ(p.status, Status::no_status);
  ASSERT_TRUE(p.code.has_value());
  EXPECT_EQ(*p.code, 1005);
  EXPECT_TRUE(p.reason.empty());
}

TEST(ClosePayload, OneByteIsMalformedWithoutCode) {
  const auto p = parse_close_payload(std::string("\x03", 1));
  EXPECT_EQ(p.status, Status::malformed);
  EXPECT_FALSE(p.code.has_value());
}

TEST(ClosePayload, CodeAndReason) {
  const auto p = parse_close_payload("\x10\xe1test");  // 4321
  EXPECT_EQ(p.status, Status::ok);
  ASSERT_TRUE(p.code.has_value());
  EXPECT_EQ(*p.code, 4321);
  EXPECT_EQ(p.reason, "test");
}

TEST(ClosePayload, CodeOnly) {
  const auto p = parse_close_payload("\x03\xe8");
  EXPECT_EQ(p.status, Status::ok);
  EXPECT_EQ(p.code, 1000);
  EXPECT_EQ(p.reason, "");
}

TEST(ClosePayload, InvalidCodesAreFlaggedButReported) {
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    SCOPED_TRACE(code);
    const auto p = parse_close_payload(encode_close_payload(code, "r"));
    EXPECT_EQ(p.status, Status::invalid_code);
    EXPECT_EQ(p.code, code);
    EXPECT_EQ(p.reason, "r");
  }
}

TEST(ClosePayload, ValidCodeRanges) {
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1010, 1011, 1014, 3000, 4000, 4999}) {
    SCOPED_TRACE(code);
    EXPECT_TRUE(is_valid_close_code(code));
    EXPECT_EQ(parse_close_payload(encode_close_payload(code)).status, Status::ok);
  }
  for (std::uint16_t code : {999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    EXPECT_FALSE(is_valid_close_code(code)) << code;
  }
}

TEST(ClosePayload, InvalidUtf8ReasonIsFlagged) {
  const auto p = parse_close_payload("\x03\xe8\xff\xfe");
  EXPECT_EQ(p.status, Status::invalid_utf8);
  EXPECT_EQ(p.code, 1000);
  EXPECT_EQ(p.reason, "\xff\xfe");
}

TEST(ClosePayload, InvalidCodeTakesPrecedenceOverInvalidUtf8) {
  EXPECT_EQ(parse_close_payload("\x07\xd0\xc0\x80").status, Status::invalid_code);
}

TEST(ClosePayload, Utf8ValidatorAcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii, long enough to take the 8-byte path"));
  EXPECT_TRUE(is_valid_utf8("\xc2\x80"));          // U+0080
  EXPECT_TRUE(is_valid_utf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xe0\xa0\x80"));      // U+0800
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));      // U+E000
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xf0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(
      is_valid_utf8("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));  // NUL is a valid code point
}

TEST(ClosePayload, Utf8ValidatorRejectsIllFormed) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x9f\xbf"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));  // overlong 4-byte
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // U+DFFF surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));  // lead byte beyond F4
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));                    // truncated 2-byte
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));                // truncated 3-byte
  EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));            // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xf0\x90\x80\x28"));        // bad last continuation
  EXPECT_FALSE(is_valid_utf8("ascii ascii ascii \xce"));  // truncated after the fast path
}

TEST(ClosePayload, EncodeRoundTrips) {
  EXPECT_EQ(encode_close_payload(std::nullopt, "ignored"), "");
  EXPECT_EQ(encode_close_payload(1000), std::string("\x03\xe8", 2));
  EXPECT_EQ(encode_close_payload(4321, "test"), "\x10\xe1test");
  const auto p = parse_close_payload(encode_close_payload(1001, "going away"));
  EXPECT_EQ(p.code, 1001);
  EXPECT_EQ(p.reason, "going away");
}

TEST(ClosePayload, StatusNames) {
  EXPECT_EQ(to_string(Status::ok), "ok");
  EXPECT_EQ(to_string(Status::no_status), "no_status");
  EXPECT_EQ(to_string(Status::malformed), "malformed");
  EXPECT_EQ(to_string(Status::invalid_code), "invalid_code");
  EXPECT_EQ(to_string(Status::invalid_utf8), "invalid_utf8");
}

}  // namespace
}  // namespace closewire::wire
