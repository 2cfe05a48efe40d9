// A client of the OCI distribution API (distribution-spec v1.1, Docker Registry HTTP API v2):
// names normalised as docker does (busybox -> docker.io/library/busybox:latest), credentials
// from the docker CLI's config.json (auths, credsStore, credHelpers), the token flow of
// docker/distribution's token-auth spec (WWW-Authenticate: Bearer realm, service, scope; an
// identity token is traded with OAuth2's refresh_token grant) and Basic auth, https with
// docker's fallback to http for insecure registries (loopback ones always are) and docker's
// certs.d for CAs and client certificates. It reads manifests and blobs (streamed, resumed with
// a range when a transfer breaks); registry_source.cc turns them into an image.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"
#include "image/http.h"
#include "image/ref.h"
#include "image/source.h"

namespace coroner::image::registry {

// A registry reference, normalised (distribution/reference's ParseNormalizedNamed).
struct Name {
  std::string domain;      // "docker.io", "ghcr.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox", "org/app"
  std::string tag;         // "latest" when the reference has neither tag nor digest
  std::string digest;      // "sha256:<hex>" or ""
  // Where the API is: registry-1.docker.io for docker.io, else the domain.
  std::string api_host() const;
  // The digest when there is one, else the tag.
  std::string reference() const;
  // "docker.io/library/busybox:latest", "host/app@sha256:…" (for messages).
  std::string str() const;
};
// Error "docker://<text>: <why>" for anything distribution/reference refuses.
Name parse_name(std::string_view text);

// True for localhost, 127.0.0.0/8 and ::1, with or without a port: Docker treats these as
// insecure registries (http allowed, certificates not verified) without being told.
bool is_loopback(std::string_view domain);

// The TLS files Docker and podman read for a registry: /etc/docker/certs.d/<domain>/ and
// /etc/containers/certs.d/<domain>/ (`roots`, first found wins). Every *.crt is a CA, added to the
// system's; a *.cert with the *.key of the same name is the client certificate. nullopt when
// there is no such folder; Error for a .cert without its .key or the other way round (as docker).
struct CertsDir {
  std::string dir;
  std::vector<std::string> ca_files;
  std::string cert_file, key_file;
};
std::optional<CertsDir> find_certs_dir(std::string_view domain,
                                       const std::vector<std::string>& roots);

// One challenge of a WWW-Authenticate header (RFC 7235): scheme lower-cased, parameter names
// lower-cased, quoted values unescaped.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};
std::vector<Challenge> parse_challenges(std::string_view header);

struct Credentials {
  std::string username, password;
  std::string identity_token;  // an OAuth2 refresh token (docker login to some registries)
  std::string origin;          // "config.json auths", "credential helper docker-credential-X"
};

// Runs `docker-credential-<helper> get` with `server` on stdin and returns its stdout, or
// nullopt when it says it has no credentials for the server. Error when it cannot be run or
// fails otherwise.
using HelperRunner =
    std::function<std::optional<std::string>(const std::string& helper, const std::string& server)>;
HelperRunner exec_helper_runner();

// The docker CLI's lookup for a registry domain in the text of config.json: credHelpers[domain],
// else credsStore, else auths (keys compared as hostnames: "https://host/v1/" is "host"; docker.io
// is "https://index.docker.io/v1/"). nullopt when there are none. Error naming `config_path` for
// a malformed file or entry.
std::optional<Credentials> find_credentials(std::string_view config_json, std::string_view domain,
                                            const HelperRunner& run, std::string_view config_path);

// "MANIFEST_UNKNOWN: manifest unknown" from {"errors": [{"code", "message"}]}, else the body
// (escaped, bounded), else "HTTP <status>".
std::string error_message(long status, std::string_view body);

// Docker's schema 1 manifests ("...manifest.v1+json", "+prettyjws"): refused, deprecated.
inline constexpr std::string_view kSchema1 = "application/vnd.docker.distribution.manifest.v1";

// The media type of a manifest: its mediaType field, else the Content-Type, else its fields
// (mediaType is optional in OCI, and some registries send application/json), as containerd
// tells them apart.
std::string media_type_of(std::string_view body, std::string_view content_type,
                          std::string_view what);

// The token of a token server's JSON reply ("token", else "access_token"). Error otherwise.
std::string parse_token_reply(std::string_view body);

struct ClientOptions {
  bool insecure = false;    // --insecure: allow http and unverified certificates for any host
  std::string config_dir;   // $DOCKER_CONFIG, else ~/.docker
  HelperRunner run_helper;  // default: exec_helper_runner()
  std::vector<std::string> certs_roots = {"/etc/docker/certs.d", "/etc/containers/certs.d"};
};

// A connection to one repository of one registry. Thread-safe: layers are fetched in parallel.
class Client {
 public:
  Client(Name name, ClientOptions options);

  const Name& name() const { return name_; }
  // "https://host" or "http://host", after the first request.
  const std::string& base_url() const { return base_url_; }

  struct Manifest {
    std::string body;
    std::string media_type;  // Content-Type
  };
  // GET /v2/<repository>/manifests/<reference> accepting OCI and Docker v2 manifests and
  // indexes. Error (naming the reference) unless 200.
  Manifest manifest(const std::string& reference);
  // GET /v2/<repository>/blobs/<digest> read whole (a config); Error over `max` bytes.
  std::string blob(const std::string& digest, uint64_t max);
  // The same as a stream, redirects followed; `what` names it in errors.
  std::unique_ptr<ByteStream> open_blob(const std::string& digest, std::string what);

 private:
  struct Get {
    std::string path;  // below /v2/
    std::vector<std::string> headers;
    uint64_t max_body = 0;
  };
  void connect();
  void apply_tls(http::Request& r) const;
  std::string authorization() const;
  std::string denied_hint(long status) const;
  void authenticate(const std::string& challenge_header);
  std::string fetch_token(const std::string& realm, const std::string& service,
                          const std::string& scope);
  std::string describe_failure(const std::string& url, bool tls, bool unreachable,
                               const std::string& detail) const;

  Name name_;
  ClientOptions options_;
  std::string base_url_;
  bool insecure_ = false;
  std::optional<CertsDir> certs_;
  std::string ca_pem_;  // the system's CAs and certs_->ca_files, when there are any
  std::optional<Credentials> credentials_;
  bool credentials_read_ = false;
  std::mutex auth_mu_;         // one authenticate() at a time (credentials_, tokens)
  mutable std::mutex mu_;      // authorization_
  std::string authorization_;  // "Bearer …" or "Basic …", empty without auth
};

}  // namespace coroner::image::registry

namespace coroner::image {

// docker://HOST/NAME[:TAG|@DIGEST] (registry_source.cc): the manifest (by digest: verified
// against it), the platform's manifest of an index, the config blob (verified), and the layer
// descriptors; layers are streamed from the registry on open_layer(), as often as asked (they
// are not kept), and verified by the scan like any other source's.
std::unique_ptr<ImageSource> open_registry_source(const Ref& ref, const OpenOptions& options);

}  // namespace coroner::image
