// docker-daemon: and container: over engine.h. The docker-daemon: layers come from
// GET /images/{id}/get (a docker save tar), scanned as the stream arrives (SaveStreamSource;
// spooled to an unlinked temporary file too when the command reads content twice); with via
// "export" from a container that is created (never started) and exported as one flat tar,
// streamed into the scan (teed into a spool file only when the command reads content twice:
// cat, grep, export). That container is removed at the end of the export, when the source is
// destroyed, or from a SIGINT/SIGTERM/SIGHUP handler that sends the DELETE itself.
#include "image/engine_source.h"

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.h"
#include "base/text.h"
#include "image/archive_source.h"
#include "image/blob_store.h"
#include "image/http.h"
#include "image/libarchive_util.h"
#include "image/manifest.h"
#include "image/unique_fd.h"

namespace coroner::image {
namespace {

using json = nlohmann::json;
using engine::Client;
using engine::Response;

constexpr size_t kLogTail = 50;

json parse_json(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw Error(std::string(what) + ": the daemon's answer is not JSON");
  return j;
}

std::string str_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

int64_t int_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return 0;
  return j[key].get<int64_t>();
}

bool bool_field(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}

json get_ok(Client& c, const std::string& path, std::string_view what) {
  Response r = c.get(path);
  if (r.status != 200) throw Error(std::string(what) + ": " + engine::error_message(r));
  return parse_json(r.body, what);
}

std::vector<std::string> ids_of(const json& list) {
  std::vector<std::string> ids;
  if (!list.is_array()) return ids;
  for (const json& e : list) {
    std::string id = str_field(e, "Id");
    if (!id.empty()) ids.push_back(id);
  }
  return ids;
}

bool maybe_short_id(std::string_view name) {
  return !name.empty() && name.size() < 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

struct Inspected {
  std::string id;
  std::string body;
};

Inspected inspect_image(Client& c, const std::string& name) {
  Response r = c.get("/images/" + http::url_escape(name) + "/json");
  std::vector<std::string> listed;
  if (r.status != 200 && maybe_short_id(name))
    listed = ids_of(get_ok(c, "/images/json?all=1", "image list"));
  return {resolve_id("image", name, r, listed), std::move(r.body)};
}

Inspected inspect_container(Client& c, const std::string& name) {
  Response r = c.get("/containers/" + http::url_escape(name) + "/json");
  std::vector<std::string> listed;
  if (r.status != 200 && maybe_short_id(name)) {
    std::string filter = "{\"id\":[\"" + name + "\"]}";
    listed = ids_of(
        get_ok(c, "/containers/json?all=1&filters=" + http::url_escape(filter), "container list"));
  }
  return {resolve_id("container", name, r, listed), std::move(r.body)};
}

// RFC 3339 of a Unix time (the history endpoint gives seconds).
std::string rfc3339(int64_t t) {
  if (t <= 0) return {};
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Dockerfile instructions that change only the config (no layer), as the legacy builder
// ("/bin/sh -c #(nop)  ENV A=1") and BuildKit ("ENV A=1") write them in created_by.
bool is_metadata_step(std::string_view created_by) {
  std::string_view s = trim(created_by);
  for (std::string_view p : {std::string_view("/bin/sh -c #(nop)"), std::string_view("#(nop)")}) {
    if (starts_with(s, p)) s = trim(s.substr(p.size()));
  }
  static constexpr std::string_view kWords[] = {
      "ENV", "CMD",         "ENTRYPOINT", "LABEL", "EXPOSE", "USER",    "WORKDIR",
      "ARG", "HEALTHCHECK", "STOPSIGNAL", "SHELL", "VOLUME", "ONBUILD", "MAINTAINER"};
  std::string_view word = s.substr(0, s.find(' '));
  return std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords);
}

json history_to_config(const json& history, std::vector<std::string>& notes, size_t layers) {
  json out = json::array();
  if (!history.is_array()) return out;
  size_t non_empty = 0;
  for (auto it = history.rbegin(); it != history.rend(); ++it) {  // oldest first
    const json& h = *it;
    json e = json::object();
    std::string created = rfc3339(int_field(h, "Created"));
    if (!created.empty()) e["created"] = created;
    std::string by = str_field(h, "CreatedBy");
    if (!by.empty()) e["created_by"] = by;
    std::string comment = str_field(h, "Comment");
    if (!comment.empty()) e["comment"] = comment;
    bool empty = int_field(h, "Size") == 0 && is_metadata_step(by);
    if (empty) e["empty_layer"] = true;
    non_empty += empty ? 0 : 1;
    out.push_back(std::move(e));
  }
  if (non_empty != layers) {
    notes.push_back("history: " + std::to_string(non_empty) + " steps look like layers for " +
                    std::to_string(layers) +
                    " layers (the Engine API does not mark empty steps), so steps may be "
                    "matched to the wrong layers");
  }
  return out;
}

// The fields of an inspect (image or container) as an OCI image config document.
json config_document(const json& inspect, const json& image_inspect) {
  json doc = json::object();
  const json& src = image_inspect.is_object() ? image_inspect : inspect;
  std::string os = str_field(src, "Os");
  if (os.empty()) os = str_field(inspect, "Platform");
  if (!os.empty()) doc["os"] = os;
  std::string arch = str_field(src, "Architecture");
  if (!arch.empty()) doc["architecture"] = arch;
  std::string variant = str_field(src, "Variant");
  if (!variant.empty()) doc["variant"] = variant;
  if (inspect.contains("Config") && inspect["Config"].is_object())
    doc["config"] = inspect["Config"];
  return doc;
}

// --- spool ---------------------------------------------------------------------------------

void write_all(int fd, const std::byte* p, size_t n, uint64_t at, const std::string& what) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(at));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw Error(what + ": temporary file: " + std::strerror(errno));
    p += w;
    at += static_cast<uint64_t>(w);
    n -= static_cast<size_t>(w);
  }
}

// A stream read once, whose bytes are kept in a spool file as they are read, so that any
// number of streams can read them again (the stdin source does the same). `on_end` runs once
// when the input ends.
class TeeSpool {
 public:
  TeeSpool(std::function<std::unique_ptr<ByteStream>()> open, std::function<void()> on_end,
           std::string name)
      : open_(std::move(open)),
        on_end_(std::move(on_end)),
        name_(std::move(name)),
        spool_(make_spool_file()) {}

  size_t read_at(uint64_t pos, std::span<std::byte> buf) {
    std::lock_guard<std::mutex> lock(mu_);
    while (pos >= spooled_ && !eof_) pull();
    if (pos >= spooled_ || buf.empty()) return 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), spooled_ - pos));
    for (;;) {
      ssize_t n = ::pread(spool_.get(), buf.data(), want, static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(name_ + ": temporary file: " + std::strerror(errno));
      return static_cast<size_t>(n);
    }
  }
  void drain() {
    std::lock_guard<std::mutex> lock(mu_);
    while (!eof_) pull();
  }
  const std::string& name() const { return name_; }

 private:
  // Requires: mu_ held.
  void pull() {
    if (!in_) in_ = open_();
    std::byte buf[256 * 1024];
    size_t n = in_->read(buf);
    if (n == 0) {
      eof_ = true;
      in_.reset();
      if (on_end_) on_end_();
      return;
    }
    write_all(spool_.get(), buf, n, spooled_, name_);
    spooled_ += n;
  }

  std::mutex mu_;
  std::function<std::unique_ptr<ByteStream>()> open_;
  std::function<void()> on_end_;
  std::string name_;
  detail::UniqueFd spool_;
  std::unique_ptr<ByteStream> in_;
  uint64_t spooled_ = 0;
  bool eof_ = false;
};

class TeeStream : public ByteStream {
 public:
  explicit TeeStream(TeeSpool& spool) : spool_(spool) {}
  size_t read(std::span<std::byte> buf) override {
    size_t n = spool_.read_at(pos_, buf);
    pos_ += n;
    return n;
  }
  std::string name() const override { return spool_.name(); }

 private:
  TeeSpool& spool_;
  uint64_t pos_ = 0;
};

// --- removing the temporary container, also on a signal --------------------------------------

// What the handler needs, prepared before the container exists: the handler may only use
// async-signal-safe calls (socket, connect, write, read, close, sigaction, raise).
struct SignalCleanup {
  std::atomic<bool> armed{false};
  bool raw = false;
  char request[1024] = {0};
  size_t request_len = 0;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = AF_UNIX;
  struct sigaction old_int {
  }, old_term{}, old_hup{};
};
SignalCleanup g_cleanup;

void raw_delete() {
  int fd = ::socket(g_cleanup.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&g_cleanup.addr), g_cleanup.addr_len) == 0) {
    size_t done = 0;
    while (done < g_cleanup.request_len) {
      ssize_t w = ::send(fd, g_cleanup.request + done, g_cleanup.request_len - done, MSG_NOSIGNAL);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    // The daemon answers once the container is gone ("Connection: close" ends the reply).
    char buf[512];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  }
  ::close(fd);
}

const struct sigaction* old_action(int sig) {
  if (sig == SIGINT) return &g_cleanup.old_int;
  if (sig == SIGTERM) return &g_cleanup.old_term;
  return &g_cleanup.old_hup;
}

void on_fatal_signal(int sig) {
  int saved = errno;
  if (g_cleanup.armed.exchange(false)) {
    if (!g_cleanup.raw) {
      // TLS: no raw request; stop the transfers, and the guard removes it and re-raises.
      engine::set_interrupt_signal(sig);
      errno = saved;
      return;
    }
    raw_delete();
  }
  ::sigaction(sig, old_action(sig), nullptr);
  ::raise(sig);
  errno = saved;
}

void prepare_raw(Client& client, const std::string& path) {
  auto req = client.raw_request("DELETE", path);
  g_cleanup.raw = false;
  if (!req || req->size() >= sizeof g_cleanup.request) return;
  const engine::Endpoint& e = client.endpoint();
  if (e.kind == engine::Endpoint::Kind::kUnix) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (e.address.size() >= sizeof un.sun_path) return;
    std::memcpy(un.sun_path, e.address.c_str(), e.address.size() + 1);
    std::memcpy(&g_cleanup.addr, &un, sizeof un);
    g_cleanup.addr_len = sizeof un;
    g_cleanup.family = AF_UNIX;
  } else {
    std::string host = e.address.substr(0, e.address.rfind(':'));
    std::string port = e.address.substr(e.address.rfind(':') + 1);
    if (starts_with(host, "[")) host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) return;
    std::memcpy(&g_cleanup.addr, res->ai_addr, res->ai_addrlen);
    g_cleanup.addr_len = res->ai_addrlen;
    g_cleanup.family = res->ai_family;
    ::freeaddrinfo(res);
  }
  std::memcpy(g_cleanup.request, req->data(), req->size());
  g_cleanup.request_len = req->size();
  g_cleanup.raw = true;
}

// Owns a container that coroner created: removes it (force, with its anonymous volumes) when
// the export is done, when destroyed, or from the signal handler.
class ContainerGuard {
 public:
  ContainerGuard(Client& client, std::string id) : client_(client), id_(std::move(id)) {
    prepare_raw(client_, path());
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    install(SIGINT, sa, g_cleanup.old_int);
    install(SIGTERM, sa, g_cleanup.old_term);
    install(SIGHUP, sa, g_cleanup.old_hup);
    g_cleanup.armed = true;
  }
  ~ContainerGuard() {
    try {
      remove();
    } catch (const Error&) {
      // Nothing left to tell it to: the source is going away (its label org.coroner=1 finds it).
    }
  }
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;

  // Error when the daemon refuses.
  void remove() {
    if (removed_) return;
    removed_ = true;
    bool mine = g_cleanup.armed.exchange(false);
    int pending = engine::interrupt_signal();
    restore_handlers();
    if (mine || pending != 0) {
      engine::set_interrupt_signal(0);  // let this DELETE through
      Response r = client_.del(path());
      if (pending != 0) ::raise(pending);
      if (r.status != 204 && r.status != 404) {
        throw Error("could not remove the temporary container " + engine::short_id(id_) + ": " +
                    engine::error_message(r) + " (remove it with docker rm -f)");
      }
    }
  }
  const std::string& id() const { return id_; }

 private:
  std::string path() const { return "/containers/" + id_ + "?force=1&v=1"; }
  // A signal ignored on entry (nohup, a background job) stays ignored.
  static void install(int sig, const struct sigaction& sa, struct sigaction& old) {
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler != SIG_IGN) ::sigaction(sig, &sa, nullptr);
  }
  static void restore_handlers() {
    ::sigaction(SIGINT, &g_cleanup.old_int, nullptr);
    ::sigaction(SIGTERM, &g_cleanup.old_term, nullptr);
    ::sigaction(SIGHUP, &g_cleanup.old_hup, nullptr);
  }

  Client& client_;
  std::string id_;
  bool removed_ = false;
};

// --- sources -------------------------------------------------------------------------------

// A stream that calls `on_end` once when it reaches its end (or when it is destroyed first).
class EndNotifyStream : public ByteStream {
 public:
  EndNotifyStream(std::unique_ptr<ByteStream> in, std::function<void()> on_end)
      : in_(std::move(in)), on_end_(std::move(on_end)) {}
  // Destroyed before the end (an error elsewhere): the owner's ContainerGuard cleans up.
  size_t read(std::span<std::byte> buf) override {
    if (!in_) return 0;
    size_t n = in_->read(buf);
    if (n == 0 && !buf.empty()) finish();
    return n;
  }
  std::string name() const override { return name_.empty() && in_ ? in_->name() : name_; }

 private:
  void finish() {
    if (!in_) return;
    name_ = in_->name();
    in_.reset();
    if (on_end_) std::exchange(on_end_, nullptr)();
  }
  std::unique_ptr<ByteStream> in_;
  std::function<void()> on_end_;
  std::string name_;
};

// One flat layer: a container's export. With `spool`, read once and teed into a spool file so
// that any number of later reads (cat, grep) need no second export; without it (a single-pass
// command: diagnose, find, ls...), streamed straight into the scan and never written to disk,
// and opening the layer a second time is an internal error.
class ExportSource : public ImageSource {
 public:
  ExportSource(std::unique_ptr<Client> client, std::string container_id, bool temporary,
               ImageInfo info, bool spool)
      : client_(std::move(client)), info_(std::move(info)) {
    if (temporary) guard_ = std::make_unique<ContainerGuard>(*client_, container_id);
    path_ = "/containers/" + container_id + "/export";
    name_ = "container " + engine::short_id(container_id) + " export";
    if (spool) {
      spool_ = std::make_unique<TeeSpool>([this] { return client_->stream(path_, name_); },
                                          [this] { remove_container(); }, name_);
    }
  }
  ~ExportSource() override {
    spool_.reset();
    guard_.reset();
  }
  const ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    CORONER_CHECK(index == 0);
    bool again = opened_.exchange(true);
    if (!spool_) {
      CORONER_CHECK(!again);  // single pass: the scan reads the export once
      return std::make_unique<EndNotifyStream>(client_->stream(path_, name_),
                                               [this] { remove_container(); });
    }
    // The first stream pulls the export as it is read; a later one reads a complete spool.
    if (again) spool_->drain();
    return std::make_unique<TeeStream>(*spool_);
  }

 private:
  // The temporary container is removed as soon as its export has been read.
  void remove_container() const {
    if (guard_) guard_->remove();
  }

  std::unique_ptr<Client> client_;
  std::unique_ptr<ContainerGuard> guard_;
  std::unique_ptr<TeeSpool> spool_;
  std::string path_, name_;
  mutable std::atomic<bool> opened_{false};
  ImageInfo info_;
};

std::string what_of(const Ref& ref) {
  return std::string(transport_name(ref.transport)) + ": " + escape(ref.name, 200);
}

// --- docker-daemon: the save stream ---------------------------------------------------------

constexpr size_t kMaxSmallMember = 4 << 20;  // manifest.json, the config, index and manifests

// The members of a docker save tar, in stream order, over an HTTP body (libarchive). With a
// spool descriptor, every byte read is also written there, for a docker-archive reader later.
class SaveTarReader {
 public:
  struct Member {
    std::string name;  // normalised ("manifest.json", "<id>/layer.tar", "blobs/sha256/<hex>")
    bool regular = false;
    std::string link;  // symlink target, normalised relative to the member's folder
    uint64_t size = 0;
  };

  SaveTarReader(std::unique_ptr<ByteStream> body, int spool_fd, std::string what)
      : body_(std::move(body)),
        spool_fd_(spool_fd),
        what_(std::move(what)),
        ar_(detail::new_tar_reader()),
        buf_(1 << 20) {
    if (archive_read_open(ar_.get(), this, nullptr, read_cb, nullptr) != ARCHIVE_OK) fail();
  }

  // The next member, or nullopt at the end of the archive (what is left of the current
  // member's data is skipped).
  std::optional<Member> next() {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(ar_.get(), &e);
    if (rc == ARCHIVE_EOF) return std::nullopt;
    if (rc < ARCHIVE_WARN) fail();
    Member m;
    const char* name = archive_entry_pathname(e);
    m.name = detail::normalize_member_name(name ? name : "");
    m.regular = archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == nullptr;
    if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e) != nullptr) {
      std::string target = archive_entry_symlink(e);
      std::string dir = m.name.substr(0, m.name.rfind('/') + 1);
      if (dir.size() == m.name.size()) dir.clear();
      // "../<hex>.tar" from "<id>/layer.tar" (Podman, Docker 25+ compatibility links).
      while (starts_with(target, "../") && !dir.empty()) {
        target.erase(0, 3);
        dir.pop_back();
        dir = dir.substr(0, dir.rfind('/') + 1);
      }
      m.link = detail::normalize_member_name(dir + target);
    }
    m.size = archive_entry_size_is_set(e) ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
    return m;
  }

  // Data of the current member; 0 at its end.
  size_t read(std::span<std::byte> out) {
    if (out.empty()) return 0;
    la_ssize_t n = archive_read_data(ar_.get(), out.data(), out.size());
    if (n < 0) fail();
    return static_cast<size_t>(n);
  }

  // The whole current member, when it is at most `max` bytes.
  std::string read_small(const Member& m, size_t max) {
    if (m.size > max) {
      throw Error(what_ + ": " + escape(m.name) + ": " + std::to_string(m.size) +
                  " bytes, more than the " + std::to_string(max) + " expected");
    }
    std::string out(static_cast<size_t>(m.size), '\0');
    size_t got = 0;
    while (got < out.size()) {
      size_t n = read(std::as_writable_bytes(std::span(out.data() + got, out.size() - got)));
      if (n == 0) throw Error(what_ + ": " + escape(m.name) + ": truncated");
      got += n;
    }
    return out;
  }

  uint64_t bytes() const { return total_; }
  const std::string& what() const { return what_; }

 private:
  static la_ssize_t read_cb(archive*, void* user, const void** out) {
    auto* self = static_cast<SaveTarReader*>(user);
    try {
      size_t n = self->body_->read(self->buf_);
      if (n > 0 && self->spool_fd_ >= 0) {
        write_all(self->spool_fd_, self->buf_.data(), n, self->total_, self->what_);
      }
      self->total_ += n;
      *out = self->buf_.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      self->error_ = std::current_exception();
      return -1;
    }
  }
  [[noreturn]] void fail() {
    if (error_) std::rethrow_exception(error_);
    throw Error(what_ + ": " + detail::archive_error(ar_.get()));
  }

  std::unique_ptr<ByteStream> body_;
  int spool_fd_;
  std::string what_;
  detail::ArchiveReader ar_;
  std::vector<std::byte> buf_;
  std::exception_ptr error_;
  uint64_t total_ = 0;
};

// The data of the reader's current member, after `prefix` (bytes already read from it). With
// `owned`, the stream owns the reader (a second read that fetched the save again).
class MemberStream : public ByteStream {
 public:
  MemberStream(SaveTarReader& reader, std::string prefix, std::string name,
               std::unique_ptr<SaveTarReader> owned = nullptr)
      : reader_(reader),
        owned_(std::move(owned)),
        prefix_(std::move(prefix)),
        name_(std::move(name)) {}
  size_t read(std::span<std::byte> out) override {
    if (pos_ < prefix_.size()) {
      size_t n = std::min(out.size(), prefix_.size() - pos_);
      std::memcpy(out.data(), prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return reader_.read(out);
  }
  std::string name() const override { return name_; }

 private:
  SaveTarReader& reader_;
  std::unique_ptr<SaveTarReader> owned_;
  std::string prefix_;
  size_t pos_ = 0;
  std::string name_;
};

bool is_hex_name(std::string_view s) { return detail::is_hex64(s); }

// docker-daemon: GET /images/{id}/get read as it arrives: each layer tar goes to the scan as it
// comes (legacy "<id>/layer.tar", Podman's "<diff_id>.tar", Docker 25+ "blobs/sha256/<hex>"),
// in whatever order the daemon writes the members; the scan identifies each by its diff_id.
// The config blob in the stream replaces the one built from /images/{id}/json and /history (it
// says exactly which history steps made no layer); manifest.json, when it names the layers,
// must agree with that identification. With `spool`, the stream is also written to an unlinked
// temporary file, read afterwards as a docker-archive for second reads; without, a second read
// fetches the save again and skips to the layer's member.
class SaveStreamSource : public ImageSource {
 public:
  SaveStreamSource(std::unique_ptr<Client> client, std::string id, ImageInfo info, bool spool,
                   Ref ref)
      : client_(std::move(client)),
        id_(std::move(id)),
        hex_(starts_with(id_, "sha256:") && detail::is_hex64(id_.substr(7)) ? id_.substr(7)
                                                                            : std::string()),
        info_(std::move(info)),
        spool_(spool),
        ref_(std::move(ref)),
        member_of_(info_.layers.size()) {}

  const ImageInfo& info() const override { return info_; }
  bool streamed() const override { return true; }

  std::optional<StreamedLayer> next_streamed_layer() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return next_layer_locked();
  }

  void streamed_layer_is(const std::string& member, size_t index) const override {
    std::lock_guard<std::mutex> lock(mu_);
    CORONER_CHECK(index < member_of_.size());
    member_of_[index] = member;
    LayerDesc& l = info_.layers[index];
    if (auto it = sizes_.find(member); it != sizes_.end()) l.size = it->second;
    if (starts_with(member, "blobs/sha256/")) l.digest = "sha256:" + member.substr(13);
  }

  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    std::unique_lock<std::mutex> lock(mu_);
    CORONER_CHECK(index < info_.layers.size());
    if (spool_) {
      while (!finished_) {
        // Someone reads before the stream was scanned: keep the rest in the spool.
        if (next_layer_locked()) continue;
      }
      return inner_->open_layer(index);
    }
    // Fetch the save again and skip to the member that was this layer (or one with the same
    // diff_id, for an image that lists a layer twice).
    std::string member = member_of_[index];
    for (size_t j = 0; member.empty() && j < member_of_.size(); ++j) {
      if (info_.layers[j].diff_id == info_.layers[index].diff_id) member = member_of_[j];
    }
    if (member.empty()) {
      throw Error(what() + ": layer " + std::to_string(index) +
                  " was not identified in the save stream");
    }
    auto reader = std::make_unique<SaveTarReader>(client_->stream(get_path(), what()), -1, what());
    lock.unlock();
    while (auto m = reader->next()) {
      if (m->name != member || !m->regular) continue;
      SaveTarReader& r = *reader;
      return std::make_unique<MemberStream>(r, std::string(), what() + ": " + escape(member),
                                            std::move(reader));
    }
    throw Error(what() + ": " + escape(member) + ": gone from the save stream on a second read");
  }

 private:
  std::string get_path() const { return "/images/" + id_ + "/get"; }
  std::string what() const { return "GET /images/" + engine::short_id(id_) + "/get"; }

  // Requires: mu_ held.
  std::optional<StreamedLayer> next_layer_locked() const {
    if (finished_) return std::nullopt;
    if (!reader_) {
      if (spool_) spool_fd_ = detail::UniqueFd(make_spool_file());
      reader_ = std::make_unique<SaveTarReader>(client_->stream(get_path(), what()),
                                                spool_ ? spool_fd_.get() : -1, what());
    }
    while (auto m = reader_->next()) {
      if (!m->link.empty()) {
        links_[m->name] = m->link;
        continue;
      }
      if (!m->regular) continue;
      sizes_[m->name] = m->size;
      std::string_view name = m->name;
      if (name == "manifest.json") {
        manifest_ = reader_->read_small(*m, kMaxSmallMember);
        continue;
      }
      bool config = !hex_.empty() && (name == hex_ + ".json" || name == "blobs/sha256/" + hex_);
      if (config) {
        read_config(reader_->read_small(*m, kMaxSmallMember), m->name);
        continue;
      }
      bool legacy_layer = ends_with(name, "/layer.tar") ||
                          (name.find('/') == std::string_view::npos && ends_with(name, ".tar") &&
                           is_hex_name(name.substr(0, name.size() - 4)));
      if (legacy_layer) return layer(*m, std::string());
      if (!starts_with(name, "blobs/sha256/")) continue;  // VERSION, json, repositories, index
      std::string digest = "sha256:" + m->name.substr(13);
      bool listed = std::any_of(info_.layers.begin(), info_.layers.end(),
                                [&](const LayerDesc& l) { return l.diff_id == digest; });
      if (listed || m->size > kMaxSmallMember) return layer(*m, std::string());
      // A small blob: a manifest or an index (JSON), or a small compressed layer.
      std::string bytes = reader_->read_small(*m, kMaxSmallMember);
      json j = json::parse(bytes, nullptr, false);
      if (j.is_object()) continue;
      return layer(*m, std::move(bytes));
    }
    finish();
    return std::nullopt;
  }

  StreamedLayer layer(const SaveTarReader::Member& m, std::string prefix) const {
    StreamedLayer l;
    l.member = m.name;
    l.blob =
        std::make_unique<MemberStream>(*reader_, std::move(prefix), what() + ": " + escape(m.name));
    return l;
  }

  void read_config(const std::string& bytes, const std::string& member) const {
    verify_digest(bytes, id_, member);
    ImageConfig c = parse_image_config(bytes, member);
    if (c.diff_ids != info_.config.diff_ids) {
      throw Error(what() + ": " + escape(member) + ": its rootfs.diff_ids differ from the " +
                  "inspected image's (was the tag moved meanwhile?)");
    }
    config_ = std::move(c);
  }

  // Requires: mu_ held. The stream ended: check manifest.json, take the config, open the spool.
  void finish() const {
    finished_ = true;
    uint64_t bytes = reader_ ? reader_->bytes() : 0;
    reader_.reset();
    std::string w = what();
    if (config_) {
      // The saved config says which steps made layers: no guess from the Engine's history.
      std::erase_if(info_.notes, [](const std::string& n) { return starts_with(n, "history:"); });
      info_.config = std::move(*config_);
      config_.reset();
    } else {
      info_.notes.push_back(w + ": no config blob in the stream: the history comes from " +
                            "/images/{id}/history");
    }
    if (!manifest_.empty()) check_manifest();
    if (spool_) {
      Ref archive = ref_;
      archive.transport = Transport::kDockerArchive;
      archive.selector.clear();  // saved by id: one image
      std::string path = "/proc/self/fd/" + std::to_string(spool_fd_.get());
      inner_ = open_docker_archive_store(open_tar_store(path), archive, what_of_ref());
      if (inner_->info().config.diff_ids != info_.config.diff_ids) {
        throw Error(w + ": the spooled save's layers differ from the stream's");
      }
    }
    info_.notes.push_back(
        "docker-daemon: the layers were scanned as " + w + " streamed them (" +
        std::to_string(bytes) + " bytes, each layer identified by its diff_id)" +
        (spool_ ? "; kept in an unlinked temporary file for the second reads of this command"
                : "; no temporary file"));
  }

  // Requires: mu_ held. manifest.json's layer list, symlinks resolved, against the members the
  // scan identified.
  void check_manifest() const {
    std::vector<DockerSaveImage> images = parse_docker_save_manifest(manifest_);
    auto resolve = [&](std::string name) {
      for (int hops = 0; hops < 8; ++hops) {
        auto it = links_.find(name);
        if (it == links_.end()) break;
        name = it->second;
      }
      return name;
    };
    for (const DockerSaveImage& img : images) {
      std::string config = detail::normalize_member_name(img.config);
      if (config != hex_ + ".json" && config != "blobs/sha256/" + hex_) continue;
      if (img.layers.size() != member_of_.size()) {
        throw Error(what() + ": manifest.json lists " + std::to_string(img.layers.size()) +
                    " layers, the image has " + std::to_string(member_of_.size()));
      }
      for (size_t i = 0; i < member_of_.size(); ++i) {
        if (member_of_[i].empty()) continue;
        std::string listed = resolve(detail::normalize_member_name(img.layers[i]));
        if (listed != resolve(member_of_[i])) {
          throw Error(what() + ": manifest.json names " + escape(img.layers[i]) + " as layer " +
                      std::to_string(i) + ", but " + escape(member_of_[i]) +
                      " has that layer's diff_id");
        }
      }
    }
  }

  std::string what_of_ref() const { return what_of(ref_); }

  std::unique_ptr<Client> client_;
  std::string id_, hex_;
  mutable ImageInfo info_;
  bool spool_;
  Ref ref_;
  mutable std::mutex mu_;
  mutable detail::UniqueFd spool_fd_;
  mutable std::unique_ptr<SaveTarReader> reader_;
  mutable bool finished_ = false;
  mutable std::vector<std::string> member_of_;
  mutable std::map<std::string, uint64_t> sizes_;
  mutable std::map<std::string, std::string> links_;
  mutable std::string manifest_;
  mutable std::optional<ImageConfig> config_;
  mutable std::unique_ptr<ImageSource> inner_;  // spool_: the docker-archive over the spool
};

std::unique_ptr<ImageSource> open_saved(std::unique_ptr<Client> client, const Ref& ref,
                                        const std::string& id, const Inspected& img,
                                        const OpenOptions& options) {
  Response h = client->get("/images/" + id + "/history");
  if (h.status != 200) throw Error(what_of(ref) + ": history: " + engine::error_message(h));
  ImageInfo info;
  info.ref = ref.text;
  info.config = config_from_inspect(img.body, h.body, info.notes);
  info.has_config = true;
  info.platform = config_platform(info.config);
  for (const std::string& d : info.config.diff_ids) {
    info.layers.push_back(LayerDesc{"", d, "application/vnd.docker.image.rootfs.diff.tar", 0});
  }
  return std::make_unique<SaveStreamSource>(std::move(client), id, std::move(info),
                                            !options.single_pass, ref);
}

std::string create_body(const std::string& image_id) {
  json body = {
      {"Image", image_id},
      {"Entrypoint", json::array({"/coroner-never-runs"})},
      {"Cmd", json::array()},
      {"Labels", {{"org.coroner", "1"}}},
      {"NetworkDisabled", true},
      {"AttachStdin", false},
      {"AttachStdout", false},
      {"AttachStderr", false},
      {"HostConfig",
       {{"NetworkMode", "none"}, {"RestartPolicy", {{"Name", "no"}}}, {"AutoRemove", false}}}};
  return body.dump();
}

// The config for a flat export: the layer list and history come from the image but no step
// maps onto the one flat layer, so every step is marked empty and diff_ids are dropped.
ImageInfo flat_info(const Ref& ref, ImageConfig config, std::vector<std::string> notes,
                    std::string note) {
  ImageInfo info;
  info.ref = ref.text;
  for (HistoryEntry& h : config.history) h.empty_layer = true;
  config.diff_ids.clear();
  info.config = std::move(config);
  info.has_config = true;
  info.platform = config_platform(info.config);
  info.layers.push_back(LayerDesc{"", "", "application/x-tar (docker export)", 0});
  info.notes = std::move(notes);
  info.notes.push_back(std::move(note));
  return info;
}

std::unique_ptr<ImageSource> open_via_export(std::unique_ptr<Client> client, const Ref& ref,
                                             const std::string& id, const json& inspect,
                                             bool spool) {
  std::vector<std::string> notes;
  json history = get_ok(*client, "/images/" + id + "/history", what_of(ref) + ": history");
  size_t layers = inspect.contains("RootFS") && inspect["RootFS"].contains("Layers") &&
                          inspect["RootFS"]["Layers"].is_array()
                      ? inspect["RootFS"]["Layers"].size()
                      : 0;
  json doc = config_document(inspect, json());
  doc["history"] = history_to_config(history, notes, layers);
  ImageConfig config = parse_image_config(doc.dump(), "image inspect");
  Response r = client->post_json("/containers/create", create_body(id));
  if (r.status != 201) {
    throw Error(what_of(ref) + ": creating a container to export: " + engine::error_message(r));
  }
  std::string cid = str_field(parse_json(r.body, "container create"), "Id");
  if (cid.empty()) throw Error(what_of(ref) + ": container create returned no Id");
  ImageInfo info = flat_info(
      ref, std::move(config), std::move(notes),
      "--via export: the root was read as one flat tar from a created, never started container "
      "(removed afterwards); Docker adds /.dockerenv, /etc/hosts, /etc/hostname, "
      "/etc/resolv.conf, /etc/mtab (when missing) and the /dev, /proc, /sys mount points; history "
      "steps are not mapped to layers");
  return std::make_unique<ExportSource>(std::move(client), cid, true, std::move(info), spool);
}

std::unique_ptr<ImageSource> open_docker_daemon(std::unique_ptr<Client> client, const Ref& ref,
                                                const OpenOptions& options) {
  Inspected img = inspect_image(*client, ref.name);
  json inspect = parse_json(img.body, "image inspect");
  if (options.via == "export") {
    return open_via_export(std::move(client), ref, img.id, inspect, !options.single_pass);
  }
  return open_saved(std::move(client), ref, img.id, img, options);
}

ContainerState state_of(const json& c) {
  ContainerState s;
  s.id = str_field(c, "Id");
  s.name = str_field(c, "Name");
  if (starts_with(s.name, "/")) s.name.erase(0, 1);
  s.image_id = str_field(c, "Image");
  const json empty = json::object();
  const json& config = c.contains("Config") && c["Config"].is_object() ? c["Config"] : empty;
  s.image = str_field(config, "Image");
  s.tty = bool_field(config, "Tty");
  const json& st = c.contains("State") && c["State"].is_object() ? c["State"] : empty;
  s.status = str_field(st, "Status");
  s.exit_code = static_cast<int>(int_field(st, "ExitCode"));
  s.error = str_field(st, "Error");
  s.oom_killed = bool_field(st, "OOMKilled");
  s.restarting = bool_field(st, "Restarting");
  s.started_at = str_field(st, "StartedAt");
  s.finished_at = str_field(st, "FinishedAt");
  s.restart_count = static_cast<int>(int_field(c, "RestartCount"));
  return s;
}

void read_logs(Client& client, ContainerState& s) {
  Response r = client.get("/containers/" + s.id +
                          "/logs?stdout=1&stderr=1&tail=" + std::to_string(kLogTail));
  if (r.status != 200) return;  // a logging driver without read support: no lines
  s.log_tail = engine::log_lines(r.body, s.tty);
  while (!s.log_tail.empty() && s.log_tail.back().empty()) s.log_tail.pop_back();
}

void read_changes(Client& client, ContainerState& s) {
  json changes = get_ok(client, "/containers/" + s.id + "/changes", "container changes");
  if (!changes.is_array()) return;
  for (const json& ch : changes) {
    int64_t kind = int_field(ch, "Kind");  // 0 modified, 1 added, 2 deleted
    char k = kind == 1 ? 'A' : kind == 2 ? 'D' : 'C';
    s.changes.emplace_back(k, str_field(ch, "Path"));
  }
}

std::unique_ptr<ImageSource> open_container(std::unique_ptr<Client> client, const Ref& ref,
                                            bool spool) {
  Inspected ct = inspect_container(*client, ref.name);
  json c = parse_json(ct.body, "container inspect");
  ContainerState state = state_of(c);
  read_logs(*client, state);
  read_changes(*client, state);
  // The image gives the platform and the history; it may have been removed since.
  std::vector<std::string> notes;
  json image_inspect;
  json history;
  Response ir = client->get("/images/" + state.image_id + "/json");
  if (ir.status == 200) {
    image_inspect = parse_json(ir.body, "image inspect");
    history = get_ok(*client, "/images/" + state.image_id + "/history", "image history");
  } else {
    notes.push_back("container: its image " + engine::short_id(state.image_id) +
                    " is gone: no platform, no history");
  }
  json doc = config_document(c, image_inspect);
  doc["history"] = history_to_config(history, notes, 0);
  notes.clear();  // the layer count check means nothing for a flat export
  if (ir.status != 200) {
    notes.push_back("container: its image " + engine::short_id(state.image_id) +
                    " is gone: no platform, no history");
  }
  ImageConfig config = parse_image_config(doc.dump(), "container inspect");
  ImageInfo info = flat_info(ref, std::move(config), std::move(notes),
                             "container: the file system is the container's export (what it "
                             "wrote included); entrypoint, cmd, user, env and workdir are those "
                             "it was created with");
  info.container = std::move(state);
  return std::make_unique<ExportSource>(std::move(client), ct.id, false, std::move(info), spool);
}

}  // namespace

ImageConfig config_from_inspect(std::string_view inspect_json, std::string_view history_json,
                                std::vector<std::string>& notes) {
  json inspect = parse_json(inspect_json, "image inspect");
  json history = parse_json(history_json, "image history");
  if (!inspect.is_object()) throw Error("image inspect: not an object");
  size_t layers = 0;
  if (inspect.contains("RootFS") && inspect["RootFS"].is_object() &&
      inspect["RootFS"].contains("Layers") && inspect["RootFS"]["Layers"].is_array()) {
    layers = inspect["RootFS"]["Layers"].size();
  }
  json doc = config_document(inspect, json());
  if (layers > 0) doc["rootfs"] = {{"type", "layers"}, {"diff_ids", inspect["RootFS"]["Layers"]}};
  doc["history"] = history_to_config(history, notes, layers);
  return parse_image_config(doc.dump(), "image inspect");
}

std::string resolve_id(std::string_view kind, std::string_view name, const Response& r,
                       const std::vector<std::string>& listed_ids) {
  std::string what = std::string(kind) + " " + escape(name, 200);
  if (r.status == 200) {
    json j = json::parse(r.body, nullptr, false);
    std::string id = str_field(j, "Id");
    if (id.empty()) throw Error(what + ": the daemon's answer has no Id");
    return id;
  }
  std::vector<std::string> matches = engine::ids_with_prefix(listed_ids, name);
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  if (matches.size() > 1) {
    std::string list;
    for (const std::string& m : matches) list += (list.empty() ? "" : ", ") + engine::short_id(m);
    throw Error(what + ": the short id matches " + std::to_string(matches.size()) + " " +
                std::string(kind) + "s (" + list + "); give more digits");
  }
  if (r.status == 404) throw Error(what + ": not found");
  throw Error(what + ": " + engine::error_message(r));
}

ContainerState parse_container_inspect(std::string_view inspect_json) {
  return state_of(parse_json(inspect_json, "container inspect"));
}

ContainerState container_state(Client& client, const std::string& name) {
  Inspected ct = inspect_container(client, name);
  ContainerState state = state_of(parse_json(ct.body, "container inspect"));
  read_logs(client, state);
  read_changes(client, state);
  return state;
}

std::vector<ContainerState> list_failed_containers(Client& client) {
  json list = get_ok(client, "/containers/json?all=1", "container list");
  std::vector<ContainerState> out;
  for (const std::string& id : ids_of(list)) {
    Response r = client.get("/containers/" + id + "/json");
    if (r.status != 200) continue;  // removed meanwhile
    ContainerState s = state_of(parse_json(r.body, "container inspect"));
    bool failed = s.restarting || s.status == "restarting" || s.status == "dead" ||
                  (s.status == "exited" && s.exit_code != 0) ||
                  (s.status == "created" && (s.exit_code != 0 || !s.error.empty()));
    if (!failed) continue;
    read_logs(client, s);
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(), [](const ContainerState& a, const ContainerState& b) {
    return a.finished_at > b.finished_at;  // RFC 3339 in UTC sorts as text
  });
  return out;
}

bool is_error_line(std::string_view line) {
  static constexpr std::string_view kWords[] = {
      "error",     "fatal",       "panic",  "exception", "failed",
      "denied",    "not found",   "cannot", "no such",   "segmentation fault",
      "traceback", "core dumped", "abort",  "unable to", "could not",
      "killed"};
  std::string lower(line);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

namespace {

std::string exit_text(int code) { return "exit code " + std::to_string(code); }

}  // namespace

std::vector<std::string> log_error_lines(const std::vector<std::string>& lines, size_t max) {
  std::vector<std::string> out;
  for (auto it = lines.rbegin(); it != lines.rend() && out.size() < max; ++it) {
    if (is_error_line(*it)) out.push_back(escape(*it, 300));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string signal_name(int sig) {
  static constexpr std::string_view kNames[] = {
      "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
  if (sig > 0 && static_cast<size_t>(sig) < std::size(kNames)) return std::string(kNames[sig]);
  return "signal " + std::to_string(sig);
}

ExitExplanation explain_exit(const ContainerState& c) {
  ExitExplanation x;
  x.log_errors = log_error_lines(c.log_tail, 5);
  // No error line: the last lines say what it was doing.
  auto quote_tail = [&] {
    if (!x.log_errors.empty()) return;
    size_t from = c.log_tail.size() > 3 ? c.log_tail.size() - 3 : 0;
    for (size_t i = from; i < c.log_tail.size(); ++i) {
      x.log_errors.push_back(escape(c.log_tail[i], 300));
    }
  };
  const int code = c.exit_code;
  if (c.status == "running" || c.status == "paused") {
    x.summary = "still " + c.status + " (no exit code yet)";
    x.detail = "the file system is a snapshot of a live container";
    return x;
  }
  if (c.status == "created" && c.error.empty() && code == 0) {
    x.summary = "created but never started";
    x.detail = "nothing ran: the diagnosis below says whether it would start";
    return x;
  }
  if (c.oom_killed) {
    x.signal = 9;
    x.summary = "out of memory: the kernel's OOM killer ended it with SIGKILL (" + exit_text(code) +
                ", OOMKilled)";
    x.detail =
        "the container reached its memory limit (docker run --memory); raise the limit or find "
        "what grows (the last log lines below show what it was doing)";
    quote_tail();
    return x;
  }
  if (!c.error.empty()) {
    // The runtime failed to start the process: State.Error is what `docker run` printed.
    std::string err = escape(c.error, 600);
    if (code == 127) {
      x.summary = "the command was not found (" + exit_text(code) + "): " + err;
      x.detail = "runc could not find the entrypoint: a missing file, or a name not in PATH";
    } else if (code == 126) {
      x.summary = "the command could not be executed (" + exit_text(code) + "): " + err;
      x.detail =
          "runc found the entrypoint but may not exec it: no x bit, a directory, or "
          "permission denied on the way";
    } else {
      x.summary =
          "the daemon could not start it (" + exit_text(code) + "; `docker run` exits 125): " + err;
      x.detail =
          "refused before the process ran: the user, the working directory, a mount or "
          "the runtime's setup";
    }
    return x;
  }
  switch (code) {
    case 0:
      x.summary = "exited normally (" + exit_text(0) + ")";
      x.detail =
          "the main process finished on its own; a service that should keep running "
          "returned from its main loop, or ran in the background (a daemon that forks)";
      quote_tail();
      return x;
    case 125:
      x.summary = "exit code 125: the docker CLI's code for a daemon error";
      x.detail = "the daemon refused to create or start the container (see State.Error)";
      quote_tail();
      return x;
    case 126:
      x.summary = "the command could not be executed (" + exit_text(code) + ")";
      x.detail =
          "permission denied, or not an executable (a directory, a file without the x "
          "bit); the shell's message is in the log";
      quote_tail();
      return x;
    case 127:
      x.summary = "a command was not found (" + exit_text(code) + ")";
      x.detail =
          "a shell could not find a program it was told to run, or the loader could not "
          "find a shared library (error while loading shared libraries)";
      quote_tail();
      return x;
    default:
      break;
  }
  if (code > 128 && code <= 128 + 64) {
    int sig = code - 128;
    x.signal = sig;
    std::string name = signal_name(sig);
    x.summary =
        "killed by " + name + " (" + exit_text(code) + " = 128 + " + std::to_string(sig) + ")";
    switch (sig) {
      case 9:
        x.detail =
            "SIGKILL cannot be caught: `docker kill`, `docker stop` after its timeout "
            "(the process ignored SIGTERM), or the kernel (OOMKilled is false: not the "
            "container's memory limit)";
        break;
      case 11:
        x.summary += ": a segmentation fault";
        x.detail =
            "the program crashed (invalid memory access): a bug, a library of the wrong "
            "version, or a stack overflow; a core dump, if one was written, is listed below";
        break;
      case 15:
        x.detail =
            "SIGTERM is how `docker stop` and orchestrators end a container: a stop, "
            "not a crash, unless nobody asked it to stop";
        break;
      case 6:
        x.summary += ": the program aborted";
        x.detail =
            "abort(): a failed assertion, an uncaught C++ exception, or heap corruption "
            "detected by the C library";
        break;
      case 7:
        x.detail = "a bus error: a truncated memory-mapped file, or misaligned access";
        break;
      case 8:
        x.detail = "an arithmetic fault, e.g. an integer division by zero";
        break;
      case 4:
        x.detail =
            "an illegal instruction: a binary built for a newer CPU (x86-64-v3, AVX2) "
            "than this one";
        break;
      case 2:
        x.detail = "interrupted (Ctrl-C on an attached terminal)";
        break;
      case 1:
        x.detail = "the terminal or the parent went away";
        break;
      case 13:
        x.detail = "it wrote to a pipe or socket whose reader had gone";
        break;
      default:
        x.detail = "a signal from outside (docker kill --signal) or from the program itself";
        break;
    }
    quote_tail();
    return x;
  }
  x.summary = "the program exited with status " + std::to_string(code) + " (its own error)";
  x.detail = code == 1 ? "status 1 is a program's generic failure: its log says why"
                       : "the program chose this status: its documentation or log says why";
  quote_tail();
  return x;
}

std::string suspected_cause(const ContainerState& c) {
  if (c.oom_killed) return "out of memory (OOMKilled)";
  if (!c.error.empty()) return escape(c.error, 200);
  switch (c.exit_code) {
    case 126:
      return "command not executable (permission denied or not a program)";
    case 127:
      return "command not found";
    case 137:
      return "killed (SIGKILL: docker kill, a stop timeout, or the kernel)";
    case 139:
      return "segmentation fault (SIGSEGV)";
    case 143:
      return "terminated (SIGTERM)";
    default:
      break;
  }
  if (c.exit_code > 128 && c.exit_code < 128 + 65) {
    return "killed by " + signal_name(c.exit_code - 128);
  }
  for (auto it = c.log_tail.rbegin(); it != c.log_tail.rend(); ++it) {
    if (is_error_line(*it)) return escape(*it, 200);
  }
  if (!c.log_tail.empty()) return escape(c.log_tail.back(), 200);
  if (c.restarting || c.status == "restarting") return "restarting (restart policy)";
  return "exited " + std::to_string(c.exit_code) + " (no log output)";
}

engine::Client connect_from_env() {
  return engine::Client(engine::resolve_endpoint(engine::endpoint_inputs_from_env()));
}

std::unique_ptr<ImageSource> open_engine_source(const Ref& ref, const OpenOptions& options) {
  auto client =
      std::make_unique<Client>(engine::resolve_endpoint(engine::endpoint_inputs_from_env()));
  if (ref.transport == Transport::kContainer) {
    return open_container(std::move(client), ref, !options.single_pass);
  }
  if (!options.via.empty() && options.via != "save" && options.via != "export") {
    throw Error("--via " + escape(options.via, 20) + ": expected save or export");
  }
  return open_docker_daemon(std::move(client), ref, options);
}

}  // namespace coroner::image
