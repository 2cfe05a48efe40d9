#include "image/registry.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/error.h"
#include "base/stream.h"
#include "base/text.h"
#include "image/http.h"
#include "image/manifest.h"
#include "image/ref.h"

extern char** environ;

namespace coroner::image::registry {
namespace {

using json = nlohmann::json;

constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kDockerHubApi = "registry-1.docker.io";
constexpr std::string_view kDockerHubAuthKey = "https://index.docker.io/v1/";
constexpr uint64_t kMaxTokenReply = 1 << 20;
constexpr size_t kMaxHelperOutput = 1 << 20;
constexpr uint64_t kMaxConfigFile = 16 << 20;  // config.json
constexpr uint64_t kMaxCertFile = 1 << 20;     // a CA of certs.d

// Every manifest kind coroner reads, as docker pull asks for them.
const std::vector<std::string>& manifest_accept() {
  static const std::vector<std::string> h = {
      "Accept: " + std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " +
      std::string(kDockerManifestList) + ", " + std::string(kDockerManifest)};
  return h;
}

// The docker CLI's ConvertToHostname: "https://host/v1/" -> "host".
std::string_view hostname_of(std::string_view key) {
  if (starts_with(key, "https://")) key.remove_prefix(8);
  if (starts_with(key, "http://")) key.remove_prefix(7);
  return key.substr(0, key.find('/'));
}

bool names_docker_hub(std::string_view host) {
  return host == "index.docker.io" || host == kDockerHub || host == kDockerHubApi;
}

std::string string_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

// A helper's {"Username", "Secret"}; Username "<token>" means Secret is an identity token.
Credentials credentials_from_helper(const std::string& out, const std::string& helper) {
  json j = json::parse(out, nullptr, false);
  std::string user = string_field(j, "Username"), secret = string_field(j, "Secret");
  if (!j.is_object() || secret.empty()) {
    throw Error("credential helper docker-credential-" + escape(helper, 40) +
                ": its output is not {\"Username\", \"Secret\"}");
  }
  Credentials c;
  c.origin = "credential helper docker-credential-" + escape(helper, 40);
  if (user == "<token>") {
    c.identity_token = secret;
  } else {
    c.username = user;
    c.password = secret;
  }
  return c;
}

}  // namespace

// --- names -----------------------------------------------------------------------------------

std::string Name::api_host() const {
  return domain == kDockerHub ? std::string(kDockerHubApi) : domain;
}
std::string Name::reference() const { return digest.empty() ? tag : digest; }
std::string Name::str() const {
  return domain + "/" + repository + (digest.empty() ? ":" + tag : "@" + digest);
}

Name parse_name(std::string_view text) {
  auto fail = [&](std::string_view why) -> Error {
    return Error("docker://" + escape(text, 200) + ": " + std::string(why));
  };
  if (!is_docker_reference(text)) throw fail("not a valid HOST/NAME[:TAG|@DIGEST]");
  Name n;
  std::string_view s = text;
  if (auto at = s.find('@'); at != std::string_view::npos) {
    n.digest = std::string(s.substr(at + 1));
    if (!is_valid_sha256_digest(n.digest)) throw fail("only sha256 digests are supported");
    s = s.substr(0, at);
  }
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    n.tag = std::string(s.substr(colon + 1));
    s = s.substr(0, colon);
  }
  if (n.tag.empty() && n.digest.empty()) n.tag = "latest";
  auto first = s.find('/');
  std::string_view head = s.substr(0, first);
  bool has_domain = first != std::string_view::npos &&
                    (head.find_first_of(".:") != std::string_view::npos || head == "localhost");
  if (has_domain) {
    n.domain = std::string(head);
    n.repository = std::string(s.substr(first + 1));
  } else {
    n.domain = std::string(kDockerHub);
    n.repository = std::string(s);
  }
  if (n.domain == "index.docker.io") n.domain = std::string(kDockerHub);
  if (n.domain == kDockerHub && n.repository.find('/') == std::string::npos) {
    n.repository = "library/" + n.repository;
  }
  return n;
}

bool is_loopback(std::string_view domain) {
  std::string_view host = domain;
  if (starts_with(host, "[")) {
    host = host.substr(1, host.find(']') == std::string_view::npos ? 0 : host.find(']') - 1);
  } else if (auto c = host.find(':'); c != std::string_view::npos) {
    host = host.substr(0, c);
  }
  if (host == "localhost" || host == "::1") return true;
  if (!starts_with(host, "127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

// --- certs.d ---------------------------------------------------------------------------------

std::optional<CertsDir> find_certs_dir(std::string_view domain,
                                       const std::vector<std::string>& roots) {
  for (const std::string& root : roots) {
    std::string dir = root + "/" + std::string(domain);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    CertsDir out;
    out.dir = dir;
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    auto has = [&](const std::string& n) {
      return std::binary_search(names.begin(), names.end(), n);
    };
    for (const std::string& n : names) {
      if (ends_with(n, ".crt")) out.ca_files.push_back(dir + "/" + n);
      std::string stem = n.substr(0, n.rfind('.'));
      if (ends_with(n, ".cert")) {
        if (!has(stem + ".key")) {
          throw Error(dir + "/" + n + ": a client certificate without its key " + stem + ".key");
        }
        out.cert_file = dir + "/" + n;
        out.key_file = dir + "/" + stem + ".key";
      } else if (ends_with(n, ".key") && !has(stem + ".cert")) {
        throw Error(dir + "/" + n + ": a client key without its certificate " + stem + ".cert");
      }
    }
    return out;
  }
  return std::nullopt;
}

// --- WWW-Authenticate ------------------------------------------------------------------------

namespace {
// RFC 7230's token: the characters a scheme may have.
bool is_token(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}
}  // namespace

std::vector<Challenge> parse_challenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < h.size() && h[i] != ' ' && h[i] != '\t' && h[i] != ',' && h[i] != '=') ++i;
    return h.substr(start, i - start);
  };
  while (true) {
    skip_space();
    if (i >= h.size()) break;
    std::string_view name = token();
    size_t after = i;
    while (after < h.size() && (h[after] == ' ' || h[after] == '\t')) ++after;
    if (after < h.size() && h[after] == '=' && !out.empty()) {  // a parameter
      i = after + 1;
      while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
      std::string value;
      if (i < h.size() && h[i] == '"') {
        for (++i; i < h.size() && h[i] != '"'; ++i) {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value += h[i];
        }
        if (i < h.size()) ++i;  // the closing quote
      } else {
        while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') value += h[i++];
      }
      out.back().params[ascii_lower(name)] = std::move(value);
      continue;
    }
    if (name.empty() || !is_token(name)) {  // a stray '=' or quote: not a challenge
      if (name.empty()) ++i;
      continue;
    }
    out.push_back(Challenge{ascii_lower(name), {}});
  }
  return out;
}

// --- credentials -----------------------------------------------------------------------------

HelperRunner exec_helper_runner() {
  return [](const std::string& helper, const std::string& server) -> std::optional<std::string> {
    std::string program = "docker-credential-" + helper;
    std::string what = "credential helper " + escape(program, 60);
    if (helper.empty() || helper.find('/') != std::string::npos) {
      throw Error(what + ": not a helper name");
    }
    // stdin: the server; stdout: the JSON or "credentials not found"; stderr: kept for the
    // message of a failure (the docker CLI reads them the same way).
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    auto close_all = [&] {
      for (int* p : {in, out, err}) {
        for (int i = 0; i < 2; ++i) {
          if (p[i] >= 0) ::close(p[i]);
          p[i] = -1;
        }
      }
    };
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
        ::pipe2(err, O_CLOEXEC) != 0) {
      int e = errno;
      close_all();
      throw Error(what + ": pipe: " + std::strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::string get = "get";
    char* argv[] = {program.data(), get.data(), nullptr};
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, program.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    for (int* fd : {&in[0], &out[1], &err[1]}) {
      ::close(*fd);
      *fd = -1;
    }
    if (rc != 0) {
      close_all();
      throw Error(what + ": cannot run it (" + std::strerror(rc) +
                  "; config.json names it: install it or remove the entry)");
    }
    // The server name is a few bytes: it fits the pipe, so writing first cannot block. A helper
    // that exits without reading it must not kill coroner with SIGPIPE.
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    [[maybe_unused]] ssize_t w = ::write(in[1], server.data(), server.size());
    ::sigaction(SIGPIPE, &old, nullptr);
    ::close(in[1]);
    in[1] = -1;
    std::string output, errors;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&output, &errors};
    char buf[4096];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          fds[i].fd = -1;  // closed by close_all below
          continue;
        }
        if (sinks[i]->size() < kMaxHelperOutput) sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
    close_all();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output;
    if (output.find("credentials not found") != std::string::npos) return std::nullopt;
    std::string why = std::string(trim(output));
    if (why.empty()) why = std::string(trim(errors));
    if (why.empty()) why = "it failed with status " + std::to_string(WEXITSTATUS(status));
    throw Error(what + " get: " + escape(why, 300));
  };
}

std::optional<Credentials> find_credentials(std::string_view config_json, std::string_view domain,
                                            const HelperRunner& run, std::string_view config_path) {
  std::string where(config_path);
  json config = json::parse(config_json, nullptr, false);
  if (!config.is_object()) throw Error(where + ": not a JSON object");
  bool hub = names_docker_hub(domain);
  std::string server = hub ? std::string(kDockerHubAuthKey) : std::string(domain);

  auto from_helper = [&](const std::string& helper) -> std::optional<Credentials> {
    auto out = run(helper, server);
    if (!out) return std::nullopt;
    return credentials_from_helper(*out, helper);
  };
  if (config.contains("credHelpers") && config["credHelpers"].is_object()) {
    for (const auto& [key, helper] : config["credHelpers"].items()) {
      if (hostname_of(key) != hostname_of(server) && !(hub && names_docker_hub(hostname_of(key))))
        continue;
      if (!helper.is_string())
        throw Error(where + ": credHelpers." + escape(key, 80) + ": not a string");
      return from_helper(helper.get<std::string>());
    }
  }
  if (std::string store = string_field(config, "credsStore"); !store.empty()) {
    return from_helper(store);
  }
  if (!config.contains("auths") || !config["auths"].is_object()) return std::nullopt;
  for (const auto& [key, entry] : config["auths"].items()) {
    std::string_view host = hostname_of(key);
    if (host != domain && !(hub && names_docker_hub(host))) continue;
    std::string what = where + ": auths." + escape(key, 80);
    if (!entry.is_object()) throw Error(what + ": not an object");
    Credentials c;
    c.origin = std::string(config_path) + " auths";
    c.identity_token = string_field(entry, "identitytoken");
    if (std::string auth = string_field(entry, "auth"); !auth.empty()) {
      std::string decoded;
      auto colon = base64_decode(trim(auth), decoded) ? decoded.find(':') : std::string::npos;
      if (colon == std::string::npos) throw Error(what + ".auth: not base64 of USER:PASSWORD");
      c.username = decoded.substr(0, colon);
      c.password = decoded.substr(colon + 1);
    } else {
      c.username = string_field(entry, "username");
      c.password = string_field(entry, "password");
    }
    if (c.username.empty() && c.password.empty() && c.identity_token.empty()) continue;
    return c;
  }
  return std::nullopt;
}

// --- replies ---------------------------------------------------------------------------------

std::string error_message(long status, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  std::string out;
  if (j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    for (const json& e : j["errors"]) {
      std::string code = string_field(e, "code"), message = string_field(e, "message");
      std::string one = code.empty() ? message : message.empty() ? code : code + ": " + message;
      if (one.empty()) continue;
      out += (out.empty() ? "" : "; ") + one;
    }
  }
  if (out.empty()) out = std::string(trim(body.substr(0, 400)));
  std::string status_text = "HTTP " + std::to_string(status);
  return out.empty() ? status_text : escape(out, 400) + " (" + status_text + ")";
}

std::string parse_token_reply(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  std::string token = string_field(j, "token");
  if (token.empty()) token = string_field(j, "access_token");
  if (token.empty()) throw Error("the token server's reply has no token");
  for (char c : token) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      throw Error("the token server's token has a control character or space");
    }
  }
  return token;
}

// The manifest's kind: its mediaType field, else the Content-Type the registry sent, else its
// fields (mediaType is optional in OCI, and some registries send application/json), as
// containerd tells them apart.
std::string media_type_of(std::string_view body, std::string_view content_type,
                          std::string_view what) {
  std::string type = peek_media_type(body, what);
  if (!type.empty()) return type;
  if (document_kind(content_type) != DocumentKind::kOther || starts_with(content_type, kSchema1)) {
    return std::string(content_type);
  }
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return std::string(content_type);
  if (j.contains("manifests")) return std::string(kOciIndex);
  if (j.contains("config") && j.contains("layers")) return std::string(kOciManifest);
  if (j.contains("schemaVersion") && j["schemaVersion"] == 1)
    return std::string(kSchema1) + "+json";
  return std::string(content_type);
}

// --- Client ----------------------------------------------------------------------------------

Client::Client(Name name, ClientOptions options)
    : name_(std::move(name)), options_(std::move(options)) {
  if (!options_.run_helper) options_.run_helper = exec_helper_runner();
  insecure_ = options_.insecure || is_loopback(name_.domain);
  certs_ = find_certs_dir(name_.domain, options_.certs_roots);
  if (certs_ && !certs_->ca_files.empty()) {
    ca_pem_ = http::system_ca_pem();
    for (const std::string& f : certs_->ca_files) {
      auto pem = read_small_file(f, kMaxCertFile);
      if (!pem) throw Error(f + ": cannot be read");
      ca_pem_ += "\n" + *pem;
    }
  }
  connect();
}

std::string Client::describe_failure(const std::string& url, bool tls, bool unreachable,
                                     const std::string& detail) const {
  std::string out = (unreachable ? "not reachable at " : "") + escape(url, 200) + ": " + detail;
  if (tls && !insecure_) {
    out +=
        " (a certificate coroner does not trust: put the registry's CA in "
        "/etc/docker/certs.d/" +
        name_.domain + "/ca.crt, or pass --insecure)";
  }
  return out;
}

void Client::apply_tls(http::Request& r) const {
  r.tls_verify = !insecure_;
  if (!certs_) return;
  r.ca_pem = ca_pem_;
  r.cert_file = certs_->cert_file;
  r.key_file = certs_->key_file;
}

// What a 401 or 403 means for this user: refused credentials, or none (Docker Hub also answers
// 401 for a repository that does not exist).
std::string Client::denied_hint(long status) const {
  if (status != 401 && status != 403) return {};
  if (credentials_) return " (the credentials from " + credentials_->origin + " were refused)";
  return " (no credentials for " + name_.domain + " in config.json: docker login " + name_.domain +
         "; or the repository does not exist)";
}

std::string Client::authorization() const {
  std::lock_guard<std::mutex> lock(mu_);
  return authorization_;
}

// GET /v2/ as docker does first: which scheme works, and what authentication it wants.
void Client::connect() {
  std::vector<std::string> schemes = {"https"};
  if (insecure_) schemes.push_back("http");
  std::string last_error;
  for (const std::string& scheme : schemes) {
    http::Request r;
    r.url = scheme + "://" + name_.api_host() + "/v2/";
    apply_tls(r);
    r.max_body = 1 << 20;
    try {
      http::Reply reply = http::perform(r, [&](const http::Failure& f) {
        if (f.signal != 0) return "interrupted by signal " + std::to_string(f.signal);
        return describe_failure(r.url, f.tls, f.unreachable, f.detail);
      });
      base_url_ = scheme + "://" + name_.api_host();
      if (reply.status == 401) {
        authenticate(reply.header("www-authenticate"));
      } else if (reply.status >= 500) {
        throw Error("GET " + r.url + ": " + error_message(reply.status, reply.body));
      }
      // Any other answer: no authentication asked for; the requests that follow say the rest
      // (docker pull reads the ping the same way).
      return;
    } catch (const Error& e) {
      if (!base_url_.empty()) throw;  // it answered: no fallback
      last_error = e.what();
    }
  }
  throw Error(last_error);
}

void Client::authenticate(const std::string& header) {
  std::lock_guard<std::mutex> auth_lock(auth_mu_);
  if (!credentials_read_) {
    credentials_read_ = true;
    std::string path = options_.config_dir + "/config.json";
    if (auto text = read_small_file(path, kMaxConfigFile)) {
      credentials_ = find_credentials(*text, name_.domain, options_.run_helper, path);
    }
  }
  std::string auth;
  for (const Challenge& c : parse_challenges(header)) {
    if (c.scheme == "bearer") {
      auto realm = c.params.find("realm");
      if (realm == c.params.end()) continue;
      auto service = c.params.find("service");
      auth =
          "Bearer " + fetch_token(realm->second, service == c.params.end() ? "" : service->second,
                                  "repository:" + name_.repository + ":pull");
      break;
    }
    if (c.scheme == "basic" && credentials_ && !credentials_->username.empty()) {
      auth = "Basic " + base64_encode(credentials_->username + ":" + credentials_->password);
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  authorization_ = std::move(auth);
}

std::string Client::fetch_token(const std::string& realm, const std::string& service,
                                const std::string& scope) {
  std::string what = "token server " + escape(realm, 200);
  if (!starts_with(realm, "https://") && !starts_with(realm, "http://")) {
    throw Error(what + ": the realm is not an http(s) URL");
  }
  http::Request r;
  apply_tls(r);
  r.max_body = kMaxTokenReply;
  r.follow_redirects = true;
  std::string form;
  if (credentials_ && !credentials_->identity_token.empty()) {
    // OAuth2 refresh_token grant (distribution's docs/spec/auth/oauth.md).
    form = "grant_type=refresh_token&client_id=coroner&refresh_token=" +
           http::url_escape(credentials_->identity_token) +
           "&service=" + http::url_escape(service) + "&scope=" + http::url_escape(scope);
    r.url = realm;
    r.method = "POST";
    r.body = &form;
    r.content_type = "application/x-www-form-urlencoded";
  } else {
    r.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") +
            "service=" + http::url_escape(service) + "&scope=" + http::url_escape(scope);
    if (credentials_ && !credentials_->username.empty()) {
      r.headers.push_back("Authorization: Basic " +
                          base64_encode(credentials_->username + ":" + credentials_->password));
    }
  }
  http::Reply reply = http::perform(r, [&](const http::Failure& f) {
    return describe_failure(r.url, f.tls, f.unreachable, f.detail);
  });
  if (reply.status != 200) {
    throw Error(what + ": " + error_message(reply.status, reply.body) + denied_hint(reply.status));
  }
  return with_context(what, [&] { return parse_token_reply(reply.body); });
}

Client::Manifest Client::manifest(const std::string& reference) {
  std::string url = base_url_ + "/v2/" + name_.repository + "/manifests/" + reference;
  std::string what = "manifest " + reference;
  for (int attempt = 0;; ++attempt) {
    http::Request r;
    r.url = url;
    apply_tls(r);
    r.headers = manifest_accept();
    if (std::string a = authorization(); !a.empty()) r.headers.push_back("Authorization: " + a);
    r.max_body = kMaxJsonSize;
    r.follow_redirects = true;
    http::Reply reply = with_context(what, [&] {
      return http::perform(r, [&](const http::Failure& f) {
        return describe_failure(url, f.tls, f.unreachable, f.detail);
      });
    });
    if (reply.status == 401 && attempt == 0) {
      authenticate(reply.header("www-authenticate"));
      continue;
    }
    if (reply.status != 200) {
      throw Error(what + ": " + error_message(reply.status, reply.body) +
                  denied_hint(reply.status));
    }
    std::string type = reply.header("content-type");
    type = std::string(trim(type.substr(0, type.find(';'))));
    return Manifest{std::move(reply.body), std::move(type)};
  }
}

std::string Client::blob(const std::string& digest, uint64_t max) {
  return read_all(*open_blob(digest, "blob " + digest), max);
}

std::unique_ptr<ByteStream> Client::open_blob(const std::string& digest, std::string what) {
  std::string url = base_url_ + "/v2/" + name_.repository + "/blobs/" + digest;
  for (int attempt = 0;; ++attempt) {
    http::Request r;
    r.url = url;
    apply_tls(r);
    r.follow_redirects = true;
    r.resume_attempts = 3;  // a layer is hundreds of MB: a dropped connection resumes
    if (std::string a = authorization(); !a.empty()) r.headers.push_back("Authorization: " + a);
    long status = 0;
    std::string challenge;
    try {
      return http::open_stream(
          r, what,
          [this, url](const http::Failure& f) {
            if (f.signal != 0) return "interrupted by signal " + std::to_string(f.signal);
            return describe_failure(url, f.tls, f.unreachable, f.detail);
          },
          [&](const http::Reply& reply) {
            status = reply.status;
            challenge = reply.header("www-authenticate");
            return error_message(reply.status, reply.body);
          });
    } catch (const Error&) {
      // A token expires (Docker Hub's after 5 minutes): fetch a fresh one, once.
      if (status != 401 || attempt > 0 || challenge.empty()) throw;
      authenticate(challenge);
    }
  }
}

}  // namespace coroner::image::registry
