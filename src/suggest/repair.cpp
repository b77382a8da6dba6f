#include <sendcheck/spf/record.hpp>
#include <sendcheck/suggest/suggest.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <array>
#include <optional>

// Typographic repairs of a record copied out of a document (curly quotes, dashes, invisible spaces, `V=SPF1`).

namespace sendcheck::suggest {

namespace {

/// What a code point found in a damaged record is.
enum class Damage : uint8_t { none, quote, dash, space, invisible, control_space };

/// Decodes one UTF-8 code point at `text[i]`; returns it and its length (1 and the byte for invalid UTF-8).
std::pair<char32_t, size_t>
decode(std::string_view text, size_t i)
{
  const auto byte = static_cast<unsigned char>(text[i]);
  size_t length = 1;
  char32_t code = byte;
  if (byte >= 0xC2 && byte <= 0xDF) {
    length = 2;
    code = byte & 0x1F;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    length = 3;
    code = byte & 0x0F;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    length = 4;
    code = byte & 0x07;
  } else {
    return {byte, 1};
  }
  if (i + length > text.size()) {
    return {byte, 1};
  }
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) {
      return {byte, 1};
    }
    code = (code << 6) | (next & 0x3F);
  }
  return {code, length};
}

/// The name of a damaged character, for the change note.
std::string
character_name(char32_t code)
{
  switch (code) {
  case U'\u2010': return "a Unicode hyphen";
  case U'\u2011': return "a non-breaking hyphen";
  case U'\u2012': return "a figure dash";
  case U'\u2013': return "an en dash (\u2013)";
  case U'\u2014': return "an em dash (\u2014)";
  case U'\u2015': return "a horizontal bar";
  case U'\u2212': return "a minus sign (\u2212)";
  case U'\u00A0': return "a non-breaking space";
  case U'\u202F': return "a narrow non-breaking space";
  case U'\u200B': return "a zero-width space";
  case U'\u200C': return "a zero-width non-joiner";
  case U'\u200D': return "a zero-width joiner";
  case U'\u2060': return "a word joiner";
  case U'\uFEFF': return "a byte order mark";
  case U'\u00AD': return "a soft hyphen";
  default: return fmt::format("the character U+{:04X}", static_cast<uint32_t>(code));
  }
}

Damage
classify(char32_t code)
{
  switch (code) {
  case U'\u201C': case U'\u201D': case U'\u201E': case U'\u201F': // “ ” „ ‟
  case U'\u2018': case U'\u2019': case U'\u201A': case U'\u201B': // ‘ ’ ‚ ‛
  case U'\u00AB': case U'\u00BB': case U'\u2032': case U'\u2033': // « » ′ ″
  case U'\u2039': case U'\u203A':                                 // ‹ ›
    return Damage::quote;
  case U'\u2010': case U'\u2011': case U'\u2012': case U'\u2013': // ‐ ‑ ‒ –
  case U'\u2014': case U'\u2015': case U'\u2212': case U'\uFE58': // — ― − ﹘
  case U'\uFE63': case U'\uFF0D':                                 // ﹣ －
    return Damage::dash;
  case U'\u00A0': case U'\u1680': case U'\u202F': case U'\u205F': case U'\u3000':
    return Damage::space;
  case U'\u200B': case U'\u200C': case U'\u200D': case U'\u2060': case U'\uFEFF': case U'\u00AD':
    return Damage::invisible;
  case U'\t': case U'\n': case U'\r': case U'\v': case U'\f':
    return Damage::control_space;
  default:
    if (code >= U'\u2000' && code <= U'\u200A') {
      return Damage::space;
    }
    return Damage::none;
  }
}

bool
is_straight_quote(char c)
{
  return c == '"' || c == '\'' || c == '`';
}

/// The first `v=spf1` of `tokens` written in another case or spread over several tokens (`v = spf1`): how many
/// tokens make it up, or nullopt when the record does not start with a damaged version tag.
std::optional<size_t>
damaged_version_tokens(const std::vector<std::string>& tokens)
{
  std::string joined;
  for (size_t count = 1; count <= 3 && count <= tokens.size(); ++count) {
    joined += tokens[count - 1];
    if (util::iequals(joined, "v=spf1")) {
      if (count == 1 && joined == "v=spf1") {
        return std::nullopt;
      }
      return count;
    }
    if (joined.size() >= 6) {
      break;
    }
  }
  return std::nullopt;
}

} // namespace

RepairedText
repair_record_text(std::string_view text)
{
  RepairedText out;
  out.text = std::string(text);
  out.is_spf = spf::is_spf_record(text);

  // Pass 1: code points. Curly quotes go, dashes become '-', unusual spaces become ' ', invisible ones go.
  std::string mapped;
  std::array<char32_t, 6> first_seen{}; // the first damaged character of each kind
  std::array<bool, 6> seen{};
  for (size_t i = 0; i < text.size();) {
    const auto [code, length] = decode(text, i);
    const auto damage = classify(code);
    const auto kind = static_cast<size_t>(damage);
    if (damage != Damage::none && !seen[kind]) {
      seen[kind] = true;
      first_seen[kind] = code;
    }
    switch (damage) {
    case Damage::quote:
    case Damage::invisible:
      break;
    case Damage::dash:
      mapped += '-';
      break;
    case Damage::space:
    case Damage::control_space:
      mapped += ' ';
      break;
    case Damage::none:
      mapped.append(text.substr(i, length));
      break;
    }
    i += length;
  }

  // Pass 2: tokens. Straight quotes at the ends of a token were typed around the value (or around its strings).
  std::vector<std::string> tokens;
  bool straight_quotes = false;
  for (const auto piece : util::split(mapped, ' ')) {
    std::string_view token = piece;
    while (!token.empty() && is_straight_quote(token.front())) {
      token.remove_prefix(1);
      straight_quotes = true;
    }
    while (!token.empty() && is_straight_quote(token.back())) {
      token.remove_suffix(1);
      straight_quotes = true;
    }
    if (!token.empty()) {
      tokens.emplace_back(token);
    }
  }

  // Pass 3: the version tag.
  std::optional<std::string> version_as_written;
  if (const auto count = damaged_version_tokens(tokens)) {
    std::string written;
    for (size_t k = 0; k < *count; ++k) {
      written += (k == 0 ? "" : " ") + tokens[k];
    }
    version_as_written = written;
    tokens.erase(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(*count));
    tokens.insert(tokens.begin(), "v=spf1");
  }

  std::string repaired;
  for (const auto& token : tokens) {
    repaired += (repaired.empty() ? "" : " ") + token;
  }
  if (!spf::is_spf_record(repaired)) {
    return out; // not SPF even after repair: someone else's TXT record, left alone
  }
  out.is_spf = true;
  if (repaired == text) {
    return out;
  }
  out.text = repaired;

  if (seen[static_cast<size_t>(Damage::quote)] || straight_quotes) {
    out.changes.push_back(
      {"suggest.quotes", "Removed the quote characters typed into the value; DNS panels add the quotes themselves, "
                         "and receivers read typed quotes as part of the record."});
  }
  if (seen[static_cast<size_t>(Damage::dash)]) {
    out.changes.push_back(
      {"suggest.dash", fmt::format("Replaced {} with '-': a dash copied from a document is not the ASCII minus SPF "
                                   "needs (as in '-all').",
                                   character_name(first_seen[static_cast<size_t>(Damage::dash)]))});
  }
  if (seen[static_cast<size_t>(Damage::space)] || seen[static_cast<size_t>(Damage::invisible)]) {
    std::string what;
    if (seen[static_cast<size_t>(Damage::space)]) {
      what = fmt::format("Replaced {} with a plain space", character_name(first_seen[static_cast<size_t>(Damage::space)]));
    }
    if (seen[static_cast<size_t>(Damage::invisible)]) {
      what += fmt::format("{} {}", what.empty() ? "Removed" : " and removed",
                          character_name(first_seen[static_cast<size_t>(Damage::invisible)]));
    }
    out.changes.push_back(
      {"suggest.invisible_space",
       what + ": characters copied from a document that receivers do not read as the separating space."});
  }
  const bool ascii_whitespace = seen[static_cast<size_t>(Damage::control_space)] ||
                                text.find("  ") != std::string_view::npos ||
                                (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (ascii_whitespace) {
    out.changes.push_back({"suggest.whitespace",
                           "Normalized the spacing: tabs, line breaks, repeated spaces and spaces at the ends "
                           "removed; terms are separated by one space."});
  }
  if (version_as_written) {
    out.changes.push_back({"suggest.version", fmt::format("Rewrote '{}' as 'v=spf1' (the record must start with "
                                                          "exactly that).",
                                                          util::escape_for_display(*version_as_written))});
  }
  if (out.changes.empty()) {
    // Something was repaired that none of the notes above names (e.g. a straight quote run); say so generically.
    out.changes.push_back({"suggest.whitespace", "Normalized the record's spacing and quoting."});
  }
  return out;
}

} // namespace sendcheck::suggest
