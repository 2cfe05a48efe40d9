// open_source: one entry per transport. docker-daemon:, container: and docker:// are the
// extension point for engine_source.cc and registry_source.cc: replace their line below.
#include "image/source.h"

#include "base/error.h"
#include "image/archive_source.h"
#include "image/engine_source.h"
#include "image/manifest.h"

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
      break;
  }
  throw Error(std::string(transport_name(ref.transport)) + ": not supported yet");
}

}  // namespace coroner::image
