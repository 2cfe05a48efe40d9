// Fuzzes the exec simulation (src/linux/exec.h) over hostile script content: the input is split
// at NUL bytes into the content of /app/entry.sh, of /app/run (CMD's program), a USER spec and
// CMD words separated by '\n'. Also calls the pure helpers (parse_shebang, find_handover,
// program_file_of) directly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "linux/exec.h"
#include "testing/tree_builder.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;

std::vector<std::string_view> parts(std::string_view in, size_t n) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i + 1 < n; ++i) {
    size_t z = in.find('\0');
    out.push_back(in.substr(0, z));
    in = z == std::string_view::npos ? std::string_view() : in.substr(z + 1);
  }
  out.push_back(in);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  using namespace coroner;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> p = parts(in, 4);
  try {
    linux_::parse_shebang(p[0]);
    linux_::find_handover(p[0]);
    std::vector<std::string> cmd;
    size_t start = 0;
    while (start <= p[3].size() && cmd.size() < 64) {
      size_t nl = p[3].find('\n', start);
      cmd.emplace_back(p[3].substr(start, nl == std::string_view::npos ? nl : nl - start));
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    linux_::program_file_of(cmd);

    testing::TreeBuilder b;
    elf::ElfInfo sh;
    sh.ei_class = 2;
    sh.ei_data = 1;
    sh.e_type = 2;
    sh.e_machine = 62;
    b.dir("bin").dir("usr").dir("usr/bin").dir("app").dir("etc");
    b.file("bin/busybox", 100, 0755).elf(sh);
    b.symlink("bin/sh", "busybox").symlink("usr/bin/env", "/bin/busybox");
    b.symlink("bin/loop", "loop").symlink("app/up", "../../..");
    b.file("etc/passwd", 0, 0644).content("root:x:0:0::/root:/bin/sh\napp:x:1:1::/app:/bin/sh\n");
    b.file("app/entry.sh", 0, 0755).content(p[0]);
    b.file("app/run", 0, 0755).content(p[1]);
    fs::Tree tree = b.build();
    linux_::RootView root(tree, b.layers());
    image::ImageConfig cfg;
    cfg.architecture = "amd64";
    cfg.user = std::string(p[2]);
    cfg.entrypoint = {"/app/entry.sh"};
    cfg.cmd = cmd;
    cfg.workdir = "/app";
    linux_::simulate_exec(root, cfg, {});
    cfg.entrypoint.clear();
    linux_::simulate_exec(root, cfg, {});
  } catch (const coroner::Error&) {
  }
  return 0;
}
