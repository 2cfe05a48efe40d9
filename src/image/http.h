// HTTP over libcurl for the clients of image/: the Docker Engine API (engine.cc, over a unix
// socket or tcp) and registries (registry.cc, https with a fallback to http). RAII handles, a
// bounded body read whole, or a body streamed as a ByteStream through curl's multi interface.
// It knows requests and transport failures, not what they mean: each caller says how a
// failure reads to its users (a daemon that is not running, a registry that cannot be reached).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/stream.h"

namespace coroner::image::http {

struct Request {
  std::string url;
  std::string method = "GET";
  std::vector<std::string> headers;   // "Accept: ...", "Authorization: ..."
  const std::string* body = nullptr;  // sent with Content-Type: content_type
  std::string content_type = "application/json";
  std::string unix_socket;  // connect there instead of the URL's host
  // TLS: the system's CAs unless ca_file or ca_pem (PEM text, used instead of any file);
  // client certificate when cert_file.
  std::string ca_file, cert_file, key_file;
  std::string ca_pem;
  bool tls_verify = true;
  // Redirects are followed (blob downloads redirect to object stores); curl sends neither the
  // Authorization header nor credentials to another host.
  bool follow_redirects = false;
  uint64_t max_body = 64ull << 20;  // perform(): a longer body is an Error
  // open_stream(): a transfer that breaks midway (after some body, not an HTTP error) is asked
  // again for the rest (Range: bytes=N-) up to this many times; the answer must be 206.
  int resume_attempts = 0;
};

struct Reply {
  long status = 0;
  std::string body;
  // Headers of the last response (after redirects), names lower-cased; a repeated header keeps
  // its first value.
  std::map<std::string, std::string> headers;
  std::string header(const std::string& lower_name) const;
};

// A failure below HTTP (no status line), as the caller's describe() gets it.
struct Failure {
  bool unreachable = false;  // could not connect, resolve, or timed out connecting
  bool tls = false;          // TLS handshake or certificate failure
  long os_errno = 0;         // errno of the failed connect, 0 when unknown
  std::string detail;        // curl's message
  int signal = 0;            // set_interrupt_signal() stopped it
};
// The message of the Error thrown for a failure (without the request's name).
using Describe = std::function<std::string(const Failure&)>;

// Sends the request and reads the whole body. HTTP errors are returned; transport failures
// throw Error(describe(failure)); a body over max_body throws Error.
Reply perform(const Request& request, const Describe& describe);

// A GET whose body is read as it arrives. Waits for the status line: a status that is not 2xx
// throws Error(name + ": " + http_error(reply)) with the whole (bounded) error body; a transport
// failure, then or midway, throws Error(name + ": " + describe(failure)).
std::unique_ptr<ByteStream> open_stream(const Request& request, std::string name, Describe describe,
                                        const std::function<std::string(const Reply&)>& http_error);

// Percent-encodes a path segment or query value ("busybox:1.36" stays, "a/b" -> "a%2Fb").
std::string url_escape(std::string_view s);

// The PEM text of libcurl's default CA bundle (the system's), "" when it has none.
std::string system_ca_pem();

// Set by a signal handler: every transfer in progress stops at its next progress callback
// (within about a second) with a Failure whose signal is set. 0 when none is pending.
void set_interrupt_signal(int sig);
int interrupt_signal();

}  // namespace coroner::image::http
