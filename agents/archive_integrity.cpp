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
  uint32_t uncompressed_size = 0;
  std::string_view data;  // As stored (compressed or not).
};

// CRC-32 and size of a raw-deflated stream, inflated in chunks; nullopt when it does not inflate
// to an end within `limit` bytes.
std::optional<std::pair<uint32_t, uint64_t>> inflated_crc(std::string_view data, uint64_t limit) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return std::nullopt;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  uint32_t crc = static_cast<uint32_t>(crc32(0, nullptr, 0));
  uint64_t size = 0;
  unsigned char chunk[16384];
  int status = Z_OK;
  while (status == Z_OK) {
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
        crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size())));
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

}  // namespace

std::string zip_entry_damage(std::string_view bytes) {
  const std::optional<size_t> end = end_of_directory(bytes);
  if (!end) return "";  // The archive reader says so ("failed finding central directory").
  const auto count = field(bytes, *end + 10, 2);
  const auto directory = field(bytes, *end + 16, 4);
  if (!count || !directory || *directory == kZip64Marker) return "";
  const std::string damaged_directory = "the archive's directory is damaged";
  size_t at = *directory;
  for (uint32_t i = 0; i < *count; ++i) {
    if (field(bytes, at, 4) != kDirectoryEntrySignature) return damaged_directory;
    const auto method = field(bytes, at + 10, 2);
    const auto crc = field(bytes, at + 16, 4);
    const auto compressed = field(bytes, at + 20, 4);
    const auto uncompressed = field(bytes, at + 24, 4);
    const auto name_bytes = field(bytes, at + 28, 2);
    const auto extra_bytes = field(bytes, at + 30, 2);
    const auto comment_bytes = field(bytes, at + 32, 2);
    const auto local = field(bytes, at + 42, 4);
    const size_t name_at = at + kDirectoryEntryBytes;
    if (!local || name_at + *name_bytes > bytes.size()) return damaged_directory;
    if (*compressed == kZip64Marker || *uncompressed == kZip64Marker) return "";
    Entry e{bytes.substr(name_at, *name_bytes), *method, *crc, *uncompressed, {}};
    // The data follows the entry's local header, whose name and extra field lengths may differ.
    const std::string damaged_header =
        "archive entry '" + std::string(e.name) + "' has a damaged header";
    const auto local_name = field(bytes, *local + 26, 2);
    const auto local_extra = field(bytes, *local + 28, 2);
    if (field(bytes, *local, 4) != kLocalHeaderSignature || !local_name || !local_extra ||
        bytes.substr(size_t{*local} + kLocalHeaderBytes, *local_name) != e.name) {
      return damaged_header;
    }
    const size_t data_at = size_t{*local} + kLocalHeaderBytes + *local_name + *local_extra;
    if (data_at > bytes.size() || bytes.size() - data_at < *compressed) return damaged_header;
    e.data = bytes.substr(data_at, *compressed);
    if (std::string damage = entry_damage(e); !damage.empty()) return damage;
    at = name_at + *name_bytes + *extra_bytes + *comment_bytes;
  }
  return "";
}

}  // namespace rl
