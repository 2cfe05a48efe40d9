// Feeds bytes to the Engine API decoders of image/engine.h and image/engine_source.h: the
// multiplexed log stream (and its TTY form), the container inspect answer with the exit
// explanation over the decoded log lines, image inspect + history (split at the first NUL) into
// an image config, the id resolution of an inspect answer, error bodies, versions and hosts.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/engine.h"
#include "image/engine_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  using namespace coroner::image;
  std::vector<std::string> lines;
  try {
    engine::decode_multiplexed(bytes);
  } catch (const coroner::Error&) {
  }
  try {
    lines = engine::log_lines(text, false);
  } catch (const coroner::Error&) {
  }
  try {
    engine::log_lines(text, true);
  } catch (const coroner::Error&) {
  }
  try {
    ContainerState c = parse_container_inspect(text);
    c.log_tail = lines;
    explain_exit(c);
    suspected_cause(c);
  } catch (const coroner::Error&) {
  }
  try {
    size_t nul = text.find('\0');
    std::string_view inspect = text.substr(0, nul);
    std::string_view history = nul == std::string_view::npos ? "[]" : text.substr(nul + 1);
    std::vector<std::string> notes;
    config_from_inspect(inspect, history, notes);
  } catch (const coroner::Error&) {
  }
  try {
    engine::Response r{200, std::string(text)};
    resolve_id("image", "0123abc", r, {"sha256:0123abcd", "0123abce"});
    r.status = 404;
    resolve_id("container", "0123abc", r, {"sha256:0123abcd"});
  } catch (const coroner::Error&) {
  }
  try {
    engine::error_message(engine::Response{500, std::string(text)});
    engine::negotiate_api_version(text.substr(0, 16));
  } catch (const coroner::Error&) {
  }
  try {
    engine::parse_docker_host(text.substr(0, 256), size % 2 == 1);
  } catch (const coroner::Error&) {
  }
  engine::ids_with_prefix({"sha256:0123abcd", "fedcba98"}, text.substr(0, 70));
  return 0;
}
