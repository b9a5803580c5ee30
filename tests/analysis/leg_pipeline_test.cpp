#include "harness/analysis/leg_pipeline.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/capture_builder.h"
#include "tests/support/leg_driver.h"

namespace closewire {
namespace {

using test::bytes_of;

Connection identity(std::uint64_t index) {
  Connection c;
  c.index = index;
  c.server.port = static_cast<std::uint16_t>(1000 + index % 60000);
  return c;
}

struct Handed {
  std::vector<std::uint64_t> indexes;
  std::vector<std::uint16_t> close_codes;  // the server's ws.close code per leg (0: none)
  std::vector<std::thread::id> threads;
};

// `legs` WebSocket legs, each with an upgrade and a server Close carrying 4000 + its index, done
// in reverse order of pairs (1 before 0, 3 before 2, ...) so the pipeline must hold some back.
Handed run_legs(std::uint64_t legs, unsigned decoders) {
  Handed handed;
  LegPipeline pipeline(
      [&](Connection&& c) {
        handed.indexes.push_back(c.index);
        std::uint16_t code = 0;
        for (const Event& e : c.events) {
          if (e.kind == kind::close && e.from == Side::server) code = e.code.value_or(0);
        }
        handed.close_codes.push_back(code);
        handed.threads.push_back(std::this_thread::get_id());
      },
      nullptr, decoders);
  const std::string request = test::upgrade_request();
  const std::string response = test::upgrade_response();
  std::vector<LegPipeline::Feed> feeds;
  feeds.reserve(legs);
  for (std::uint64_t i = 0; i < legs; ++i) {
    pipeline.open(identity(i));
    feeds.emplace_back(pipeline, i);
    const std::string close =
        test::server_frame(0x8, test::close_payload(static_cast<std::uint16_t>(4000 + i), "bye"));
    const Nanos t = static_cast<Nanos>(i) * 1000;
    feeds[i].on_data(Side::client, bytes_of(request), t, 3 * i + 1);
    feeds[i].on_data(Side::server, bytes_of(response), t + 1, 3 * i + 2);
    feeds[i].on_data(Side::server, bytes_of(close), t + 2, 3 * i + 3);
    Event fin = make_event(kind::fin, Side::server, t + 3, 3 * i + 3);
    feeds[i].on_tcp_event(std::move(fin));
    if (i % 2 == 1) {
      pipeline.finish(i, t + 4);
      pipeline.finish(i - 1, t + 4);
    }
  }
  if (legs % 2 == 1) pipeline.finish(legs - 1, 0);
  pipeline.close();
  EXPECT_EQ(pipeline.legs_handed_out(), legs);
  EXPECT_EQ(pipeline.websockets_handed_out(), legs);
  return handed;
}

TEST(LegPipeline, ASmallCaptureIsDecodedOnTheCallersThreadInStartOrder) {
  const Handed handed = run_legs(5, 2);
  ASSERT_EQ(handed.indexes, (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(handed.close_codes, (std::vector<std::uint16_t>{4000, 4001, 4002, 4003, 4004}));
  for (const auto& id : handed.threads) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(LegPipeline, ManyBatchesGoThroughTheThreadsInStartOrderWithTheirOwnBytes) {
  // Six messages per leg: enough legs for several batches per decoder and a full queue.
  const std::uint64_t legs = LegPipeline::kBatchMessages * LegPipeline::kMaxBatches;
  for (const unsigned decoders : {1u, 3u}) {
    SCOPED_TRACE(decoders);
    const Handed handed = run_legs(legs, decoders);
    ASSERT_EQ(handed.indexes.size(), legs);
    for (std::uint64_t i = 0; i < legs; ++i) {
      ASSERT_EQ(handed.indexes[i], i);
      ASSERT_EQ(handed.close_codes[i], static_cast<std::uint16_t>(4000 + i)) << "leg " << i;
    }
    EXPECT_NE(handed.threads.back(), std::this_thread::get_id());
  }
}

TEST(LegPipeline, WhatTheSinkThrowsReachesTheReader) {
  for (const std::uint64_t legs : {std::uint64_t{3}, 4 * LegPipeline::kBatchMessages}) {
    LegPipeline pipeline([](Connection&&) { throw std::runtime_error("sink full"); }, nullptr, 2);
    try {
      for (std::uint64_t i = 0; i < legs; ++i) {
        pipeline.open(identity(i));
        pipeline.finish(i, 0);
      }
      pipeline.close();
      ADD_FAILURE() << "no exception with " << legs << " legs";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "sink full");
    }
  }
}

TEST(LegPipeline, AMalformedSecretsLineIsPassedOver) {
  // (That secrets reach the legs after them is checked end to end with a pcapng's Decryption
  // Secrets Block: leg_builder_tls_test, TlsLeg.PcapngDecryptionSecretsBlockIsUsed.)
  LegPipeline pipeline([](Connection&&) {}, nullptr, 2);
  pipeline.add_secrets("CLIENT_RANDOM 00 11\n");
  pipeline.open(identity(0));
  pipeline.finish(0, 0);
  EXPECT_NO_THROW(pipeline.close());
  EXPECT_EQ(pipeline.legs_handed_out(), 1u);
  EXPECT_EQ(pipeline.websockets_handed_out(), 0u);
}

}  // namespace
}  // namespace closewire
