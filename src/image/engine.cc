#include "image/engine.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/stream.h"
#include "base/text.h"
#include "image/http.h"

namespace coroner::image::engine {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxBody = 64ull << 20;     // bodies read whole (inspect, lists, logs)
constexpr uint64_t kMaxConfigFile = 16 << 20;  // config.json, a context's meta.json

// --- version numbers ------------------------------------------------------------------------

std::optional<std::pair<int, int>> parse_version(std::string_view v) {
  auto dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= v.size()) return std::nullopt;
  int parts[2] = {0, 0};
  std::string_view s[2] = {v.substr(0, dot), v.substr(dot + 1)};
  for (int i = 0; i < 2; ++i) {
    if (s[i].size() > 4) return std::nullopt;
    for (char c : s[i]) {
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  return std::make_pair(parts[0], parts[1]);
}

// --- endpoint --------------------------------------------------------------------------------

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string hex_sha256(std::string_view s) { return sha256_digest(as_bytes(s)).substr(7); }

Endpoint context_endpoint(const EndpointInputs& in, const std::string& name) {
  std::string hex = hex_sha256(name);
  std::string meta_path = in.config_dir + "/contexts/meta/" + hex + "/meta.json";
  std::string what = "docker context " + escape(name, 80);
  std::string text = read_small_file(meta_path, kMaxConfigFile).value_or("");
  if (text.empty()) throw Error(what + ": not found (" + meta_path + " is missing)");
  json meta = json::parse(text, nullptr, false);
  const json* host = nullptr;
  if (meta.is_object() && meta.contains("Endpoints") && meta["Endpoints"].is_object() &&
      meta["Endpoints"].contains("docker") && meta["Endpoints"]["docker"].is_object()) {
    const json& d = meta["Endpoints"]["docker"];
    if (d.contains("Host") && d["Host"].is_string()) host = &d["Host"];
  }
  if (host == nullptr) throw Error(what + ": " + meta_path + ": no Endpoints.docker.Host");
  const json& d = meta["Endpoints"]["docker"];
  std::string tls_dir = in.config_dir + "/contexts/tls/" + hex + "/docker";
  bool has_tls = exists(tls_dir + "/ca.pem") || exists(tls_dir + "/cert.pem");
  Endpoint e = parse_docker_host(host->get<std::string>(), has_tls);
  e.origin = "context " + escape(name, 80);
  if (has_tls) {
    e.tls = true;
    if (exists(tls_dir + "/ca.pem")) e.ca_file = tls_dir + "/ca.pem";
    if (exists(tls_dir + "/cert.pem")) e.cert_file = tls_dir + "/cert.pem";
    if (exists(tls_dir + "/key.pem")) e.key_file = tls_dir + "/key.pem";
  }
  if (d.contains("SkipTLSVerify") && d["SkipTLSVerify"].is_boolean()) {
    e.tls_verify = !d["SkipTLSVerify"].get<bool>();
  }
  return e;
}

std::string current_context(const EndpointInputs& in) {
  if (!in.docker_context.empty()) return in.docker_context;
  std::string text = read_small_file(in.config_dir + "/config.json", kMaxConfigFile).value_or("");
  if (text.empty()) return {};
  json config = json::parse(text, nullptr, false);
  if (!config.is_object() || !config.contains("currentContext")) return {};
  const json& c = config["currentContext"];
  return c.is_string() ? c.get<std::string>() : std::string();
}

// --- requests --------------------------------------------------------------------------------

http::Request request_for(const Endpoint& e, const std::string& url) {
  http::Request r;
  r.url = url;
  if (e.kind == Endpoint::Kind::kUnix) r.unix_socket = e.address;
  if (e.tls) {
    r.ca_file = e.ca_file;
    r.cert_file = e.cert_file;
    r.key_file = e.key_file;
    r.tls_verify = e.tls_verify;
  }
  r.max_body = kMaxBody;
  return r;
}

// One line naming the daemon and what to do about a transport failure.
http::Describe describe_for(const Endpoint& e) {
  return [e](const http::Failure& f) -> std::string {
    std::string where = e.url() + " (" + e.origin + ")";
    if (f.signal != 0) return "Docker daemon: interrupted by signal " + std::to_string(f.signal);
    if (f.unreachable) {
      if (f.os_errno == EACCES) {
        return "Docker daemon: permission denied on the socket " + e.address +
               " (add your user to the docker group, or run as root)";
      }
      std::string why = f.os_errno == ENOENT ? "no such socket"
                        : f.os_errno != 0    ? std::strerror(static_cast<int>(f.os_errno))
                                             : f.detail;
      return "Docker daemon not reachable at " + where + ": " + why +
             " (is dockerd running? set DOCKER_HOST to its socket)";
    }
    return "Docker daemon at " + where + ": " + f.detail;
  };
}

}  // namespace

// --- public pure helpers ---------------------------------------------------------------------

std::string Endpoint::url() const {
  return kind == Kind::kUnix ? "unix://" + address : "tcp://" + address;
}

Endpoint parse_docker_host(std::string_view host, bool tls) {
  std::string what = "DOCKER_HOST " + escape(host, 120);
  Endpoint e;
  e.tls = tls;
  std::string_view rest = host;
  std::string_view scheme = "tcp";
  if (auto p = host.find("://"); p != std::string_view::npos) {
    scheme = host.substr(0, p);
    rest = host.substr(p + 3);
  }
  if (scheme == "unix") {
    if (rest.empty() || rest[0] != '/') throw Error(what + ": expected unix:///absolute/path");
    e.kind = Endpoint::Kind::kUnix;
    e.address = std::string(rest);
    return e;
  }
  if (scheme == "ssh" || scheme == "npipe" || scheme == "fd") {
    throw Error(what + ": " + std::string(scheme) +
                ":// is not supported (coroner talks to the Engine API itself; use unix:// or "
                "tcp://)");
  }
  if (scheme != "tcp" && scheme != "http" && scheme != "https") {
    throw Error(what + ": unknown scheme " + escape(scheme, 20));
  }
  if (scheme == "https") e.tls = true;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    throw Error(what + ": expected tcp://HOST[:PORT]");
  }
  e.kind = Endpoint::Kind::kTcp;
  e.address = std::string(rest);
  // "[::1]:2375" and "host:2375" have a port; "host" and "[::1]" do not.
  auto colon = rest.rfind(':');
  auto bracket = rest.rfind(']');
  bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  if (!has_port) e.address += e.tls ? ":2376" : ":2375";
  return e;
}

EndpointInputs endpoint_inputs_from_env() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  EndpointInputs in;
  in.docker_host = env("DOCKER_HOST");
  in.docker_context = env("DOCKER_CONTEXT");
  in.docker_tls_verify = env("DOCKER_TLS_VERIFY");
  in.docker_cert_path = env("DOCKER_CERT_PATH");
  in.config_dir = env("DOCKER_CONFIG");
  if (in.config_dir.empty()) in.config_dir = env("HOME") + "/.docker";
  return in;
}

Endpoint resolve_endpoint(const EndpointInputs& in) {
  if (!in.docker_host.empty()) {
    bool tls = !in.docker_tls_verify.empty();
    Endpoint e = parse_docker_host(in.docker_host, tls);
    e.origin = "DOCKER_HOST";
    if (e.tls && e.kind == Endpoint::Kind::kTcp) {
      std::string dir = in.docker_cert_path.empty() ? in.config_dir : in.docker_cert_path;
      e.ca_file = dir + "/ca.pem";
      e.cert_file = dir + "/cert.pem";
      e.key_file = dir + "/key.pem";
      e.tls_verify = !in.docker_tls_verify.empty() && in.docker_tls_verify != "0";
    }
    return e;
  }
  std::string name = current_context(in);
  if (!name.empty() && name != "default") return context_endpoint(in, name);
  Endpoint e = parse_docker_host(kDefaultHost);
  e.origin = "default";
  return e;
}

std::string negotiate_api_version(std::string_view server) {
  auto have = parse_version(server);
  if (!have) throw Error("Docker daemon: API version " + escape(server, 20) + " is not a version");
  auto max = *parse_version(kMaxApiVersion);
  auto min = *parse_version(kMinApiVersion);
  if (*have < min) {
    throw Error("Docker daemon: API version " + std::string(server) +
                " is too old (coroner needs " + std::string(kMinApiVersion) +
                " or later: Docker 1.13+)");
  }
  return std::string(*have < max ? server : kMaxApiVersion);
}

std::vector<LogFrame> decode_multiplexed(std::span<const std::byte> body) {
  std::vector<LogFrame> out;
  ByteReader r(body, /*little_endian=*/false);
  while (r.remaining() > 0) {
    uint64_t at = r.offset();
    if (r.remaining() < 8) {
      throw Error("log stream: offset " + std::to_string(at) + ": truncated frame header (" +
                  std::to_string(r.remaining()) + " bytes)");
    }
    auto stream = r.read<uint8_t>();
    r.skip(3);
    uint32_t size = r.read<uint32_t>();
    if (stream > 2) {
      throw Error("log stream: offset " + std::to_string(at) + ": unknown stream " +
                  std::to_string(stream) + " (a TTY stream read as multiplexed?)");
    }
    if (size > r.remaining()) {
      throw Error("log stream: offset " + std::to_string(at) + ": frame of " +
                  std::to_string(size) + " bytes, " + std::to_string(r.remaining()) + " left");
    }
    std::string_view data = as_chars(r.bytes(size));
    // stdin frames (0) never appear in logs; count them as stdout.
    if (!out.empty() && out.back().stream == std::max<int>(stream, 1) && !out.back().data.empty() &&
        out.back().data.back() != '\n') {
      out.back().data += data;  // a line split over frames
      continue;
    }
    out.push_back(LogFrame{std::max<int>(stream, 1), std::string(data)});
  }
  return out;
}

std::vector<std::string> log_lines(std::string_view body, bool tty) {
  std::vector<std::string> lines;
  auto add_text = [&](std::string_view text) {
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines.emplace_back(line);
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
  };
  if (tty) {
    add_text(body);
    return lines;
  }
  for (const LogFrame& f : decode_multiplexed(as_bytes(body))) add_text(f.data);
  return lines;
}

std::vector<std::string> ids_with_prefix(const std::vector<std::string>& ids,
                                         std::string_view prefix) {
  std::vector<std::string> out;
  if (prefix.empty() || prefix.size() > 64) return out;
  for (char c : prefix) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return out;
  }
  for (const std::string& id : ids) {
    std::string_view hex = id;
    if (starts_with(hex, "sha256:")) hex.remove_prefix(7);
    if (starts_with(hex, prefix)) out.push_back(id);
  }
  return out;
}

std::string short_id(std::string_view id) {
  if (starts_with(id, "sha256:")) id.remove_prefix(7);
  return std::string(id.substr(0, 12));
}

std::string error_message(const Response& r) {
  json j = json::parse(r.body, nullptr, false);
  std::string msg;
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    msg = j["message"].get<std::string>();
  } else {
    msg = std::string(trim(r.body));
  }
  if (msg.empty()) msg = "HTTP status " + std::to_string(r.status);
  return escape(msg, 400);
}

void set_interrupt_signal(int sig) { http::set_interrupt_signal(sig); }
int interrupt_signal() { return http::interrupt_signal(); }

// --- Client ----------------------------------------------------------------------------------

Client::Client(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}
Client::~Client() = default;

const std::string& Client::api_version() {
  if (!api_version_.empty()) return api_version_;
  Response r = perform("GET", "/version", nullptr);
  if (r.status != 200) {
    throw Error("Docker daemon at " + endpoint_.url() + ": GET /version: " + error_message(r));
  }
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("ApiVersion") || !j["ApiVersion"].is_string()) {
    throw Error("Docker daemon at " + endpoint_.url() + ": /version has no ApiVersion");
  }
  api_version_ = negotiate_api_version(j["ApiVersion"].get<std::string>());
  return api_version_;
}

std::string Client::url(const std::string& path) {
  std::string base = endpoint_.kind == Endpoint::Kind::kUnix
                         ? "http://localhost"
                         : (endpoint_.tls ? "https://" : "http://") + endpoint_.address;
  if (path == "/version") return base + path;
  return base + "/v" + api_version() + path;
}

Response Client::perform(const std::string& method, const std::string& path,
                         const std::string* body) {
  http::Request req = request_for(endpoint_, url(path));
  req.method = method;
  req.body = body;
  http::Reply reply = http::perform(req, describe_for(endpoint_));
  return Response{reply.status, std::move(reply.body)};
}

Response Client::get(const std::string& path) { return perform("GET", path, nullptr); }
Response Client::post_json(const std::string& path, const std::string& json_body) {
  return perform("POST", path, &json_body);
}
Response Client::del(const std::string& path) { return perform("DELETE", path, nullptr); }

std::unique_ptr<ByteStream> Client::stream(const std::string& path, std::string name) {
  return http::open_stream(request_for(endpoint_, url(path)), std::move(name),
                           describe_for(endpoint_), [](const http::Reply& r) {
                             return error_message(Response{r.status, r.body});
                           });
}

std::optional<std::string> Client::raw_request(std::string_view method, const std::string& path) {
  if (endpoint_.tls) return std::nullopt;
  std::string host = endpoint_.kind == Endpoint::Kind::kUnix ? "localhost" : endpoint_.address;
  return std::string(method) + " /v" + api_version() + path + " HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: coroner\r\nConnection: close\r\n\r\n";
}

}  // namespace coroner::image::engine
