#include "explore/test_image.h"

#include "base/bytes.h"
#include "base/digest.h"
#include "testing/layer_builder.h"

namespace coroner::explore::testing {

using coroner::testing::LayerBuilder;

MemorySource::MemorySource(std::vector<std::pair<std::string, std::string>> layers,
                           std::vector<std::pair<std::string, bool>> history) {
  info_.ref = "memory:test";
  info_.platform = "linux/amd64";
  info_.has_config = true;
  for (auto& [blob, tar] : layers) {
    image::LayerDesc d;
    d.digest = sha256_digest(as_bytes(blob));
    d.diff_id = sha256_digest(as_bytes(tar));
    d.size = blob.size();
    info_.layers.push_back(d);
    info_.config.diff_ids.push_back(d.diff_id);
    blobs_.push_back(std::move(blob));
  }
  for (auto& [created_by, empty] : history) {
    info_.config.history.push_back({"2023-11-14T22:13:20Z", created_by, "", empty});
  }
}

std::unique_ptr<ByteStream> MemorySource::open_layer(size_t index) const {
  return open_memory_stream(as_bytes(blobs_.at(index)), "layer" + std::to_string(index));
}

std::unique_ptr<Image> open_memory_image(std::unique_ptr<MemorySource> source) {
  scan::ScanOptions options;
  options.capture = capture_for_explore;
  options.threads = 1;
  std::vector<scan::LayerIndex> layers = scan::scan_image(*source, options);
  return std::make_unique<Image>(std::move(source), std::move(layers));
}

std::unique_ptr<Image> sample_image() {
  LayerBuilder base;
  base.dir("bin").dir("etc").dir("tmp", 01777).dir("usr").dir("usr/bin");
  base.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  base.file("etc/group", "root:x:0:\napp:x:1000:\n");
  base.file("bin/sh",
            std::string("\x7f"
                        "ELF\x02\x01\x01\0\0\0",
                        10),
            0755);
  base.symlink("bin/ls", "sh");
  base.file("usr/bin/ping", "ping binary\n", 04755)
      .xattr("security.capability", std::string("\x01\0\0\x02", 4));
  LayerBuilder app;
  app.dir("app", 0755, 1000, 1000);
  app.file("app/entry.sh", "#!/bin/sh\necho Hello\nexec \"$@\"\n", 0755, 1000, 1000);
  app.file("app/config.ini", "[server]\nport = 8080\n");
  app.hardlink("app/config.default.ini", "app/config.ini");
  app.file("app/data.bin", std::string("\0\x01PORT\n", 7));
  LayerBuilder top;
  top.whiteout("app/config.ini");
  top.dir("var").dir("var/log");
  top.file("var/log/app.log", "boot ok\nFATAL: config.ini not found\n", 0640, 1000, 4242)
      .mtime(1710000000);
  top.symlink("current", "/app");
  top.file("app/entry.sh", "#!/bin/sh\necho Hello again\n", 0755, 1000, 1000);

  std::string t0 = base.tar(), t1 = app.tar(), t2 = top.tar();
  auto source = std::make_unique<MemorySource>(
      std::vector<std::pair<std::string, std::string>>{
          {t0, t0}, {coroner::testing::gzip(t1), t1}, {coroner::testing::zstd(t2), t2}},
      std::vector<std::pair<std::string, bool>>{
          {"ADD rootfs.tar /", false},
          {"ENV A=1", true},
          {"COPY app/ /app/", false},
          {"RUN rm /app/config.ini && boot > /var/log/app.log", false},
          {"CMD [\"/app/entry.sh\"]", true}});
  return open_memory_image(std::move(source));
}

}  // namespace coroner::explore::testing
