// Image references in the containers-transports convention of skopeo and podman
// ("docker-archive:PATH", "oci:DIR[:REF]", "-", ...): parse_ref() splits the transport from the
// rest and sniffs a bare path by content (a folder with oci-layout, a tar holding manifest.json
// ...). It opens nothing beyond peeking at paths; image/source.h opens the image.
#pragma once

#include <string>
#include <string_view>

namespace coroner::image {

enum class Transport {
  kDockerDaemon,   // docker-daemon:NAME[:TAG], or a bare NAME[:TAG] that is not a path
  kContainer,      // container:ID_OR_NAME
  kDockerArchive,  // docker-archive:PATH[:NAME:TAG|:@INDEX]
  kOci,            // oci:DIR[:REF]
  kOciArchive,     // oci-archive:PATH[:REF]
  kRegistry,       // docker://HOST/NAME[:TAG|@DIGEST]
  kTar,            // tar:PATH, a flat root filesystem tar (docker export)
  kStdin,          // "-", a flat root filesystem tar on stdin
  kRootfs,         // rootfs:DIR, an extracted root filesystem
};

// "docker-archive", "oci", ... as written before the colon ("-" for stdin).
std::string_view transport_name(Transport t);

struct Ref {
  Transport transport = Transport::kTar;
  std::string text;      // as the user gave it
  std::string path;      // file or folder (archive, oci, tar, rootfs); empty otherwise
  std::string name;      // docker-daemon NAME[:TAG], container ID, docker:// HOST/NAME[:TAG|@D]
  std::string selector;  // oci/oci-archive REF; docker-archive NAME:TAG or "@N"; may be empty
  bool sniffed = false;  // the transport was guessed from the path's content
};

// What is at a path, as far as parse_ref needs to know. Injectable so that tests and the fuzz
// target can parse without touching the file system.
enum class PathKind {
  kMissing,
  kDirectory,      // a folder without oci-layout
  kOciDirectory,   // a folder with an oci-layout file
  kDockerArchive,  // a tar (maybe compressed) holding manifest.json
  kOciArchive,     // a tar holding oci-layout and no manifest.json
  kFlatTar,        // any other tar
  kOtherFile,      // a file that is not a tar
};

class PathProber {
 public:
  virtual ~PathProber() = default;
  // Throws Error only when the path exists but cannot be read.
  virtual PathKind probe(const std::string& path) const = 0;
};

// The real file system; tar files are peeked at with libarchive (decompressing if needed).
const PathProber& filesystem_prober();

// Throws Error ("image reference: <text>: <why>") for an empty reference, an unknown
// transport, a missing path after a file transport, or a bare path that is not an image.
Ref parse_ref(std::string_view text, const PathProber& prober = filesystem_prober());

// distribution/reference grammar: [DOMAIN[:PORT]/]NAME[:TAG][@ALGO:HEX].
bool is_docker_reference(std::string_view s);

// The kind of a tar file, from its members (libarchive, filters sniffed by content).
PathKind sniff_tar_file(const std::string& path);

}  // namespace coroner::image
