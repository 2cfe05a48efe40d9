// Differential fuzzing of md5_many and Md5Lanes (src/base/md5_many.h): every kernel this CPU runs
// must give OpenSSL's md5 for each message, and Md5Lanes must report each message once and hand
// back each of its bytes once. The first input byte picks how the rest is cut: into up to 40
// messages at the bytes equal to it, and each message into pieces (for md5_many) at every 7th
// byte's value.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "base/md5_many.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > kMaxInputSize) return 0;
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  const std::byte cut{data[0]};
  std::vector<std::span<const std::byte>> message_bytes;
  size_t start = 1;
  for (size_t i = 1; i <= size; ++i) {
    if (i == size || (bytes[i] == cut && message_bytes.size() < 39)) {
      message_bytes.emplace_back(bytes + start, i - start);
      start = i + 1;
    }
  }
  std::vector<std::vector<std::span<const std::byte>>> pieces(message_bytes.size());
  std::vector<coroner::Md5Message> messages;
  for (size_t m = 0; m < message_bytes.size(); ++m) {
    std::span<const std::byte> rest = message_bytes[m];
    while (rest.size() > 7) {
      size_t n = std::to_integer<size_t>(rest[6]) % (rest.size() + 1);
      pieces[m].push_back(rest.first(n));
      rest = rest.subspan(n);
      if (n == 0) break;
    }
    pieces[m].push_back(rest);
    messages.emplace_back(pieces[m]);
  }
  std::vector<coroner::Md5Digest> want(messages.size());
  for (size_t m = 0; m < message_bytes.size(); ++m) {
    unsigned int n = 0;
    if (EVP_Digest(message_bytes[m].data(), message_bytes[m].size(), want[m].data(), &n, EVP_md5(),
                   nullptr) != 1 ||
        n != 16) {
      std::abort();
    }
  }
  for (coroner::Md5Kernel kernel : coroner::md5_kernels()) {
    std::vector<coroner::Md5Digest> got(messages.size());
    coroner::md5_many(messages, got, kernel);
    if (got != want) std::abort();
    // Md5Lanes takes the whole messages, one after another.
    std::vector<coroner::Md5Digest> lanes_got(messages.size());
    std::vector<int> reports(messages.size());
    size_t released = 0, total = 0;
    {
      coroner::Md5Lanes lanes(
          [&](size_t id, const coroner::Md5Digest& d) {
            if (id >= messages.size()) std::abort();
            lanes_got[id] = d;
            ++reports[id];
          },
          [&](std::span<const std::byte> part) { released += part.size(); }, kernel);
      for (size_t m = 0; m < message_bytes.size(); ++m) {
        lanes.add(m, message_bytes[m]);
        total += message_bytes[m].size();
      }
      lanes.finish();
    }
    if (lanes_got != want || released != total) std::abort();
    for (int r : reports)
      if (r != 1) std::abort();
  }
  return 0;
}
