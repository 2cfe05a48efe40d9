// Export of the merged root through an ExportWriter (tar or directory), and the layer map (which
// layer wrote each path). Order: directories in preorder (parents first), then symlinks,
// devices and fifos, then regular files streamed per layer (each layer read once, in order,
// only the files whose content it holds), then hardlinks to the first path of their group.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "explore/open_image.h"
#include "explore/writer.h"

namespace coroner::explore {

struct ExportStats {
  uint64_t entries = 0;  // paths written (the root excluded)
  uint64_t files = 0;    // regular files with content
  uint64_t bytes = 0;    // content bytes
  uint64_t hardlinks = 0;
  std::vector<std::string> notes;  // what the writer could not reproduce
};

ExportStats export_root(const Image& image, ExportWriter& writer);

// TSV, one line per present path (the root excluded), sorted by path:
// path<TAB>layer_index<TAB>layer_digest<TAB>created_by. Tabs, newlines and other control bytes
// in paths and commands are escaped (base/text.h escape) so each record is one line.
void write_layer_map(const Image& image, std::ostream& out);

}  // namespace coroner::explore
