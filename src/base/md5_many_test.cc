#include "base/md5_many.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/digest.h"

namespace coroner {
namespace {

std::string hex(const Md5Digest& d) { return hex_lower(d); }

std::string openssl_md5(std::span<const std::byte> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &n, EVP_md5(), nullptr), 1);
  return hex_lower(std::span<const unsigned char>(md, n));
}

// Messages made of pieces cut from one owned buffer each.
struct Batch {
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::vector<std::span<const std::byte>>> pieces;
  std::vector<Md5Message> messages;

  void add(std::vector<std::byte> b, const std::vector<size_t>& cuts) {
    bytes.push_back(std::move(b));
    pieces.emplace_back();
    size_t at = 0;
    for (size_t cut : cuts) {
      size_t n = std::min(cut, bytes.back().size() - at);
      pieces.back().push_back(std::span(bytes.back()).subspan(at, n));
      at += n;
    }
    pieces.back().push_back(std::span(bytes.back()).subspan(at));
  }
  std::vector<Md5Digest> run(Md5Kernel kernel) {
    messages.clear();
    for (const auto& p : pieces) messages.emplace_back(p);
    std::vector<Md5Digest> out(messages.size());
    md5_many(messages, out, kernel);
    return out;
  }
};

class Md5ManyTest : public ::testing::TestWithParam<Md5Kernel> {};

TEST_P(Md5ManyTest, Rfc1321Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  Batch batch;
  for (const auto& [text, md5] : vectors) {
    auto b = as_bytes(text);
    batch.add(std::vector<std::byte>(b.begin(), b.end()), {});
  }
  std::vector<Md5Digest> out = batch.run(GetParam());
  for (size_t i = 0; i < vectors.size(); ++i) EXPECT_EQ(hex(out[i]), vectors[i].second) << i;
}

// Every length around the padding's edges (55, 56, 63, 64...), each message cut into pieces
// at random places (empty pieces included), in one batch with long messages so that lanes
// refill and the last ones finish on the scalar code.
TEST_P(Md5ManyTest, AgreesWithOpenSslOnRandomBatches) {
  std::mt19937_64 rng(20261129);
  for (int round = 0; round < 4; ++round) {
    Batch batch;
    std::vector<size_t> lengths;
    for (size_t n = 0; n <= 300; ++n) lengths.push_back(n);
    for (int i = 0; i < 12; ++i) lengths.push_back(rng() % 200000);
    lengths.push_back(1 << 20);
    std::shuffle(lengths.begin(), lengths.end(), rng);
    for (size_t n : lengths) {
      std::vector<std::byte> b(n);
      for (auto& x : b) x = static_cast<std::byte>(rng());
      std::vector<size_t> cuts;
      for (int c = static_cast<int>(rng() % 4); c > 0; --c) cuts.push_back(rng() % (n + 1));
      batch.add(std::move(b), cuts);
    }
    std::vector<Md5Digest> out = batch.run(GetParam());
    for (size_t i = 0; i < out.size(); ++i)
      ASSERT_EQ(hex(out[i]), openssl_md5(batch.bytes[i]))
          << "round " << round << ", length " << batch.bytes[i].size();
  }
}

TEST_P(Md5ManyTest, FewerMessagesThanLanes) {
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{17}}) {
    Batch batch;
    for (size_t i = 0; i < count; ++i)
      batch.add(std::vector<std::byte>(1000 * i + 7, std::byte{static_cast<unsigned char>(i)}),
                {64, 64});
    std::vector<Md5Digest> out = batch.run(GetParam());
    ASSERT_EQ(out.size(), count);
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(hex(out[i]), openssl_md5(batch.bytes[i]));
  }
}

// Messages added one at a time, as a layer's files come: lengths around the padding's edges,
// long ones that ride in their lanes past many short ones (and past kReleaseStep), and fewer
// messages than lanes at the end. Each digest comes once, and `release` hands back every byte
// of each message exactly once, in order.
TEST_P(Md5ManyTest, LanesAgreeWithOpenSslAndReleaseEachByteOnce) {
  std::mt19937_64 rng(20261130);
  for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{400}}) {
    std::vector<std::vector<std::byte>> bytes;
    for (size_t i = 0; i < count; ++i) {
      size_t n = i % 50 == 7 ? (9 << 20) + rng() % 1000 : i < 130 ? i : rng() % 300000;
      std::vector<std::byte> b(n);
      for (auto& x : b) x = static_cast<std::byte>(rng());
      bytes.push_back(std::move(b));
    }
    std::vector<std::string> got(count);
    std::vector<uint64_t> released(count);
    std::vector<bool> reported(count);
    auto owner = [&](const std::byte* p) {
      for (size_t i = 0; i < count; ++i)
        if (!bytes[i].empty() && p >= bytes[i].data() && p < bytes[i].data() + bytes[i].size())
          return i;
      return count;
    };
    Md5Lanes lanes(
        [&](size_t id, const Md5Digest& d) {
          ASSERT_LT(id, count);
          EXPECT_TRUE(got[id].empty()) << id;
          got[id] = hex(d);
        },
        [&](std::span<const std::byte> part) {
          ASSERT_FALSE(part.empty());
          size_t i = owner(part.data());
          ASSERT_LT(i, count);
          EXPECT_EQ(part.data(), bytes[i].data() + released[i]) << i;  // in order, no gap
          EXPECT_FALSE(reported[i]) << i;
          released[i] += part.size();
          if (released[i] == bytes[i].size()) reported[i] = true;
        },
        GetParam());
    for (size_t i = 0; i < count; ++i) lanes.add(i, bytes[i]);
    lanes.finish();
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(got[i], openssl_md5(bytes[i])) << "message " << i << ", " << bytes[i].size();
      EXPECT_EQ(released[i], bytes[i].size()) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, Md5ManyTest, ::testing::ValuesIn(md5_kernels()),
                         [](const auto& p) { return std::string(md5_kernel_name(p.param)); });

TEST(Md5ScalarTest, OneMessage) {
  EXPECT_EQ(hex(md5_scalar(as_bytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5KernelsTest, BestIsTheWidest) {
  EXPECT_EQ(best_md5_kernel(), md5_kernels().back());
  EXPECT_EQ(md5_kernels().front(), Md5Kernel::kScalar);
}

}  // namespace
}  // namespace coroner
