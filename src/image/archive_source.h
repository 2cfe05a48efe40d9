// The sources that read images from files: docker-archive (docker save, legacy and Docker 25+
// layouts), oci (layout folder), oci-archive (layout in a tar), tar and "-" (a flat root file
// system tar, e.g. docker export), rootfs (an extracted folder). open_source() in source.cc
// dispatches to these by transport.
#pragma once

#include <memory>

#include "image/blob_store.h"
#include "image/ref.h"
#include "image/source.h"

namespace coroner::image {

std::unique_ptr<ImageSource> open_docker_archive(const Ref& ref, const OpenOptions& options);
// oci: (a folder) and oci-archive: (a tar).
std::unique_ptr<ImageSource> open_oci_layout(const Ref& ref, const OpenOptions& options);
std::unique_ptr<ImageSource> open_flat_tar(const Ref& ref);
// "-": reads `fd` once, teeing it into a spool file that later opens read.
std::unique_ptr<ImageSource> open_stdin_tar(const Ref& ref, int fd);
std::unique_ptr<ImageSource> open_rootfs(const Ref& ref);

// The same over an already opened store (tests use folders for archives too). `what` prefixes
// every message ("oci: /path").
std::unique_ptr<ImageSource> open_oci_store(std::unique_ptr<BlobStore> store, const Ref& ref,
                                            const OpenOptions& options, std::string what);
std::unique_ptr<ImageSource> open_docker_archive_store(std::unique_ptr<BlobStore> store,
                                                       const Ref& ref, std::string what);

}  // namespace coroner::image
