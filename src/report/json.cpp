#include <sendcheck/report/json.hpp>

#include <sendcheck/spf/lint.hpp>
#include <sendcheck/version.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <concepts>
#include <optional>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sendcheck::report {

namespace {

using Json = nlohmann::ordered_json;

/// An empty object with room for `fields` members. ordered_json keeps members in a vector that otherwise grows by
/// doubling, copying every (const) key at each step.
Json
object_with(size_t fields)
{
  Json out = Json::object();
  out.get_ref<Json::object_t&>().reserve(fields);
  return out;
}

/// Strings from DNS may hold any bytes; JSON needs valid UTF-8. Invalid sequences become U+FFFD.
Json
text(std::string_view value)
{
  return Json(value);
}

Json
finding_to_json(const Finding& finding)
{
  Json out = object_with(5);
  out["code"] = finding.code;
  out["severity"] = to_string(finding.severity);
  out["message"] = text(finding.message);
  out["fix"] = text(finding.fix);
  if (!finding.detail.empty()) {
    out["detail"] = text(finding.detail);
  }
  return out;
}

Json
lookup_to_json(const spf::LookupInfo& lookup)
{
  Json out = object_with(7);
  out["name"] = text(lookup.name);
  out["type"] = dns::to_string(lookup.type);
  out["status"] = dns::to_string(lookup.status);
  out["records"] = lookup.record_count;
  if (!lookup.server.empty()) {
    out["server"] = text(lookup.server);
  }
  if (!lookup.detail.empty()) {
    out["detail"] = text(lookup.detail);
  }
  if (lookup.counted_void) {
    out["void"] = true;
  }
  return out;
}

Json
trace_to_json(const std::vector<spf::TraceStep>& trace)
{
  Json out = Json::array();
  for (const auto& step : trace) {
    Json item = object_with(8);
    item["depth"] = step.depth;
    item["domain"] = text(step.domain);
    item["term"] = text(step.term);
    if (!step.target.empty()) {
      item["target"] = text(step.target);
    }
    item["matched"] = step.matched;
    if (step.result) {
      item["result"] = spf::to_string(*step.result);
    }
    if (!step.note.empty()) {
      item["note"] = text(step.note);
    }
    Json lookups = Json::array();
    for (const auto& lookup : step.lookups) {
      lookups.push_back(lookup_to_json(lookup));
    }
    item["lookups"] = std::move(lookups);
    out.push_back(std::move(item));
  }
  return out;
}

Json
evaluation_to_json(const IpResult& ip, const JsonOptions& options)
{
  const auto& evaluation = *ip.evaluation;
  Json out = object_with(11);
  out["ip"] = ip.ip.to_string();
  out["role"] = to_string(ip.role);
  out["result"] = spf::to_string(evaluation.result);
  if (evaluation.deciding_term) {
    out["decided_by"] = {{"term", text(evaluation.deciding_term->text)}, {"domain", text(evaluation.deciding_domain)}};
  } else {
    out["decided_by"] = nullptr;
  }
  out["dns_terms"] = evaluation.dns_terms;
  out["void_lookups"] = evaluation.void_lookups;
  if (!evaluation.error_code.empty()) {
    out["error_code"] = evaluation.error_code;
  }
  if (!evaluation.reason.empty()) {
    out["reason"] = text(evaluation.reason);
  }
  if (!evaluation.explanation.empty()) {
    out["explanation"] = text(evaluation.explanation);
  }
  if (evaluation.dns_failure) {
    out["dns_failure"] = lookup_to_json(*evaluation.dns_failure);
  }
  if (options.include_trace) {
    out["trace"] = trace_to_json(evaluation.trace);
  }
  return out;
}

/// The cost tree from `node`, reached by the term `via` ("" for the root).
Json
cost_node_to_json(const spf::CostNode& node, const std::string& via)
{
  Json out = object_with(10);
  out["domain"] = text(node.domain);
  if (!via.empty()) {
    out["via"] = text(via);
  }
  out["record"] = text(node.record);
  out["own_terms"] = node.own_terms;
  out["subtree_terms"] = node.subtree_terms;
  out["own_void_lookups"] = node.own_void_lookups;
  if (node.mx_host_lookups != 0) {
    out["mx_host_lookups"] = node.mx_host_lookups;
  }
  if (node.loop) {
    out["loop"] = true;
  }
  if (!node.errors.empty()) {
    out["errors"] = node.errors;
  }
  Json children = Json::array();
  for (const auto& child : node.children) {
    children.push_back(cost_node_to_json(*child.node, child.via));
  }
  out["children"] = std::move(children);
  return out;
}

Json
record_to_json(const dns::TxtRecord& record)
{
  return {{"text", text(record.joined())}, {"strings", record.strings}};
}

Json
records_to_json(const std::vector<dns::TxtRecord>& records)
{
  Json out = Json::array();
  for (const auto& record : records) {
    out.push_back(record_to_json(record));
  }
  return out;
}

/// The records pointed to (a report's SPF records, which stay in the TXT answer it holds).
Json
records_to_json(const std::vector<const dns::TxtRecord*>& records)
{
  Json out = Json::array();
  for (const auto* record : records) {
    out.push_back(record_to_json(*record));
  }
  return out;
}


/// How a byte appears inside a JSON string as nlohmann's serializer writes it (`ensure_ascii` off).
enum class ByteClass : uint8_t {
  plain,     ///< Printable ASCII (and DEL): copied.
  escaped,   ///< `"` or `\`: a backslash before it.
  careful,   ///< A control character or a non-ASCII byte: left to nlohmann (short escapes, \u00XX, UTF-8 checks).
};

constexpr std::array<ByteClass, 256>
make_byte_classes()
{
  std::array<ByteClass, 256> out{};
  for (size_t byte = 0; byte < out.size(); ++byte) {
    out[byte] = byte < 0x20 || byte > 0x7f ? ByteClass::careful : ByteClass::plain;
  }
  out['"'] = ByteClass::escaped;
  out['\\'] = ByteClass::escaped;
  return out;
}

constexpr std::array<ByteClass, 256> k_byte_classes = make_byte_classes();

/// The byte lanes of `word` that need care or escaping (not plain in `k_byte_classes`): a byte below 0x20, from 0x80,
/// or equal to `"` or `\` sets the high bit of its lane. Bit tricks on the whole word (the classic "has a zero byte"
/// test): a borrow may also set lanes above such a lane, so the result is exact as to whether any lane is set and as
/// to the lowest one, not beyond.
constexpr uint64_t
special_lanes(uint64_t word)
{
  constexpr uint64_t k_ones = 0x0101010101010101;
  constexpr uint64_t k_high_bits = 0x8080808080808080;
  const auto has_zero_byte = [](uint64_t x) { return (x - k_ones) & ~x & k_high_bits; };
  const uint64_t below_space = (word - k_ones * 0x20) & ~word & k_high_bits;
  const uint64_t non_ascii = word & k_high_bits;
  const uint64_t quote = has_zero_byte(word ^ (k_ones * '"'));
  const uint64_t backslash = has_zero_byte(word ^ (k_ones * '\\'));
  return below_space | non_ascii | quote | backslash;
}

/// Whether none of the eight bytes in `word` needs care or escaping.
constexpr bool
all_plain(uint64_t word)
{
  return special_lanes(word) == 0;
}

static_assert(all_plain(0x2020202020202020) && all_plain(0x7e7e7e7e7e7e7e7e) && all_plain(0x7f61616161616161));
static_assert(!all_plain(0x616161616161611f) && !all_plain(0x2261616161616161) && !all_plain(0x6161615c61616161));
static_assert(!all_plain(0x80616161616161ff) && !all_plain(0x6161616161610061));
// The lowest lane set is the first byte (in little-endian order) that is not plain.
static_assert(std::countr_zero(special_lanes(0x2261616161616161)) / 8 == 7);
static_assert(std::countr_zero(special_lanes(0x00205c6161616161)) / 8 == 5);
static_assert(std::countr_zero(special_lanes(0x6161611f20202020)) / 8 == 4);
static_assert(std::countr_zero(special_lanes(0x61616161616180ff)) / 8 == 0);

/// The `size` bytes at `bytes` in the low byte lanes of a word (little-endian), zeros above, from two `Piece`s that
/// overlap unless `size` is twice a piece: `size` is from one to two pieces.
template<typename Piece>
uint64_t
load_pieces(const char* bytes, size_t size)
{
  Piece low = 0;
  Piece high = 0;
  std::memcpy(&low, bytes, sizeof(Piece));
  std::memcpy(&high, bytes + size - sizeof(Piece), sizeof(Piece));
  return uint64_t{low} | uint64_t{high} << (8 * (size - sizeof(Piece)));
}

/// The `size` bytes (1 to 7) at `bytes` in the low byte lanes of a word (little-endian), zeros above, read without
/// touching a byte past `bytes + size`.
uint64_t
load_short(const char* bytes, size_t size)
{
  if (size >= 4) {
    return load_pieces<uint32_t>(bytes, size);
  }
  if (size >= 2) {
    return load_pieces<uint16_t>(bytes, size);
  }
  return static_cast<unsigned char>(bytes[0]);
}

#if defined(__SSE2__)
/// The 16 bytes at `bytes`.
__m128i
load_block(const char* bytes)
{
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
}

/// Stores `block` at `to` (16 bytes).
void
store_block(char* to, __m128i block)
{
  _mm_storeu_si128(reinterpret_cast<__m128i*>(to), block);
}

/// Bit `i` set when byte `i` of `block` is not plain in `k_byte_classes`: below 0x20, from 0x80, `"` or `\`.
unsigned
special_bytes(__m128i block)
{
  // As signed bytes those from 0x80 are negative, so one comparison finds them and the control characters.
  const __m128i below_space = _mm_cmplt_epi8(block, _mm_set1_epi8(0x20));
  const __m128i quote = _mm_cmpeq_epi8(block, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(block, _mm_set1_epi8('\\'));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(below_space, _mm_or_si128(quote, backslash))));
}

/// Copies plain bytes from `next` to `out` `Blocks` blocks a turn while as many are left (blocks are stored whole, and
/// kept up to their first byte that is not plain); returns true when it stopped at a byte that is not plain.
template<unsigned Blocks>
[[gnu::always_inline]] inline bool
copy_blocks(const char*& next, const char* end, char*& out)
{
  static_assert(Blocks == 1 || Blocks == 2, "a bit per byte in the 32-bit mask");
  constexpr ptrdiff_t k_step = 16 * Blocks;
  while (end - next >= k_step) {
    unsigned special = 0;
    for (unsigned i = 0; i < Blocks; ++i) {
      const __m128i block = load_block(next + 16 * i);
      store_block(out + 16 * i, block);
      special |= special_bytes(block) << (16 * i);
    }
    if (special != 0) {
      const auto plain = std::countr_zero(special);
      out += plain;
      next += plain;
      return true;
    }
    out += k_step;
    next += k_step;
  }
  return false;
}
#endif

/// Copies the plain bytes from `next` to `out` up to the first that is not, or to `end`, and returns where it stopped.
/// With SSE2 32 or 16 bytes at a time, and fewer as one block (two overlapping words, or a word read in pieces);
/// otherwise 8 bytes at a time by bit tricks (big-endian: whole plain words only, so it may stop before a plain byte,
/// which the caller then takes by its class). `out` must have room for two bytes per byte and a word more (blocks and
/// words are stored whole, and kept up to their first byte that is not plain). Inlined into both callers, `escaped`'s
/// short path among them.
[[gnu::always_inline]] inline const char*
copy_plain(const char* next, const char* end, char*& out)
{
#if defined(__SSE2__)
  if (end - next >= 16) {
    // Two blocks a turn while they last (long records and messages): one test and one step for both; then one.
    if (copy_blocks<2>(next, end, out) || copy_blocks<1>(next, end, out)) {
      return next;
    }
    if (next != end) {
      // Fewer than 16 bytes left: the 16 that end the string, whose first bytes were just copied as they are, so
      // storing them again where they went changes nothing. The bit past the tail stops the count there.
      const auto tail = static_cast<unsigned>(end - next);
      const __m128i block = load_block(end - 16);
      store_block(out + tail - 16, block);
      const auto plain = std::countr_zero(special_bytes(block) >> (16 - tail) | 1U << tail);
      out += plain;
      next += plain;
    }
    return next;
  }
  const auto size = static_cast<unsigned>(end - next);
  if (size >= 8) {
    // 8 to 15 bytes: the first 8 and the last 8 (overlapping) side by side in one block, each stored where it goes.
    uint64_t first = 0;
    uint64_t last = 0;
    std::memcpy(&first, next, 8);
    std::memcpy(&last, end - 8, 8);
    std::memcpy(out, &first, 8);
    std::memcpy(out + size - 8, &last, 8);
    const unsigned special = special_bytes(_mm_set_epi64x(static_cast<int64_t>(last), static_cast<int64_t>(first)));
    // The last 8 count only when the first 8 are plain; the bit past them stops the count at `size`.
    const unsigned plain =
      (special & 0xff) != 0 ? std::countr_zero(special) : std::countr_zero(special >> 8 | 0x100) + size - 8;
    out += plain;
    return next + plain;
  }
  if (size != 0) {
    // Fewer than 8: read in pieces and stored as a whole word (there is room for that); the zero bytes past them
    // count as special (below 0x20) and stop the count at `size`.
    const uint64_t word = load_short(next, size);
    std::memcpy(out, &word, 8);
    const auto plain = std::countr_zero(special_bytes(_mm_set_epi64x(0, static_cast<int64_t>(word))));
    out += plain;
    return next + plain;
  }
  return next;
#else
  uint64_t word = 0;
  if constexpr (std::endian::native != std::endian::little) {
    // Whole plain words only (the lanes below are in little-endian order).
    while (end - next >= 8 && (std::memcpy(&word, next, 8), all_plain(word))) {
      std::memcpy(out, next, 8);
      out += 8;
      next += 8;
    }
    return next;
  }
  // Eight bytes at a time, kept up to the first that is not plain; then the last bytes, fewer than eight.
  const bool whole_word = end - next >= 8;
  while (end - next >= 8) {
    std::memcpy(&word, next, 8);
    std::memcpy(out, &word, 8);
    const uint64_t special = special_lanes(word);
    if (special != 0) {
      const auto plain = std::countr_zero(special) / 8;
      out += plain;
      return next + plain;
    }
    out += 8;
    next += 8;
  }
  if (next == end) {
    return next;
  }
  const auto tail = static_cast<unsigned>(end - next);
  uint64_t special = 0;
  if (whole_word) {
    // As for SSE2's 16 bytes above: the word that ends the string, stored again over the bytes just copied. The
    // lane past the tail stops the count there.
    std::memcpy(&word, end - 8, 8);
    std::memcpy(out + tail - 8, &word, 8);
    special = special_lanes(word) >> (8 * (8 - tail)) | uint64_t{0x80} << (8 * tail);
  } else {
    // Fewer than 8 bytes from the start (a short string, or the rest after an escaped byte): read in pieces and
    // stored as a whole word (there is room for that). Its zero lanes past the tail count as special (below
    // 0x20) and stop the count there.
    word = load_short(next, tail);
    std::memcpy(out, &word, 8);
    special = special_lanes(word);
  }
  const auto plain = std::countr_zero(special) / 8;
  out += plain;
  return next + plain;
#endif
}

/// A member's name: one of this file's literal keys (ASCII letters, digits and underscores, so never escaped), made
/// at compile time into the bytes that open the member, `"name": `, padded to a fixed size. The writer copies the
/// whole padding with a couple of moves (no call to memcpy, no look at the name) and keeps `size()` bytes, or one
/// more for the space of the indented layout.
class Key
{
public:
  /// The padded size: room for the longest key ("organizational_domain") with its quotes, colon and space.
  static constexpr size_t k_padded = 32;

  /// From a literal: implicit, so that callers write `out.string_field("code", ...)`. A name that would need
  /// escaping or is too long does not compile (a throw cannot be evaluated at compile time).
  template<size_t N>
  consteval Key(const char (&name)[N])
  {
    static_assert(N - 1 + 4 <= k_padded, "a key longer than the padding");
    m_text[0] = '"';
    for (size_t i = 0; i + 1 < N; ++i) {
      const char c = name[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
        throw "a key must be ASCII letters, digits and underscores";
      }
      m_text[i + 1] = c;
    }
    m_text[N] = '"';
    m_text[N + 1] = ':';
    m_text[N + 2] = ' ';
    m_size = N + 2;
  }

  /// `"name": ` and zeros up to `k_padded`.
  const char* padded() const { return m_text.data(); }
  /// The length of `"name":` (without the space).
  size_t size() const { return m_size; }

private:
  std::array<char, k_padded> m_text{};
  size_t m_size = 0;
};

/// Writes pretty-printed JSON (2-space steps) straight into a string, byte for byte as nlohmann's serializer dumps
/// the same values with `dump(json, true, false, 2, indent)`: each member and element on its own line, `[]` and
/// `{}` for empty containers, integers in plain decimal. Strings of printable ASCII are copied (with `"` and `\`
/// escaped); any other string is escaped by nlohmann's serializer itself (`ensure_ascii` off, invalid UTF-8 replaced
/// by U+FFFD), so the escaping is exactly nlohmann's.
///
/// The bytes go through a pointer (`m_next`) straight into the room after `out`'s text, which a buffer that is
/// reused (the CLI renders each domain into one from a pool) has from the domains before, and become its text at the
/// end. Writing into a buffer of the thread's instead cost a copy of every domain's output into `out`, with an
/// allocation; writing into a std::string, a fill of the room made ahead for every domain.
class JsonWriter
{
public:
  /// Appends to `out`, as if nested at indentation `indent`; `compact`: on one line, without spaces.
  JsonWriter(util::TextBuffer& out, unsigned indent, bool compact);
  /// Makes the bytes written part of `out`'s text.
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  /// Opens an object (as an element, the value of the member just named, or the top-level value).
  void begin_object() { open('{'); }
  /// Closes the innermost object.
  void end_object() { close('}'); }
  /// Opens an array.
  void begin_array() { open('['); }
  /// Closes the innermost array.
  void end_array() { close(']'); }

  /// Names a member of the current object: the value written next is its value. Inlined at every call, so that the
  /// key's padded bytes are copied straight from the constant, not first built on the stack and passed.
  [[gnu::always_inline]] inline void key(const Key& name);

  /// A string value.
  void string(std::string_view value);
  /// An integer value.
  template<std::integral T>
    requires(!std::same_as<T, bool>)
  void number(T value);
  /// `true` or `false`.
  void boolean(bool value);
  /// `null`.
  void null();
  /// An IP address's text as a string value (digits, dots, colons and hex letters: nothing to escape), written in
  /// place instead of through a std::string.
  void address(const dns::IpAddress& value);

  /// Where the next byte goes, as an offset into `out` (for `repeat`).
  size_t mark() const { return static_cast<size_t>(m_next - m_out.data()); }
  /// Writes again the bytes written between marks `from` and `to`. The caller's part: they must be what writing the
  /// same values now would give, so the same tokens from the same nesting (the writer's state after them is then
  /// what it was at `to`: the innermost container not empty, no key pending).
  void repeat(size_t from, size_t to);

  /// A string member. Inlined at every call, as `key` is: the key's padded bytes and size are then constants, not
  /// a Key built on the stack for a call (about 20 instructions a member, with the call itself).
  [[gnu::always_inline]] inline void string_field(const Key& name, std::string_view value);
  /// A string member whose value is a name from an enum's `to_string` ("ordinary", "temperror", ...): printable
  /// ASCII without `"` or `\`, so it is copied without a look at its bytes (about 15 such members a domain).
  /// Inlined, as `string_field`.
  [[gnu::always_inline]] inline void word_field(const Key& name, std::string_view word);
  /// A string member that is null when `value` is empty.
  void string_or_null_field(const Key& name, std::string_view value);
  /// An integer member (inlined as `string_field`).
  template<std::integral T>
    requires(!std::same_as<T, bool>)
  [[gnu::always_inline]] inline void number_field(const Key& name, T value);
  /// A boolean member.
  void bool_field(const Key& name, bool value);
  /// A null member.
  void null_field(const Key& name);
  /// An array of strings as a member.
  void strings_field(const Key& name, const std::vector<std::string>& values);

private:
  /// Makes room for `bytes` more bytes at `m_next`. Inlined: it comes before nearly every token (about 150 a domain),
  /// and the test is a few instructions where a call cost twice that.
  [[gnu::always_inline]] inline void room(size_t bytes);
  /// `room` when there is not enough: makes more room in `m_out`.
  [[gnu::noinline]] void grow(size_t bytes);
  /// Copies `text` (room must have been made).
  void put(std::string_view text);
  /// The most bytes `begin_value` writes.
  size_t value_prefix_room() const { return m_indent + 2 * m_depth + 2; }
  /// Starts a value: after a key nothing, in an array the separator and the indentation (room must have been made
  /// for `value_prefix_room()` bytes).
  void begin_value();
  /// The separator before an item (newline, or comma and newline) and the item's indentation. Inlined: it comes
  /// before nearly every key and element.
  [[gnu::always_inline]] inline void next_item();
  /// `next_item` and the key (room must have been made for `value_prefix_room() + Key::k_padded` bytes).
  [[gnu::always_inline]] inline void put_key(const Key& name);
  /// The room `escaped` needs: at most two bytes per byte and the quotes, and a word that `copy_plain` may store
  /// past the end.
  static size_t escaped_room(std::string_view value) { return 2 * value.size() + 2 + 8; }
  /// The room for an integer's digits and sign.
  static constexpr size_t k_number_room = 24;
  /// Opens and closes a container: inlined, so that the bracket is a constant (about 40,000 of each for 2,000
  /// domains).
  [[gnu::always_inline]] inline void open(char bracket);
  [[gnu::always_inline]] inline void close(char bracket);
  /// A newline and `m_indent + 2 * depth` spaces.
  void new_line(size_t depth);
  /// `value` as a quoted JSON string.
  void escaped(std::string_view value);
  /// The rest of `escaped` from `next` in `value`, a byte that is not plain, on at `out` (out of line, so that the
  /// usual plain string takes a short path).
  [[gnu::noinline]] void escaped_rest(std::string_view value, const char* next, char* out);
  /// `value` as a quoted JSON string by nlohmann's serializer.
  void escaped_by_nlohmann(std::string_view value);

  using Serializer = nlohmann::detail::serializer<Json>;

  util::TextBuffer& m_out; ///< Written into its room; the bytes become its text in `grow` and at the end.
  char* m_next = nullptr;  ///< Where the next byte goes, in `m_out`'s room.
  char* m_end = nullptr;   ///< The end of `m_out`'s room.
  unsigned m_indent;
  bool m_compact;
  size_t m_depth = 0; ///< How many containers are open.
  /// Whether the innermost open container has no items yet. Those around it have at least the one open in them, so
  /// that closing a container leaves its parent not empty: one flag does, no stack.
  bool m_empty = false;
  bool m_after_key = false;
  /// Made on first use (it allocates and reads the locale), for strings that are not plain ASCII; it writes to
  /// `m_serialized`.
  std::optional<Serializer> m_serializer;
  std::string m_serialized;
};

JsonWriter::JsonWriter(util::TextBuffer& out, unsigned indent, bool compact)
  : m_out(out), m_next(out.end()), m_end(out.room_end()), m_indent(indent), m_compact(compact)
{
}

JsonWriter::~JsonWriter()
{
  m_out.end_at(m_next);
}

inline void
JsonWriter::room(size_t bytes)
{
  if (static_cast<size_t>(m_end - m_next) < bytes) {
    grow(bytes);
  }
}

void
JsonWriter::grow(size_t bytes)
{
  m_out.end_at(m_next);
  m_out.make_room(bytes);
  m_next = m_out.end();
  m_end = m_out.room_end();
}

void
JsonWriter::put(std::string_view text)
{
  std::memcpy(m_next, text.data(), text.size());
  m_next += text.size();
}

inline void
JsonWriter::key(const Key& name)
{
  room(value_prefix_room() + Key::k_padded);
  put_key(name);
  m_after_key = true;
}

inline void
JsonWriter::put_key(const Key& name)
{
  next_item();
  std::memcpy(m_next, name.padded(), Key::k_padded);
  m_next += name.size() + (m_compact ? 0 : 1);
}

void
JsonWriter::string(std::string_view value)
{
  room(value_prefix_room() + escaped_room(value));
  begin_value();
  escaped(value);
}

template<std::integral T>
  requires(!std::same_as<T, bool>)
void
JsonWriter::number(T value)
{
  room(value_prefix_room() + k_number_room);
  begin_value();
  m_next = std::to_chars(m_next, m_end, value).ptr;
}

void
JsonWriter::boolean(bool value)
{
  room(value_prefix_room() + 5);
  begin_value();
  put(value ? "true" : "false");
}

void
JsonWriter::null()
{
  room(value_prefix_room() + 4);
  begin_value();
  put("null");
}

void
JsonWriter::address(const dns::IpAddress& value)
{
  room(value_prefix_room() + dns::IpAddress::k_text_room + 2);
  begin_value();
  *m_next++ = '"';
  m_next = value.write_text(m_next);
  *m_next++ = '"';
}

void
JsonWriter::repeat(size_t from, size_t to)
{
  room(to - from);
  // After `room`: it may move the buffer.
  std::memcpy(m_next, m_out.data() + from, to - from);
  m_next += to - from;
  m_empty = false;
  m_after_key = false;
}

inline void
JsonWriter::string_field(const Key& name, std::string_view value)
{
  // The member at once: one look at the room, and the value written right after its key.
  room(value_prefix_room() + Key::k_padded + escaped_room(value));
  put_key(name);
  escaped(value);
}

/// Whether `word` is all plain bytes (printable ASCII and DEL, without `"` and `\`): what `word_field` may copy.
[[maybe_unused]] bool
is_plain(std::string_view word)
{
  return std::all_of(word.begin(), word.end(),
                     [](char c) { return k_byte_classes[static_cast<unsigned char>(c)] == ByteClass::plain; });
}

inline void
JsonWriter::word_field(const Key& name, std::string_view word)
{
  assert(is_plain(word));
  room(value_prefix_room() + Key::k_padded + word.size() + 2);
  put_key(name);
  *m_next++ = '"';
  put(word);
  *m_next++ = '"';
}

void
JsonWriter::string_or_null_field(const Key& name, std::string_view value)
{
  key(name);
  if (value.empty()) {
    null();
  } else {
    string(value);
  }
}

template<std::integral T>
  requires(!std::same_as<T, bool>)
inline void
JsonWriter::number_field(const Key& name, T value)
{
  // As string_field.
  room(value_prefix_room() + Key::k_padded + k_number_room);
  put_key(name);
  m_next = std::to_chars(m_next, m_end, value).ptr;
}

void
JsonWriter::bool_field(const Key& name, bool value)
{
  key(name);
  boolean(value);
}

void
JsonWriter::null_field(const Key& name)
{
  key(name);
  null();
}

void
JsonWriter::strings_field(const Key& name, const std::vector<std::string>& values)
{
  key(name);
  begin_array();
  for (const auto& value : values) {
    string(value);
  }
  end_array();
}

void
JsonWriter::begin_value()
{
  if (m_after_key) {
    m_after_key = false;
  } else if (m_depth != 0) {
    next_item();
  }
}

inline void
JsonWriter::next_item()
{
  // The comma is written in any case and kept unless this is the first item.
  *m_next = ',';
  m_next += m_empty ? 0 : 1;
  m_empty = false;
  new_line(m_depth);
}

void
JsonWriter::new_line(size_t depth)
{
  if (m_compact) {
    return;
  }
  const size_t spaces = m_indent + 2 * depth;
  *m_next++ = '\n';
  std::memset(m_next, ' ', spaces);
  m_next += spaces;
}

inline void
JsonWriter::open(char bracket)
{
  room(value_prefix_room() + 1);
  begin_value();
  *m_next++ = bracket;
  ++m_depth;
  m_empty = true;
}

inline void
JsonWriter::close(char bracket)
{
  const bool empty = m_empty;
  --m_depth;
  m_empty = false;
  room(value_prefix_room());
  if (!empty) {
    new_line(m_depth);
  }
  *m_next++ = bracket;
}

void
JsonWriter::escaped(std::string_view value)
{
  // Written through a local pointer, and `m_next` set at the end: a store through a char pointer may change any
  // object, so the member would be stored and loaded again around every byte and block.
  char* out = m_next;
  *out++ = '"';
  const char* const end = value.data() + value.size();
  // Most strings are plain (records and names): copied in blocks, and done.
  const char* const next = copy_plain(value.data(), end, out);
  if (next != end) {
    escaped_rest(value, next, out);
    return;
  }
  *out++ = '"';
  m_next = out;
}

void
JsonWriter::escaped_rest(std::string_view value, const char* next, char* out)
{
  const char* const end = value.data() + value.size();
  while (next != end) {
    // One byte by its class, then plain bytes a block at a time.
    const char c = *next++;
    switch (k_byte_classes[static_cast<unsigned char>(c)]) {
    case ByteClass::plain:
      *out++ = c;
      break;
    case ByteClass::escaped:
      *out++ = '\\';
      *out++ = c;
      break;
    case ByteClass::careful:
      escaped_by_nlohmann(value); // from `m_next`, over what was written here
      return;
    }
    next = copy_plain(next, end, out);
  }
  *out++ = '"';
  m_next = out;
}

void
JsonWriter::escaped_by_nlohmann(std::string_view value)
{
  if (!m_serializer) {
    m_serializer.emplace(nlohmann::detail::output_adapter<char, std::string>(m_serialized), ' ',
                         Json::error_handler_t::replace);
  }
  m_serialized.clear();
  m_serializer->dump(Json(std::string(value)), false, false, 0);
  // From `m_next`, over what the caller began to write of this string.
  room(m_serialized.size());
  put(m_serialized);
}

void
write_finding(JsonWriter& out, const Finding& finding)
{
  out.begin_object();
  out.string_field("code", finding.code);
  out.word_field("severity", to_string(finding.severity));
  out.string_field("message", finding.message);
  out.string_field("fix", finding.fix);
  if (!finding.detail.empty()) {
    out.string_field("detail", finding.detail);
  }
  out.end_object();
}

void
write_lookup(JsonWriter& out, const spf::LookupInfo& lookup)
{
  out.begin_object();
  out.string_field("name", lookup.name);
  out.word_field("type", dns::to_string(lookup.type));
  out.word_field("status", dns::to_string(lookup.status));
  out.number_field("records", lookup.record_count);
  if (!lookup.server.empty()) {
    out.string_field("server", lookup.server);
  }
  if (!lookup.detail.empty()) {
    out.string_field("detail", lookup.detail);
  }
  if (lookup.counted_void) {
    out.bool_field("void", true);
  }
  out.end_object();
}

void
write_trace(JsonWriter& out, const std::vector<spf::TraceStep>& trace)
{
  out.begin_array();
  for (const auto& step : trace) {
    out.begin_object();
    out.number_field("depth", step.depth);
    out.string_field("domain", step.domain);
    out.string_field("term", step.term);
    if (!step.target.empty()) {
      out.string_field("target", step.target);
    }
    out.bool_field("matched", step.matched);
    if (step.result) {
      out.word_field("result", spf::to_string(*step.result));
    }
    if (!step.note.empty()) {
      out.string_field("note", step.note);
    }
    out.key("lookups");
    out.begin_array();
    for (const auto& lookup : step.lookups) {
      write_lookup(out, lookup);
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
}

/// The members of an evaluation's object after its address and role: the same for every address whose evaluation
/// is the same (see `same_members`).
void
write_evaluation_members(JsonWriter& out, const spf::Evaluation& evaluation, const JsonOptions& options)
{
  out.word_field("result", spf::to_string(evaluation.result));
  out.key("decided_by");
  if (evaluation.deciding_term) {
    out.begin_object();
    out.string_field("term", evaluation.deciding_term->text);
    out.string_field("domain", evaluation.deciding_domain);
    out.end_object();
  } else {
    out.null();
  }
  out.number_field("dns_terms", evaluation.dns_terms);
  out.number_field("void_lookups", evaluation.void_lookups);
  if (!evaluation.error_code.empty()) {
    out.string_field("error_code", evaluation.error_code);
  }
  if (!evaluation.reason.empty()) {
    out.string_field("reason", evaluation.reason);
  }
  if (!evaluation.explanation.empty()) {
    out.string_field("explanation", evaluation.explanation);
  }
  if (evaluation.dns_failure) {
    out.key("dns_failure");
    write_lookup(out, *evaluation.dns_failure);
  }
  if (options.include_trace) {
    out.key("trace");
    write_trace(out, evaluation.trace);
  }
}

/// Whether `a` and `b` agree in every field that `write_evaluation_members` writes (kept beside it: a field written
/// there must be compared here). With the trace (--verbose) they are not compared, and never the same.
bool
same_members(const spf::Evaluation& a, const spf::Evaluation& b, const JsonOptions& options)
{
  const auto same_term = [](const spf::Evaluation& x, const spf::Evaluation& y) {
    if (!x.deciding_term || !y.deciding_term) {
      return !x.deciding_term && !y.deciding_term;
    }
    return x.deciding_term == y.deciding_term || x.deciding_term->text == y.deciding_term->text;
  };
  const auto same_failure = [](const std::optional<spf::LookupInfo>& x, const std::optional<spf::LookupInfo>& y) {
    if (!x || !y) {
      return !x && !y;
    }
    return x->name == y->name && x->type == y->type && x->status == y->status && x->record_count == y->record_count
           && x->server == y->server && x->detail == y->detail && x->counted_void == y->counted_void;
  };
  return !options.include_trace && a.result == b.result && a.dns_terms == b.dns_terms
         && a.void_lookups == b.void_lookups && same_term(a, b) && a.deciding_domain == b.deciding_domain
         && a.error_code == b.error_code && a.reason == b.reason && a.explanation == b.explanation
         && same_failure(a.dns_failure, b.dns_failure);
}

/// The addresses' results. Addresses that one evaluation served (check_hosts gives them the same one: usually
/// Directo's four ordinary addresses), or evaluations that agree in what is written (often the bulk address's), have
/// the same members after "role": those bytes are written once and copied for the others. The very same evaluation
/// is known without comparing its fields, and is copied with its trace too (--verbose), which writes the same bytes.
void
write_results(JsonWriter& out, const std::vector<IpResult>& ips, const JsonOptions& options)
{
  /// The members of an evaluation already written, and where their bytes are.
  struct Written
  {
    const spf::Evaluation* evaluation;
    size_t from;
    size_t to;
  };
  // The last few different ones (a sender has a handful of addresses, and a domain's record tells them apart into
  // one to three groups).
  constexpr size_t k_kept = 4;
  std::array<Written, k_kept> written{};
  size_t count = 0;
  out.begin_array();
  for (const auto& ip : ips) {
    out.begin_object();
    out.key("ip");
    out.address(ip.ip);
    out.word_field("role", to_string(ip.role));
    const auto same = std::find_if(written.begin(), written.begin() + std::min(count, k_kept), [&](const Written& w) {
      return w.evaluation == ip.evaluation.get() || same_members(*w.evaluation, *ip.evaluation, options);
    });
    if (same != written.begin() + std::min(count, k_kept)) {
      out.repeat(same->from, same->to);
    } else {
      const size_t from = out.mark();
      write_evaluation_members(out, *ip.evaluation, options);
      written[count++ % k_kept] = Written{ip.evaluation.get(), from, out.mark()};
    }
    out.end_object();
  }
  out.end_array();
}

/// The cost tree from `node`, reached by the term `via` ("" for the root).
void
write_cost_node(JsonWriter& out, const spf::CostNode& node, std::string_view via)
{
  out.begin_object();
  out.string_field("domain", node.domain);
  if (!via.empty()) {
    out.string_field("via", via);
  }
  out.string_field("record", node.record);
  out.number_field("own_terms", node.own_terms);
  out.number_field("subtree_terms", node.subtree_terms);
  out.number_field("own_void_lookups", node.own_void_lookups);
  if (node.mx_host_lookups != 0) {
    out.number_field("mx_host_lookups", node.mx_host_lookups);
  }
  if (node.loop) {
    out.bool_field("loop", true);
  }
  if (!node.errors.empty()) {
    out.strings_field("errors", node.errors);
  }
  out.key("children");
  out.begin_array();
  for (const auto& child : node.children) {
    write_cost_node(out, *child.node, child.via);
  }
  out.end_array();
  out.end_object();
}

void
write_record(JsonWriter& out, const dns::TxtRecord& record)
{
  out.begin_object();
  if (record.strings.size() == 1) {
    out.string_field("text", record.strings.front()); // one string (the usual record) is its own text: no copy
  } else {
    out.string_field("text", record.joined());
  }
  out.strings_field("strings", record.strings);
  out.end_object();
}

void
write_records(JsonWriter& out, const std::vector<dns::TxtRecord>& records)
{
  out.begin_array();
  for (const auto& record : records) {
    write_record(out, record);
  }
  out.end_array();
}

/// The records pointed to (a report's SPF records, which stay in the TXT answer it holds).
void
write_records(JsonWriter& out, const std::vector<const dns::TxtRecord*>& records)
{
  out.begin_array();
  for (const auto* record : records) {
    write_record(out, *record);
  }
  out.end_array();
}

void
write_spf(JsonWriter& out, const DomainReport& report, const JsonOptions& options)
{
  out.begin_object();
  out.key("records");
  write_records(out, report.spf_records);
  out.string_or_null_field("record", report.record);
  out.bool_field("candidate", report.record_is_candidate);
  out.key("lookup");
  out.begin_object();
  out.word_field("status", dns::to_string(report.txt_status));
  out.string_field("server", report.txt_server);
  out.end_object();
  if (report.cost) {
    out.key("dns_lookups");
    out.begin_object();
    out.number_field("count", report.cost->total_terms);
    out.number_field("limit", report.cost->limits.dns_terms);
    out.number_field("void", report.cost->void_lookups);
    out.number_field("void_limit", report.cost->limits.void_lookups);
    out.number_field("mx_host_lookups", report.cost->mx_host_lookups);
    out.end_object();
    out.key("cost");
    write_cost_node(out, report.cost->root, "");
  } else {
    out.null_field("dns_lookups");
    out.null_field("cost");
  }
  out.key("results");
  write_results(out, report.ips, options);
  out.end_object();
}

void
write_dkim(JsonWriter& out, const dkim::DkimReport& dkim)
{
  out.begin_object();
  out.string_field("name", dkim.name);
  out.word_field("status", dkim::to_string(dkim.status));
  out.string_or_null_field("found_at", dkim.found_at);
  out.key("records");
  write_records(out, dkim.records);
  out.key("key");
  if (dkim.key) {
    out.begin_object();
    out.word_field("type", dkim::to_string(dkim.key->type));
    out.number_field("bits", dkim.key->bits);
    out.string_field("spki_sha256", dkim.key->spki_sha256);
    out.end_object();
  } else {
    out.null();
  }
  out.bool_field("testing", dkim.testing);
  out.string_field("reference", dkim.reference_domain);
  out.word_field("comparison", dkim::to_string(dkim.comparison));
  out.end_object();
}

void
write_dmarc(JsonWriter& out, const dmarc::DmarcReport& dmarc)
{
  out.begin_object();
  out.word_field("status", dmarc::to_string(dmarc.status));
  out.word_field("source", dmarc::to_string(dmarc.source));
  out.string_or_null_field("record_name", dmarc.record_name);
  out.key("record");
  if (dmarc.records.empty()) {
    out.null();
  } else {
    out.string(dmarc.records.front());
  }
  out.key("policy");
  if (dmarc.policy) {
    out.string(dmarc::to_string(*dmarc.policy));
  } else {
    out.null();
  }
  out.word_field("adkim", dmarc::to_string(dmarc.adkim));
  out.word_field("aspf", dmarc::to_string(dmarc.aspf));
  out.string_field("organizational_domain", dmarc.organizational_domain);
  out.end_object();
}

void
write_verdict(JsonWriter& out, const Verdict& verdict)
{
  out.begin_object();
  out.word_field("overall", to_string(verdict.overall));
  out.string_field("summary", verdict.summary);
  out.key("streams");
  out.begin_array();
  // Where the last stream's "fix" member was written: streams that are not delivered share their fix (decide_verdict
  // copies it), a long sentence with quotes to escape, so the second copies the first's bytes.
  const SharedText* last_fix = nullptr;
  size_t fix_from = 0;
  size_t fix_to = 0;
  for (const auto& stream : verdict.streams) {
    out.begin_object();
    out.word_field("role", to_string(stream.role));
    out.word_field("outcome", to_string(stream.outcome));
    out.number_field("passing", stream.passing);
    out.number_field("total", stream.total);
    out.string_field("reason", stream.reason);
    if (last_fix && *last_fix == stream.fix) {
      out.repeat(fix_from, fix_to); // the same member after the same "reason" member, at the same depth
    } else {
      last_fix = &stream.fix;
      fix_from = out.mark();
      out.string_field("fix", stream.fix);
      fix_to = out.mark();
    }
    out.end_object();
  }
  out.end_array();
  out.end_object();
}

void
write_suggestion(JsonWriter& out, const std::string& domain, const suggest::Suggestion& suggestion)
{
  out.begin_object();
  out.word_field("status", suggest::to_string(suggestion.status));
  out.string_or_null_field("record", suggestion.record);
  out.key("zone_line");
  if (suggestion.record.empty()) {
    out.null();
  } else {
    out.string(suggest::zone_file_line(domain, suggestion.record));
  }
  out.key("changes");
  out.begin_array();
  for (const auto& change : suggestion.changes) {
    out.begin_object();
    out.string_field("code", change.code);
    out.string_field("message", change.message);
    out.end_object();
  }
  out.end_array();
  out.strings_field("warnings", suggestion.warnings);
  if (!suggestion.failure.empty()) {
    out.string_field("failure", suggestion.failure);
  }
  out.key("verification");
  out.begin_object();
  out.bool_field("ran", suggestion.verification.ran);
  out.bool_field("passed", suggestion.verification.passed);
  out.number_field("dns_lookups", suggestion.verification.total_dns_terms);
  out.number_field("void_lookups", suggestion.verification.total_void_lookups);
  out.end_object();
  out.end_object();
}

} // namespace

Json
domain_to_json(const DomainReport& report, const JsonOptions& options)
{
  Json out = object_with(12);
  out["domain"] = report.domain;
  if (report.unicode != report.domain) {
    out["domain_unicode"] = report.unicode;
  }
  if (!report.note.empty()) {
    out["note"] = text(report.note);
  }
  out["status"] = to_string(report.status);
  out["exit_code"] = exit_code(report.status);

  Json spf = object_with(8);
  spf["records"] = records_to_json(report.spf_records);
  spf["record"] = report.record.empty() ? Json(nullptr) : text(report.record);
  spf["candidate"] = report.record_is_candidate;
  spf["lookup"] = {{"status", dns::to_string(report.txt_status)}, {"server", text(report.txt_server)}};
  if (report.cost) {
    spf["dns_lookups"] = {{"count", report.cost->total_terms},
                          {"limit", report.cost->limits.dns_terms},
                          {"void", report.cost->void_lookups},
                          {"void_limit", report.cost->limits.void_lookups},
                          {"mx_host_lookups", report.cost->mx_host_lookups}};
    spf["cost"] = cost_node_to_json(report.cost->root, std::string());
  } else {
    spf["dns_lookups"] = nullptr;
    spf["cost"] = nullptr;
  }
  Json results = Json::array();
  for (const auto& ip : report.ips) {
    results.push_back(evaluation_to_json(ip, options));
  }
  spf["results"] = std::move(results);
  out["spf"] = std::move(spf);

  out["sending_host"] = {{"name", report.sending_host.name},
                         {"status", dns::to_string(report.sending_host.status)},
                         {"addresses", dns::to_strings(report.sending_host.addresses)}};

  Json dkim = object_with(9);
  dkim["name"] = text(report.dkim.name);
  dkim["status"] = dkim::to_string(report.dkim.status);
  dkim["found_at"] = report.dkim.found_at.empty() ? Json(nullptr) : text(report.dkim.found_at);
  dkim["records"] = records_to_json(report.dkim.records);
  if (report.dkim.key) {
    dkim["key"] = {{"type", dkim::to_string(report.dkim.key->type)},
                   {"bits", report.dkim.key->bits},
                   {"spki_sha256", report.dkim.key->spki_sha256}};
  } else {
    dkim["key"] = nullptr;
  }
  dkim["testing"] = report.dkim.testing;
  dkim["reference"] = report.dkim.reference_domain;
  dkim["comparison"] = dkim::to_string(report.dkim.comparison);
  out["dkim"] = report.checks.dkim ? std::move(dkim) : Json(nullptr);

  Json dmarc = object_with(8);
  dmarc["status"] = dmarc::to_string(report.dmarc.status);
  dmarc["source"] = dmarc::to_string(report.dmarc.source);
  dmarc["record_name"] = report.dmarc.record_name.empty() ? Json(nullptr) : text(report.dmarc.record_name);
  dmarc["record"] = report.dmarc.records.empty() ? Json(nullptr) : text(report.dmarc.records.front());
  dmarc["policy"] = report.dmarc.policy ? Json(dmarc::to_string(*report.dmarc.policy)) : Json(nullptr);
  dmarc["adkim"] = dmarc::to_string(report.dmarc.adkim);
  dmarc["aspf"] = dmarc::to_string(report.dmarc.aspf);
  dmarc["organizational_domain"] = report.dmarc.organizational_domain;
  out["dmarc"] = report.checks.dmarc ? std::move(dmarc) : Json(nullptr);

  Json findings = Json::array();
  for (const auto& finding : report.findings) {
    findings.push_back(finding_to_json(finding));
  }
  out["findings"] = std::move(findings);

  Json verdict = object_with(2);
  verdict["overall"] = to_string(report.verdict.overall);
  verdict["summary"] = text(report.verdict.summary);
  Json streams = Json::array();
  for (const auto& stream : report.verdict.streams) {
    streams.push_back({{"role", to_string(stream.role)},
                       {"outcome", to_string(stream.outcome)},
                       {"passing", stream.passing},
                       {"total", stream.total},
                       {"reason", text(stream.reason)},
                       {"fix", text(stream.fix)}});
  }
  verdict["streams"] = std::move(streams);
  out["verdict"] = std::move(verdict);
  if (report.suggestion) {
    const auto& suggestion = *report.suggestion;
    Json item;
    item["status"] = suggest::to_string(suggestion.status);
    item["record"] = suggestion.record.empty() ? Json(nullptr) : text(suggestion.record);
    item["zone_line"] = suggestion.record.empty() ? Json(nullptr)
                                                  : text(suggest::zone_file_line(report.domain, suggestion.record));
    Json changes = Json::array();
    for (const auto& change : suggestion.changes) {
      changes.push_back({{"code", change.code}, {"message", text(change.message)}});
    }
    item["changes"] = std::move(changes);
    Json warnings = Json::array();
    for (const auto& warning : suggestion.warnings) {
      warnings.push_back(text(warning));
    }
    item["warnings"] = std::move(warnings);
    if (!suggestion.failure.empty()) {
      item["failure"] = text(suggestion.failure);
    }
    item["verification"] = {{"ran", suggestion.verification.ran},
                            {"passed", suggestion.verification.passed},
                            {"dns_lookups", suggestion.verification.total_dns_terms},
                            {"void_lookups", suggestion.verification.total_void_lookups}};
    out["suggestion"] = std::move(item);
  }
  return out;
}

void
write_domain_json(std::string& out, const DomainReport& report, const JsonOptions& options)
{
  util::TextBuffer buffer(std::move(out));
  write_domain_json(buffer, report, options);
  out = std::move(buffer).take();
}

void
write_domain_json(util::TextBuffer& out, const DomainReport& report, const JsonOptions& options)
{
  // Field for field what domain_to_json builds, in the same order (test_json_writer compares the two).
  const bool compact = options.layout == JsonLayout::lines;
  if (!compact) {
    out.append("    ");
  }
  JsonWriter json(out, 4, compact);
  json.begin_object();
  json.string_field("domain", report.domain);
  if (report.unicode != report.domain) {
    json.string_field("domain_unicode", report.unicode);
  }
  if (!report.note.empty()) {
    json.string_field("note", report.note);
  }
  json.word_field("status", to_string(report.status));
  json.number_field("exit_code", exit_code(report.status));
  json.key("spf");
  write_spf(json, report, options);
  json.key("sending_host");
  json.begin_object();
  json.string_field("name", report.sending_host.name);
  json.word_field("status", dns::to_string(report.sending_host.status));
  json.key("addresses");
  json.begin_array();
  for (const auto& address : report.sending_host.addresses) {
    json.address(address);
  }
  json.end_array();
  json.end_object();
  json.key("dkim");
  if (report.checks.dkim) {
    write_dkim(json, report.dkim);
  } else {
    json.null();
  }
  json.key("dmarc");
  if (report.checks.dmarc) {
    write_dmarc(json, report.dmarc);
  } else {
    json.null();
  }
  json.key("findings");
  json.begin_array();
  for (const auto& finding : report.findings) {
    write_finding(json, finding);
  }
  json.end_array();
  json.key("verdict");
  write_verdict(json, report.verdict);
  if (report.suggestion) {
    json.key("suggestion");
    write_suggestion(json, report.domain, *report.suggestion);
  }
  json.end_object();
}

std::string
indented_json(const Json& json, unsigned indent)
{
  std::string out(indent, ' ');
  nlohmann::detail::serializer<Json> serializer(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
                                                Json::error_handler_t::replace);
  serializer.dump(json, true, false, 2, indent);
  return out;
}

std::string
entry_json(const Json& json, JsonLayout layout)
{
  if (layout == JsonLayout::indented) {
    return indented_json(json, 4);
  }
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json
invalid_input_to_json(const std::string& input, const std::string& error)
{
  Json out;
  out["input"] = input;
  out["status"] = "invalid";
  out["exit_code"] = 2;
  out["error"] = error;
  return out;
}

Json
profile_to_json(const SenderProfile& profile)
{
  // The same object a profile file holds (so it can be saved and edited), plus where it came from.
  Json out = Json::parse(profile_to_file_json(profile));
  out["source"] = profile.source;
  return out;
}

std::string
json_document_start(const SenderProfile& profile, JsonLayout layout)
{
  Json head;
  head["schema_version"] = k_json_schema_version;
  head["tool"] = {{"name", "sendcheck"}, {"version", k_version}};
  head["profile"] = profile_to_json(profile);
  if (layout == JsonLayout::lines) {
    std::string out = head.dump(-1, ' ', false, Json::error_handler_t::replace);
    out.pop_back(); // the closing '}'
    return out + ",\"domains\":[";
  }
  std::string out = head.dump(2, ' ', false, Json::error_handler_t::replace);
  out.pop_back(); // the closing '}' and the newline before it
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out + ",\n  \"domains\": [";
}

std::string
json_document_end(const RunSummary& summary, const std::vector<std::string>& notes, JsonLayout layout)
{
  Json tail;
  tail["domains"] = summary.domains;
  tail["good"] = summary.good;
  tail["problem"] = summary.problem;
  tail["dns_error"] = summary.dns_error;
  tail["not_found"] = summary.not_found;
  tail["invalid"] = summary.invalid;
  tail["exit_code"] = summary.exit_code;
  const std::string notes_text = Json(notes).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (layout == JsonLayout::lines) {
    return "\n],\"notes\":" + notes_text + ",\"summary\":" + tail.dump() + "}\n";
  }
  return "\n  ],\n  \"notes\": " + notes_text + ",\n  \"summary\": " + tail.dump() + "\n}\n";
}

} // namespace sendcheck::report
