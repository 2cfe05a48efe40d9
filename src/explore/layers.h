// The image history aligned with its layers, like `docker history` but with what each layer did
// to the merged view: files added, modified and deleted, and bytes wasted (written by the layer
// but shadowed or deleted by a later one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "explore/open_image.h"

namespace coroner::explore {

struct HistoryRow {
  std::optional<uint32_t> layer;  // nullopt for an empty_layer step
  std::string digest;             // of the layer, "" without one
  std::string created;
  std::string created_by;
  std::string comment;
  uint64_t size = 0;  // uncompressed bytes of the layer stream
  uint64_t compressed_size = 0;
  uint64_t added = 0, modified = 0, deleted = 0;
  uint64_t wasted_bytes = 0;
};

// One row per history entry in order, the layers mapped to the non-empty entries; layers the
// history does not cover (or an image without history) get rows of their own at the end.
std::vector<HistoryRow> history_rows(const Image& image);

struct LayerChange {
  char kind = 'A';    // A, M or D
  std::string path;   // absolute
  uint64_t size = 0;  // content bytes of what the layer wrote (0 for D and non-files)
  bool is_dir = false;
  bool regular = false;  // a regular file (size is meaningful)
};

// What layer `layer` did to the merged view, sorted by path.
std::vector<LayerChange> layer_change_list(const Image& image, uint32_t layer);

}  // namespace coroner::explore
