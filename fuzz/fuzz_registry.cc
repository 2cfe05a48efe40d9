// What a registry or a config.json can say to coroner, on arbitrary bytes. The first byte
// picks the parser (modulo 5, so the seeds start with a letter, A to E): WWW-Authenticate
// challenges, config.json credentials with a helper that answers with the rest of the input,
// error bodies, token replies, registry names. Each must return or throw Error, never crash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "image/registry.h"

namespace reg = coroner::image::registry;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 256 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0:
        reg::parse_challenges(text);
        break;
      case 1: {
        reg::HelperRunner run = [&](const std::string&, const std::string&) {
          return std::optional<std::string>(text);
        };
        for (const char* domain : {"docker.io", "ghcr.io", "127.0.0.1:5000"}) {
          reg::find_credentials(text, domain, run, "config.json");
        }
        break;
      }
      case 2:
        reg::error_message(404, text);
        break;
      case 3:
        reg::parse_token_reply(text);
        break;
      case 4: {
        reg::Name n = reg::parse_name(text);
        (void)n.str();
        (void)reg::is_loopback(n.domain);
        break;
      }
    }
  } catch (const coroner::Error&) {
  }
  return 0;
}
