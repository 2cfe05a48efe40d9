// A Docker Engine API client (libcurl, RAII handles): finds the daemon as the docker CLI does
// ($DOCKER_HOST, $DOCKER_CONTEXT, the current context of ~/.docker/config.json, else
// unix:///var/run/docker.sock), negotiates the API version (min of the server's and 1.41), and
// does GET/POST/DELETE with JSON bodies or streams a response body as a ByteStream. It knows
// HTTP and JSON, not images: engine_source.cc builds the docker-daemon: and container: sources.
// Also the pure helpers that tests exercise alone: DOCKER_HOST parsing, context lookup, the
// multiplexed log stream decoder, short id matching.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"

namespace coroner::image::engine {

// The newest API version coroner speaks (Docker 20.10) and the oldest it accepts.
inline constexpr std::string_view kMaxApiVersion = "1.41";
inline constexpr std::string_view kMinApiVersion = "1.25";
inline constexpr std::string_view kDefaultHost = "unix:///var/run/docker.sock";

struct Endpoint {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string address;  // socket path, or "host:port"
  bool tls = false;     // https
  bool tls_verify = true;
  std::string ca_file, cert_file, key_file;  // empty when not given
  std::string origin;                        // "DOCKER_HOST", "context NAME", "default"
  // "unix:///var/run/docker.sock", "tcp://host:2376".
  std::string url() const;
};

// moby's ParseHost: "unix:///path", "tcp://host[:port]", a bare "host:port" (tcp). tcp without
// a port gets 2375, or 2376 with `tls`. Error for ssh://, npipe://, fd:// (they need the docker
// CLI or systemd) and anything malformed.
Endpoint parse_docker_host(std::string_view host, bool tls = false);

// What resolve_endpoint reads, so that tests pass their own.
struct EndpointInputs {
  std::string docker_host;        // $DOCKER_HOST
  std::string docker_context;     // $DOCKER_CONTEXT
  std::string docker_tls_verify;  // $DOCKER_TLS_VERIFY (non-empty: TLS and verify)
  std::string docker_cert_path;   // $DOCKER_CERT_PATH (default: config_dir)
  std::string config_dir;         // $DOCKER_CONFIG, else ~/.docker
};
EndpointInputs endpoint_inputs_from_env();

// The docker CLI's order: $DOCKER_HOST, else the context named by $DOCKER_CONTEXT or by
// "currentContext" in config_dir/config.json (its meta.json under
// contexts/meta/<sha256 of the name>/, TLS files under contexts/tls/<same>/docker/), else the
// default socket. Error for a named context that does not exist or is malformed.
Endpoint resolve_endpoint(const EndpointInputs& in);

// "1.43" vs "1.41" -> the lower of the two ("1.41"); Error when the server's is older than
// kMinApiVersion or not a version.
std::string negotiate_api_version(std::string_view server_api_version);

// One frame of a multiplexed attach/logs stream (no TTY): stream 1 stdout, 2 stderr.
struct LogFrame {
  int stream = 1;
  std::string data;
};
// Decodes the 8-byte-header frames ([stream, 0, 0, 0, size big-endian u32] payload). Error for a
// frame header naming an unknown stream or a payload longer than what remains.
std::vector<LogFrame> decode_multiplexed(std::span<const std::byte> body);
// The text of a logs response as lines ("\r\n" and "\n" ends; the last line may be unended):
// demultiplexed when !tty, interleaved as the daemon wrote them.
std::vector<std::string> log_lines(std::string_view body, bool tty);

// The ids among `ids` ("sha256:<hex>" or "<hex>") whose hex starts with `prefix` (hex, no
// "sha256:"); empty when `prefix` is not lowercase hex.
std::vector<std::string> ids_with_prefix(const std::vector<std::string>& ids,
                                         std::string_view prefix);
// "12 hex digits" of an id, for messages.
std::string short_id(std::string_view id);

struct Response {
  long status = 0;
  std::string body;
};

// The message of an Engine API error body ({"message": "..."}), else the body, escaped.
std::string error_message(const Response& r);

// A connection to one daemon. Not thread-safe; the streams it opens are independent of it.
class Client {
 public:
  explicit Client(Endpoint endpoint);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  // GET /version once, then the negotiated version ("1.41").
  const std::string& api_version();

  // `path` is below the version prefix ("/images/busybox/json"). Transport failures throw
  // Error naming the daemon (not reachable, permission denied); HTTP errors are returned.
  Response get(const std::string& path);
  Response post_json(const std::string& path, const std::string& json);
  Response del(const std::string& path);
  // A GET whose body is read as it arrives. Error when the status is not 2xx (with the
  // daemon's message) or when the transfer fails midway.
  std::unique_ptr<ByteStream> stream(const std::string& path, std::string name);

  // What a signal handler needs to send DELETE /containers/ID?force=1 on its own (see
  // engine_source.cc): the raw HTTP request, for unix and plain tcp endpoints; nullopt with TLS.
  std::optional<std::string> raw_request(std::string_view method, const std::string& path);

 private:
  Response perform(const std::string& method, const std::string& path, const std::string* body);
  std::string url(const std::string& path);

  Endpoint endpoint_;
  std::string api_version_;
};

// Set by a signal handler: every transfer in progress stops at its next progress callback
// (within about a second) with Error "interrupted". 0 when none is pending.
void set_interrupt_signal(int sig);
int interrupt_signal();

}  // namespace coroner::image::engine
