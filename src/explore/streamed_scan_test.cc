// scan_streamed: layers of a streamed source arrive in any order and are placed by diff_id.
#include <gtest/gtest.h>

#include <map>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "explore/open_image.h"
#include "testing/layer_builder.h"

namespace coroner::explore {
namespace {

using testing::LayerBuilder;

// Hands out `order` (member name, tar) one by one; the image lists `tars` bottom first.
class StreamedSource : public image::ImageSource {
 public:
  StreamedSource(const std::vector<std::string>& tars,
                 std::vector<std::pair<std::string, std::string>> order)
      : order_(std::move(order)) {
    for (const std::string& t : tars) {
      image::LayerDesc d;
      d.diff_id = sha256_digest(as_bytes(t));
      info_.layers.push_back(d);
      info_.config.diff_ids.push_back(d.diff_id);
      blobs_.push_back(t);
    }
    info_.has_config = true;
  }
  const image::ImageInfo& info() const override { return info_; }
  bool streamed() const override { return true; }
  std::optional<image::StreamedLayer> next_streamed_layer() const override {
    if (next_ == order_.size()) return std::nullopt;
    const auto& [name, tar] = order_[next_++];
    return image::StreamedLayer{open_memory_stream(as_bytes(tar), name), name};
  }
  void streamed_layer_is(const std::string& member, size_t index) const override {
    identified[member] = index;
  }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    ++reopened;
    return open_memory_stream(as_bytes(blobs_[index]), "again");
  }

  mutable std::map<std::string, size_t> identified;
  mutable int reopened = 0;

 private:
  image::ImageInfo info_;
  std::vector<std::string> blobs_;
  std::vector<std::pair<std::string, std::string>> order_;
  mutable size_t next_ = 0;
};

std::vector<std::string> three_layers() {
  return {LayerBuilder().file("a", "base").tar(), LayerBuilder().file("b", "middle").tar(),
          LayerBuilder().file("c", "top").tar()};
}

TEST(StreamedScanTest, PlacesLayersByDiffIdWhateverTheOrder) {
  auto t = three_layers();
  StreamedSource s(t, {{"ccc/layer.tar", t[2]}, {"aaa/layer.tar", t[0]}, {"bbb/layer.tar", t[1]}});
  std::vector<scan::LayerIndex> out = scan_streamed(s, {});
  ASSERT_EQ(out.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].index, i);
    EXPECT_EQ(out[i].diff_id, s.info().layers[i].diff_id);
  }
  EXPECT_EQ(out[0].entries[0].path, "a");
  EXPECT_EQ(out[2].entries[0].path, "c");
  EXPECT_EQ(s.identified, (std::map<std::string, size_t>{
                              {"aaa/layer.tar", 0}, {"bbb/layer.tar", 1}, {"ccc/layer.tar", 2}}));
}

TEST(StreamedScanTest, AMemberThatIsNoLayerOfTheImageIsAnErrorNamingIt) {
  auto t = three_layers();
  std::string stray = LayerBuilder().file("x", "not in the config").tar();
  StreamedSource s(t, {{"aaa/layer.tar", t[0]}, {"zzz/layer.tar", stray}});
  try {
    scan_streamed(s, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("zzz/layer.tar"), std::string::npos) << m;
    EXPECT_NE(m.find(sha256_digest(as_bytes(stray))), std::string::npos) << m;
    EXPECT_NE(m.find("is not a layer of the image"), std::string::npos) << m;
  }
}

TEST(StreamedScanTest, AMissingLayerIsAnErrorNamingIt) {
  auto t = three_layers();
  StreamedSource s(t, {{"ccc/layer.tar", t[2]}, {"aaa/layer.tar", t[0]}});
  try {
    scan_streamed(s, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("layer 1"), std::string::npos) << m;
    EXPECT_NE(m.find("missing from the save stream"), std::string::npos) << m;
  }
}

TEST(StreamedScanTest, ALayerListedTwiceButStreamedOnceIsReadAgain) {
  auto t = three_layers();
  std::vector<std::string> tars = {t[0], t[1], t[0]};
  StreamedSource s(tars, {{"blobs/sha256/b", t[1]}, {"blobs/sha256/a", t[0]}});
  std::vector<scan::LayerIndex> out = scan_streamed(s, {});
  EXPECT_EQ(s.reopened, 1);
  EXPECT_EQ(out[2].index, 2u);
  EXPECT_EQ(out[2].entries[0].path, "a");
}

}  // namespace
}  // namespace coroner::explore
