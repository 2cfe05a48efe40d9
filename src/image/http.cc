#include "image/http.h"

#include <curl/curl.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <mutex>

#include "base/error.h"
#include "base/stream.h"
#include "base/text.h"

namespace coroner::image::http {
namespace {

constexpr long kConnectTimeoutSeconds = 10;
constexpr uint64_t kMaxErrorBody = 1 << 20;  // the body of a non-2xx reply to a stream
constexpr size_t kMaxHeaderBytes = 256 << 10;
constexpr uint64_t kMaxCaBundle = 64 << 20;  // the system's CA bundle is about 200 KiB

std::atomic<int> g_interrupt{0};

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int progress_cb(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return g_interrupt.load() != 0 ? 1 : 0;
}

// What one transfer collects besides its body: the headers of the last response.
struct Collected {
  std::map<std::string, std::string> headers;
  size_t header_bytes = 0;
};

size_t header_cb(char* p, size_t size, size_t n, void* user) {
  auto* c = static_cast<Collected*>(user);
  size_t len = size * n;
  c->header_bytes += len;
  if (c->header_bytes > kMaxHeaderBytes) return 0;  // a hostile server: stop the transfer
  std::string_view line(p, len);
  if (starts_with(line, "HTTP/")) {  // a new response (after a redirect or a 100 Continue)
    c->headers.clear();
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name = ascii_lower(trim(line.substr(0, colon)));
  c->headers.emplace(std::move(name), std::string(trim(line.substr(colon + 1))));
  return len;
}

// A handle with the request's options; `headers` keeps the header list alive.
CurlPtr new_handle(const Request& r, SlistPtr& headers, Collected& collected) {
  global_init();
  CurlPtr c(curl_easy_init());
  if (!c) throw Error("libcurl: out of memory");
  CURL* h = c.get();
  curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
  if (!r.unix_socket.empty()) curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, r.unix_socket.c_str());
  if (!r.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, r.ca_file.c_str());
  if (!r.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(r.ca_pem.data()), r.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!r.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, r.cert_file.c_str());
  if (!r.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, r.key_file.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r.tls_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r.tls_verify ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "coroner");
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &collected);
  if (r.follow_redirects) {
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  if (r.method != "GET") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  for (const std::string& line : r.headers) {
    curl_slist* l = curl_slist_append(headers.get(), line.c_str());
    if (l == nullptr) throw Error("libcurl: out of memory");
    headers.release();
    headers.reset(l);
  }
  if (r.body != nullptr) {
    std::string type = "Content-Type: " + r.content_type;
    curl_slist* l = curl_slist_append(headers.get(), type.c_str());
    if (l == nullptr) throw Error("libcurl: out of memory");
    headers.release();
    headers.reset(l);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body->c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body->size()));
  }
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  return c;
}

Failure failure_of(CURL* h, CURLcode rc, const char* errbuf) {
  Failure f;
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &f.os_errno);
  f.unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                  rc == CURLE_OPERATION_TIMEDOUT;
  f.tls = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
          rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM;
  f.detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  if (rc == CURLE_ABORTED_BY_CALLBACK) f.signal = g_interrupt.load();
  return f;
}

struct Body {
  std::string data;
  uint64_t max = 0;
  bool too_big = false;
};

size_t body_cb(char* p, size_t size, size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  size_t len = size * n;
  if (b->data.size() + len > b->max) {
    b->too_big = true;
    return 0;
  }
  b->data.append(p, len);
  return len;
}

// A response body read as it arrives, pulled through curl's multi interface in read().
class CurlStream : public ByteStream {
 public:
  CurlStream(const Request& r, std::string name, Describe describe,
             const std::function<std::string(const Reply&)>& http_error)
      : request_(r),
        handle_(new_handle(request_, headers_, collected_)),
        multi_(curl_multi_init()),
        name_(std::move(name)),
        describe_(std::move(describe)) {
    if (!multi_) throw Error("libcurl: out of memory");
    start();
    // Wait for the status line: an HTTP error is an Error before anyone reads.
    while (status_ == 0 && !done_) pump();
    if (status_ >= 300 || (done_ && status_ == 0)) {
      while (!done_ && buf_.size() < kMaxErrorBody) pump();
      Reply reply{status_, std::move(buf_), std::move(collected_.headers)};
      throw Error(name_ + ": " + http_error(reply));
    }
  }
  ~CurlStream() override {
    if (added_) curl_multi_remove_handle(multi_.get(), handle_.get());
  }

  size_t read(std::span<std::byte> out) override {
    while (pos_ == buf_.size() && !done_) pump();
    size_t n = std::min(out.size(), buf_.size() - pos_);
    std::memcpy(out.data(), buf_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    return n;
  }
  std::string name() const override { return name_; }

 private:
  static size_t write_cb(char* p, size_t size, size_t n, void* user) {
    auto* s = static_cast<CurlStream*>(user);
    if (s->status_ == 0) {
      curl_easy_getinfo(s->handle_.get(), CURLINFO_RESPONSE_CODE, &s->status_);
      // A resumed transfer must continue the body, not start another (an error page).
      if (s->resumes_ > 0 && s->status_ != 206) return 0;
    }
    s->buf_.append(p, size * n);
    s->delivered_ += size * n;
    return size * n;
  }

  void start() {
    errbuf_[0] = '\0';
    curl_easy_setopt(handle_.get(), CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(handle_.get(), CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(handle_.get(), CURLOPT_WRITEDATA, this);
    if (delivered_ > 0) {
      curl_easy_setopt(handle_.get(), CURLOPT_RESUME_FROM_LARGE,
                       static_cast<curl_off_t>(delivered_));
    }
    curl_multi_add_handle(multi_.get(), handle_.get());
    added_ = true;
  }

  // The transfer broke midway: ask again for the rest (Range: bytes=delivered_-).
  void resume() {
    curl_multi_remove_handle(multi_.get(), handle_.get());
    added_ = false;
    handle_.reset();  // before the header list it points to
    headers_.reset();
    collected_ = Collected{};
    handle_ = new_handle(request_, headers_, collected_);
    status_ = 0;
    done_ = false;
    ++resumes_;
    start();
  }

  void pump() {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi_.get(), &running);
    if (mc != CURLM_OK) throw Error(name_ + ": libcurl: " + curl_multi_strerror(mc));
    if (running == 0) {
      finish();
      return;
    }
    // status_ is taken at the first body byte (write_cb) or at the end (finish), never from a
    // response in progress: that may be a redirect curl is about to follow.
    if (pos_ < buf_.size()) return;
    mc = curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
    if (mc != CURLM_OK) throw Error(name_ + ": libcurl: " + curl_multi_strerror(mc));
  }

  void finish() {
    done_ = true;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_.get(), &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURLcode rc = m->data.result;
      if (status_ == 0) curl_easy_getinfo(handle_.get(), CURLINFO_RESPONSE_CODE, &status_);
      if (rc == CURLE_OK) continue;
      if (resumes_ > 0 && status_ != 206 && status_ != 0) {
        throw Error(name_ + ": resuming at byte " + std::to_string(delivered_) + ": HTTP status " +
                    std::to_string(status_) + " instead of 206");
      }
      Failure f = failure_of(handle_.get(), rc, errbuf_);
      bool midway = delivered_ > 0 && (status_ == 0 || (status_ >= 200 && status_ < 300));
      if (midway && f.signal == 0 && rc != CURLE_WRITE_ERROR && rc != CURLE_RANGE_ERROR &&
          resumes_ < request_.resume_attempts) {
        resume();
        return;
      }
      std::string after = resumes_ > 0 ? " (after " + std::to_string(resumes_) + " resumed)" : "";
      throw Error(name_ + ": " + describe_(f) + after);
    }
  }

  Request request_;
  SlistPtr headers_;
  Collected collected_;
  CurlPtr handle_;
  MultiPtr multi_;
  std::string name_;
  Describe describe_;
  bool added_ = false;
  bool done_ = false;
  long status_ = 0;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t delivered_ = 0;  // body bytes received, over every resumed transfer
  int resumes_ = 0;
  char errbuf_[CURL_ERROR_SIZE];
};

}  // namespace

std::string Reply::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Reply perform(const Request& request, const Describe& describe) {
  SlistPtr headers;
  Collected collected;
  CurlPtr c = new_handle(request, headers, collected);
  CURL* h = c.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  Body out;
  out.max = request.max_body;
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  CURLcode rc = curl_easy_perform(h);
  if (out.too_big) {
    throw Error(request.method + " " + escape(request.url, 200) + ": response over " +
                std::to_string(request.max_body) + " bytes");
  }
  if (rc != CURLE_OK) throw Error(describe(failure_of(h, rc, errbuf)));
  Reply r;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  r.body = std::move(out.data);
  r.headers = std::move(collected.headers);
  return r;
}

std::unique_ptr<ByteStream> open_stream(
    const Request& request, std::string name, Describe describe,
    const std::function<std::string(const Reply&)>& http_error) {
  return std::make_unique<CurlStream>(request, std::move(name), std::move(describe), http_error);
}

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '@') {
      out += c;
      continue;
    }
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

std::string system_ca_pem() {
  global_init();
  CurlPtr c(curl_easy_init());
  if (!c) return {};
  char* path = nullptr;
  if (curl_easy_getinfo(c.get(), CURLINFO_CAINFO, &path) != CURLE_OK || path == nullptr) return {};
  return read_small_file(path, kMaxCaBundle).value_or("");
}

void set_interrupt_signal(int sig) { g_interrupt.store(sig); }
int interrupt_signal() { return g_interrupt.load(); }

}  // namespace coroner::image::http
