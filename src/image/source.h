// ImageSource: where an image's config and layer blobs come from (an archive, an OCI layout, a
// flat tar, a folder, the Docker Engine or a registry). A source reads; it never changes
// the environment or the daemon. It knows manifests and blobs, not file systems: scan/ turns
// each layer stream into entries.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/stream.h"
#include "image/ref.h"

namespace coroner::image {

enum class Compression { kNone, kGzip, kZstd };

// One step of the image history ("docker history"), in order, empty layers included.
struct HistoryEntry {
  std::string created;     // RFC 3339 as written, may be empty
  std::string created_by;  // "/bin/sh -c #(nop)  CMD [...]" or BuildKit's "RUN ..."
  std::string comment;
  bool empty_layer = false;
};

// The parts of the image config (OCI image-spec config.md) that coroner reads.
struct ImageConfig {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64
  std::string variant;       // v7, v8...
  std::string user;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  bool entrypoint_set = false;  // present in JSON (null and absent differ from [])
  bool cmd_set = false;
  std::vector<std::string> env;  // "KEY=VALUE" as in the config
  std::string workdir;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> healthcheck;    // Healthcheck.Test
  std::string stop_signal;
  std::map<std::string, std::string> labels;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids: sha256 of each uncompressed layer
  std::vector<HistoryEntry> history;
};

struct LayerDesc {
  std::string digest;      // blob digest from the manifest ("sha256:…"); empty for flat tars
  std::string diff_id;     // from the config; empty when unknown
  std::string media_type;  // as the manifest says, for messages only: compression is sniffed
  uint64_t size = 0;       // blob size from the manifest; 0 when unknown
};

// container: only (engine_source.cc): what the daemon knows about the container, from
// /containers/{id}/json, /logs and /changes.
struct ContainerState {
  std::string id, name;         // full id; name without the leading "/"
  std::string image, image_id;  // Config.Image as given at create, and the image's id
  std::string status;           // State.Status: created, running, exited, restarting, dead...
  int exit_code = 0;
  std::string error;  // State.Error (e.g. the runtime's exec error)
  bool oom_killed = false;
  bool restarting = false;
  std::string started_at, finished_at;  // RFC 3339 as the daemon wrote them
  int restart_count = 0;
  bool tty = false;
  std::vector<std::string> log_tail;  // last lines of stdout and stderr, interleaved
  std::vector<std::pair<char, std::string>> changes;  // 'A', 'C' or 'D' and the path
};

struct ImageInfo {
  std::string ref;       // as the user gave it
  std::string digest;    // manifest digest, when there is one
  std::string platform;  // "linux/amd64", "linux/arm/v7"
  ImageConfig config;
  bool has_config = false;         // false for flat tars and folders: no history, no entrypoint
  std::vector<LayerDesc> layers;   // bottom first
  std::vector<std::string> notes;  // what the source could not do or skipped, for the user
  std::optional<ContainerState> container;  // set by the container: source only
};

// One layer of a streamed source (ImageSource::next_streamed_layer).
struct StreamedLayer {
  std::unique_ptr<ByteStream> blob;  // readable until the next call; read it to its end
  std::string member;                // its name in the stream, for messages ("<id>/layer.tar")
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual const ImageInfo& info() const = 0;
  // The raw layer blob, bottom layer is 0, as stored (maybe compressed). May be called again
  // for the same layer (cat, grep, export read a layer a second time), also from several
  // threads at once for different layers. A stream must not outlive its source (the stdin
  // source shares one spool file between its streams).
  virtual std::unique_ptr<ByteStream> open_layer(size_t index) const = 0;
  // For rootfs:DIR the "layer" is a folder, not a stream: its path, else nullopt.
  virtual std::optional<std::string> layer_dir(size_t /*index*/) const { return std::nullopt; }

  // Sources whose layers arrive in one stream, in an order of their own (docker-daemon: reads
  // GET /images/{id}/get as it arrives): the scan takes each layer as it comes, identifies it
  // by the sha256 of its uncompressed bytes against LayerDesc.diff_id, and says which it was;
  // open_layer() then serves second reads. Default: not streamed.
  virtual bool streamed() const { return false; }
  // The next layer of the stream, or nullopt once the stream has ended and was checked.
  virtual std::optional<StreamedLayer> next_streamed_layer() const { return std::nullopt; }
  // The scan found that `member` is layer `index`.
  virtual void streamed_layer_is(const std::string& /*member*/, size_t /*index*/) const {}
};

struct OpenOptions {
  std::string platform;  // "os/arch[/variant]" for multi-platform indexes; empty: the host's
  int stdin_fd = 0;      // where "-" reads from (tests pass a pipe)
  // docker-daemon: how the layers are read: "" or "save" (GET /images/{name}/get, the layers
  // as built), "export" (a created, never started container's flat export).
  std::string via;
  // The caller reads each layer once (diagnose, ls, find, layers): a streamed source keeps no
  // copy of the stream, and a later open_layer() fetches it again. Otherwise (cat, grep, export,
  // packages --verify read content a second time) the stream is spooled to a temporary file.
  bool single_pass = false;
  // docker://: allow http and certificates that do not verify for any registry (loopback
  // registries always are, as Docker treats them).
  bool insecure_registry = false;
};

// Opens the image a reference names: reads and verifies the manifest and config (small blobs,
// checked against their digests at once) and indexes archives; layer blobs are verified by
// scan/ while it streams them (LayerDesc.digest and diff_id). Error "<transport>: <path>:
// <member>: <problem>" on anything malformed or missing.
std::unique_ptr<ImageSource> open_source(const Ref& ref, const OpenOptions& options);

}  // namespace coroner::image
