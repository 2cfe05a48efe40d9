// Feeds bytes to every JSON decoder of image/manifest.h, then selects a platform from whatever
// parsed as an index (nested indexes resolve to the same bytes, to exercise the depth limit).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "image/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace coroner::image;
  try {
    parse_docker_save_manifest(text);
  } catch (const coroner::Error&) {
  }
  try {
    parse_image_manifest(text);
  } catch (const coroner::Error&) {
  }
  try {
    parse_image_config(text);
  } catch (const coroner::Error&) {
  }
  try {
    parse_oci_layout(text);
  } catch (const coroner::Error&) {
  }
  try {
    peek_media_type(text, "fuzz");
  } catch (const coroner::Error&) {
  }
  try {
    ImageIndex index = parse_index(text);
    BlobFetcher fetch = [&](const Descriptor&) { return std::string(text); };
    select_platform(index, "linux/arm64", fetch, "fuzz");
  } catch (const coroner::Error&) {
  }
  return 0;
}
