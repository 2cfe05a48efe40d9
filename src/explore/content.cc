#include "explore/content.h"

#include <array>

#include "base/error.h"
#include "base/text.h"
#include "explore/layer_reader.h"
#include "explore/listing.h"
#include "explore/mode.h"

namespace coroner::explore {

ContentTarget resolve_content(const Image& image, std::string_view path) {
  fs::NodeId id = resolve_or_throw(image, path, /*follow_last=*/true);
  const fs::Node& n = image.tree().node(id);
  ContentTarget t{id, image.tree().path_of(id), n.inode, n.inode_layer};
  if (!n.is_regular()) {
    throw Error(escape(path) + ": is a " + std::string(type_name(n.inode->type)) +
                (t.path != path ? " (" + escape(t.path) + ")" : "") + ", not a regular file");
  }
  return t;
}

void read_content(const Image& image, const ContentTarget& target,
                  const std::function<void(std::span<const std::byte>)>& sink) {
  const scan::Entry* entries[] = {target.inode};
  read_entries(image.source(), image.layers()[target.layer], entries,
               [&](const scan::Entry&, ByteStream& content) {
                 std::array<std::byte, 64 * 1024> buf;
                 while (size_t n = content.read(buf)) sink(std::span(buf).first(n));
               });
}

}  // namespace coroner::explore
