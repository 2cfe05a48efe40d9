// Re-reads the content of many entries of one layer in a single pass over the layer blob: grep
// and export stream each layer once, in order, instead of calling scan::read_entry per file.
// Content is located by Entry.data_offset in the uncompressed stream, which the scan recorded,
// so no tar header is parsed twice and duplicate paths inside one layer cannot be confused.
// Sparse entries (Entry.sparse) are the exception: each is expanded by a parse of its own
// (scan::open_sparse_entry).
#pragma once

#include <functional>
#include <span>

#include "base/stream.h"
#include "image/source.h"
#include "scan/layer_index.h"

namespace coroner::explore {

// Called once per wanted entry, in data_offset order, with a stream of exactly entry.size bytes
// (whatever the callback leaves unread is skipped).
using EntryContentFn = std::function<void(const scan::Entry&, ByteStream& content)>;

// Requires: every entry is a regular file of `layer` (type kRegular).
// Entries may come in any order; they are visited by data_offset.
void read_entries(const image::ImageSource& source, const scan::LayerIndex& layer,
                  std::span<const scan::Entry* const> entries, const EntryContentFn& fn);

// The uncompressed tar stream of a blob (gzip, zstd or none, sniffed by content by scan's
// LayerStream).
std::unique_ptr<ByteStream> open_decompressed(std::unique_ptr<ByteStream> blob);

}  // namespace coroner::explore
