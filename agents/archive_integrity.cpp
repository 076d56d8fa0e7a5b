#include "agents/archive_integrity.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <optional>

namespace rl {

namespace {

constexpr uint32_t kEndOfDirectorySignature = 0x06054b50;
constexpr uint32_t kDirectoryEntrySignature = 0x02014b50;
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr size_t kEndOfDirectoryBytes = 22;
constexpr size_t kMaxCommentBytes = 0xFFFF;
constexpr size_t kDirectoryEntryBytes = 46;
constexpr size_t kLocalHeaderBytes = 30;
constexpr uint32_t kZip64Marker = 0xFFFFFFFF;
constexpr uint32_t kZip64CountMarker = 0xFFFF;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint32_t kZip64EndOfDirectorySignature = 0x06064b50;
constexpr size_t kZip64LocatorBytes = 20;
constexpr uint32_t kZip64ExtraId = 0x0001;

// Little-endian fields at `offset`; nullopt past the end.
std::optional<uint32_t> field(std::string_view bytes, size_t offset, int width) {
  if (offset > bytes.size() || bytes.size() - offset < static_cast<size_t>(width)) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (int i = 0; i < width; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

// 64-bit little-endian field at `offset`; nullopt past the end.
std::optional<uint64_t> field64(std::string_view bytes, size_t offset) {
  const auto low = field(bytes, offset, 4);
  const auto high = field(bytes, offset + 4, 4);
  if (!low || !high) return std::nullopt;
  return uint64_t{*high} << 32 | *low;
}

// Offset of the end-of-central-directory record (searched back over a possible comment).
std::optional<size_t> end_of_directory(std::string_view bytes) {
  if (bytes.size() < kEndOfDirectoryBytes) return std::nullopt;
  const size_t last = bytes.size() - kEndOfDirectoryBytes;
  const size_t first = last > kMaxCommentBytes ? last - kMaxCommentBytes : 0;
  for (size_t at = last + 1; at-- > first;) {
    if (field(bytes, at, 4) == kEndOfDirectorySignature) return at;
  }
  return std::nullopt;
}

struct Entry {
  std::string_view name;
  uint32_t method = 0;
  uint32_t crc = 0;
  uint64_t uncompressed_size = 0;
  std::string_view data;  // As stored (compressed or not).
};

// CRC-32 and size of a raw-deflated stream, inflated in chunks; nullopt when it does not inflate
// to an end within `limit` bytes.
std::optional<std::pair<uint32_t, uint64_t>> inflated_crc(std::string_view data, uint64_t limit) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return std::nullopt;
  uint32_t crc = static_cast<uint32_t>(crc32(0, nullptr, 0));
  uint64_t size = 0;
  unsigned char chunk[16384];
  int status = Z_OK;
  while (status == Z_OK) {
    if (stream.avail_in == 0 && !data.empty()) {  // zlib takes at most 4 GiB of input at once.
      const size_t feed = std::min<size_t>(data.size(), 1u << 30);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      stream.avail_in = static_cast<uInt>(feed);
      data.remove_prefix(feed);
    }
    stream.next_out = chunk;
    stream.avail_out = sizeof chunk;
    status = inflate(&stream, Z_NO_FLUSH);
    const size_t produced = sizeof chunk - stream.avail_out;
    crc = static_cast<uint32_t>(crc32(crc, chunk, static_cast<uInt>(produced)));
    size += produced;
    if (size > limit) break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return std::nullopt;
  return std::make_pair(crc, size);
}

std::string entry_damage(const Entry& e) {
  const std::string name = "archive entry '" + std::string(e.name) + "'";
  if (e.method == 0) {
    const auto crc = static_cast<uint32_t>(
        crc32_z(0, reinterpret_cast<const Bytef*>(e.data.data()), e.data.size()));
    return crc == e.crc && e.data.size() == e.uncompressed_size
               ? ""
               : name + " does not match its recorded CRC-32";
  }
  if (e.method != Z_DEFLATED)
    return name + " has unknown compression method " + std::to_string(e.method);
  const auto inflated = inflated_crc(e.data, e.uncompressed_size);
  if (!inflated) return name + " does not inflate";
  return inflated->first == e.crc && inflated->second == e.uncompressed_size
             ? ""
             : name + " does not match its recorded CRC-32";
}

// Where the central directory starts and how many entries it has.
struct Directory {
  uint64_t offset = 0;
  uint64_t count = 0;
};

// The directory that the end record names. LibTorch writes a zip64 end record (found through
// the locator just before the end record) into every archive; its values are the ones to use
// where the 32-bit fields hold their markers, and must agree with them elsewhere, so that the
// archive reader and this check cannot read two different directories.
std::optional<Directory> directory_of(std::string_view bytes, size_t end) {
  const auto count = field(bytes, end + 10, 2);
  const auto offset = field(bytes, end + 16, 4);
  if (!count || !offset) return std::nullopt;
  const bool needs_zip64 = *offset == kZip64Marker || *count == kZip64CountMarker;
  const size_t locator = end >= kZip64LocatorBytes ? end - kZip64LocatorBytes : end;
  if (end < kZip64LocatorBytes || field(bytes, locator, 4) != kZip64LocatorSignature) {
    if (needs_zip64) return std::nullopt;
    return Directory{*offset, *count};
  }
  const auto record = field64(bytes, locator + 8);
  if (!record || *record > bytes.size() ||
      field(bytes, *record, 4) != kZip64EndOfDirectorySignature) {
    return std::nullopt;
  }
  const auto count64 = field64(bytes, *record + 32);
  const auto offset64 = field64(bytes, *record + 48);
  if (!count64 || !offset64) return std::nullopt;
  if ((*count != kZip64CountMarker && *count != *count64) ||
      (*offset != kZip64Marker && *offset != *offset64)) {
    return std::nullopt;
  }
  return Directory{*offset64, *count64};
}

// An entry's sizes and local header offset. Where a 32-bit field holds the zip64 marker, the
// 64-bit value is in the entry's zip64 extra field, in this order (APPNOTE 4.5.3).
struct Extent {
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  uint64_t local = 0;
};

std::optional<Extent> zip64_extent(std::string_view extra, Extent extent) {
  const bool uncompressed = extent.uncompressed == kZip64Marker;
  const bool compressed = extent.compressed == kZip64Marker;
  const bool local = extent.local == kZip64Marker;
  if (!uncompressed && !compressed && !local) return extent;
  for (size_t at = 0; at + 4 <= extra.size();) {
    const uint32_t id = *field(extra, at, 2);
    const size_t size = *field(extra, at + 2, 2);
    if (id == kZip64ExtraId) {
      size_t next = at + 4;
      const size_t limit = std::min(extra.size(), next + size);
      const std::string_view values = extra.substr(0, limit);
      for (uint64_t* value :
           {uncompressed ? &extent.uncompressed : nullptr,
            compressed ? &extent.compressed : nullptr, local ? &extent.local : nullptr}) {
        if (!value) continue;
        const auto read = field64(values, next);
        if (!read) return std::nullopt;
        *value = *read;
        next += 8;
      }
      return extent;
    }
    at += 4 + size;
  }
  return std::nullopt;
}

}  // namespace

std::string zip_entry_damage(std::string_view bytes) {
  const std::optional<size_t> end = end_of_directory(bytes);
  if (!end) return "";  // The archive reader says so ("failed finding central directory").
  const std::string damaged_directory = "the archive's directory is damaged";
  const std::optional<Directory> directory = directory_of(bytes, *end);
  if (!directory || directory->offset > bytes.size()) return damaged_directory;
  size_t at = directory->offset;
  for (uint64_t i = 0; i < directory->count; ++i) {
    if (field(bytes, at, 4) != kDirectoryEntrySignature) return damaged_directory;
    const auto method = field(bytes, at + 10, 2);
    const auto crc = field(bytes, at + 16, 4);
    const auto compressed = field(bytes, at + 20, 4);
    const auto uncompressed = field(bytes, at + 24, 4);
    const auto name_bytes = field(bytes, at + 28, 2);
    const auto extra_bytes = field(bytes, at + 30, 2);
    const auto comment_bytes = field(bytes, at + 32, 2);
    const auto local32 = field(bytes, at + 42, 4);
    const size_t name_at = at + kDirectoryEntryBytes;
    if (!local32 || name_at + *name_bytes + *extra_bytes > bytes.size()) return damaged_directory;
    Entry e{bytes.substr(name_at, *name_bytes), *method, *crc, 0, {}};
    const std::string damaged_header =
        "archive entry '" + std::string(e.name) + "' has a damaged header";
    const std::optional<Extent> extent =
        zip64_extent(bytes.substr(name_at + *name_bytes, *extra_bytes),
                     Extent{*compressed, *uncompressed, *local32});
    if (!extent || extent->local > bytes.size()) return damaged_header;
    e.uncompressed_size = extent->uncompressed;
    // The data follows the entry's local header, whose name and extra field lengths may differ.
    const size_t local = extent->local;
    const auto local_name = field(bytes, local + 26, 2);
    const auto local_extra = field(bytes, local + 28, 2);
    if (field(bytes, local, 4) != kLocalHeaderSignature || !local_name || !local_extra ||
        bytes.substr(local + kLocalHeaderBytes, *local_name) != e.name) {
      return damaged_header;
    }
    const size_t data_at = local + kLocalHeaderBytes + *local_name + *local_extra;
    if (data_at > bytes.size() || bytes.size() - data_at < extent->compressed) {
      return damaged_header;
    }
    e.data = bytes.substr(data_at, extent->compressed);
    if (std::string damage = entry_damage(e); !damage.empty()) return damage;
    at = name_at + *name_bytes + *extra_bytes + *comment_bytes;
  }
  return "";
}

}  // namespace rl
