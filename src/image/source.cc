// open_source: one entry per transport.
#include "image/source.h"

#include "base/error.h"
#include "image/archive_source.h"
#include "image/engine_source.h"
#include "image/manifest.h"
#include "image/registry.h"

namespace coroner::image {

std::unique_ptr<ImageSource> open_source(const Ref& ref, const OpenOptions& options) {
  if (!options.platform.empty()) parse_platform(options.platform);  // Error early if malformed
  switch (ref.transport) {
    case Transport::kDockerArchive:
      return open_docker_archive(ref, options);
    case Transport::kOci:
    case Transport::kOciArchive:
      return open_oci_layout(ref, options);
    case Transport::kTar:
      return open_flat_tar(ref);
    case Transport::kStdin:
      return open_stdin_tar(ref, options.stdin_fd);
    case Transport::kRootfs:
      return open_rootfs(ref);
    case Transport::kDockerDaemon:
    case Transport::kContainer:
      return open_engine_source(ref, options);
    case Transport::kRegistry:
      return open_registry_source(ref, options);
  }
  CORONER_CHECK(false);
  return nullptr;
}

}  // namespace coroner::image
