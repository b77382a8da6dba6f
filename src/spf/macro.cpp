#include <sendcheck/spf/macro.hpp>

#include <sendcheck/util/strings.hpp>

#include "ask.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sendcheck::spf {

namespace {

constexpr unsigned k_max_digits = 128; // more parts than any domain name can have
constexpr size_t k_max_domain_length = 253;

bool
is_macro_letter(char letter, MacroUse use)
{
  switch (letter) {
  case 's':
  case 'l':
  case 'o':
  case 'd':
  case 'i':
  case 'p':
  case 'h':
  case 'v':
    return true;
  case 'c':
  case 'r':
  case 't':
    return use == MacroUse::explanation;
  default:
    return false;
  }
}

bool
is_delimiter(char c)
{
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

bool
is_unreserved(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
         || c == '_' || c == '~';
}

char
lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

void
append_literal(std::vector<MacroToken>& tokens, std::string_view text, size_t offset)
{
  if (!tokens.empty() && tokens.back().kind == MacroToken::Kind::literal) {
    tokens.back().literal += text;
    return;
  }
  MacroToken token;
  token.kind = MacroToken::Kind::literal;
  token.literal = std::string(text);
  token.offset = offset;
  tokens.push_back(std::move(token));
}

/// The `i` macro: dotted quad, or 32 dot-separated nibbles for IPv6 (upper-case hex, as the openspf suite expects).
std::string
ip_for_i_macro(const dns::IpAddress& ip)
{
  if (ip.is_v4()) {
    return ip.to_string();
  }
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(63);
  for (size_t i = 0; i < 16; ++i) {
    const uint8_t byte = ip.bytes()[i];
    if (!out.empty()) {
      out += '.';
    }
    out += k_hex[byte >> 4];
    out += '.';
    out += k_hex[byte & 0x0f];
  }
  return out;
}

std::string
macro_value(char letter, const MacroContext& context)
{
  switch (letter) {
  case 's':
    return context.sender_local + "@" + context.sender_domain;
  case 'l':
    return context.sender_local;
  case 'o':
    return context.sender_domain;
  case 'd':
    return context.domain;
  case 'i':
    return ip_for_i_macro(context.ip);
  case 'p':
    return context.validated_name.value_or("unknown");
  case 'v':
    return context.ip.is_v4() ? "in-addr" : "ip6";
  case 'h':
    return context.helo;
  case 'c':
    return context.ip.to_string();
  case 'r':
    return context.receiver.empty() ? std::string("unknown") : context.receiver;
  case 't':
    return fmt::format("{}", context.timestamp);
  default:
    return {};
  }
}

std::string
transform(const std::string& value, const MacroToken& token)
{
  const std::string_view delimiters = token.delimiters.empty() ? std::string_view(".") : token.delimiters;
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
      parts.emplace_back(std::string_view(value).substr(start, i - start));
      start = i + 1;
    }
  }
  if (token.reverse) {
    std::reverse(parts.begin(), parts.end());
  }
  size_t first = 0;
  if (token.digits != 0 && token.digits < parts.size()) {
    first = parts.size() - token.digits;
  }
  std::string out;
  for (size_t i = first; i < parts.size(); ++i) {
    if (i != first) {
      out += '.';
    }
    out += parts[i];
  }
  if (token.url_escape) {
    std::string escaped;
    for (const char c : out) {
      if (is_unreserved(c)) {
        escaped += c;
      } else {
        escaped += fmt::format("%{:02X}", static_cast<unsigned char>(c));
      }
    }
    return escaped;
  }
  return out;
}

bool
ends_with_domain(std::string_view name, std::string_view domain)
{
  if (name.size() < domain.size()) {
    return false;
  }
  if (!util::iequals(name.substr(name.size() - domain.size()), domain)) {
    return false;
  }
  return name.size() == domain.size() || name[name.size() - domain.size() - 1] == '.';
}

/// Makes the expansion of a domain-spec a target name: drops one trailing dot and truncates (RFC 7208 §7.3).
void
finish_domain(std::string& name)
{
  if (!name.empty() && name.back() == '.') {
    name.pop_back();
  }
  if (name.size() > k_max_domain_length) {
    name = truncate_domain(std::move(name));
  }
}

} // namespace

bool
is_queryable(std::string_view name)
{
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return false;
  }
  size_t label_start = 0;
  // Ends the label before the dot at `dot`: false when it is empty or longer than 63 octets.
  const auto end_label = [&label_start](size_t dot) {
    const bool fits = dot != label_start && dot - label_start <= 63;
    label_start = dot + 1;
    return fits;
  };
  size_t at = 0;
#if defined(__SSE2__)
  // A name of 16 bytes or more, 16 at a time (every MX exchange and include target comes here): a name has few dots,
  // so the labels are measured from the dots' positions in each block, not byte by byte. The last block is loaded to
  // end where the name ends, overlapping the one before it: its first `skip` bytes were checked already.
  for (; name.size() >= 16 && at < name.size(); at += 16) {
    const size_t load_at = std::min(at, name.size() - 16);
    const auto skip = static_cast<unsigned>(at - load_at);
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(name.data() + load_at));
    // A control byte, DEL, non-ASCII (negative as a signed byte, so below 0x20 too) or a backslash.
    const __m128i refused = _mm_or_si128(_mm_cmplt_epi8(block, _mm_set1_epi8(0x20)),
                                         _mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8(0x7f)),
                                                      _mm_cmpeq_epi8(block, _mm_set1_epi8('\\'))));
    if ((static_cast<unsigned>(_mm_movemask_epi8(refused)) >> skip) != 0) {
      return false;
    }
    const auto dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8('.'))));
    for (unsigned left = dots >> skip; left != 0; left &= left - 1) {
      if (!end_label(at + static_cast<size_t>(std::countr_zero(left)))) {
        return false;
      }
    }
  }
#endif
  // A shorter name byte by byte (or any name, without SSE2). What each byte is: part of a label, a dot, or a byte no
  // query name may hold (a control byte, DEL, non-ASCII, a backslash).
  enum : uint8_t { label_byte, dot, refused };
  static constexpr std::array<uint8_t, 256> k_kind = [] {
    std::array<uint8_t, 256> kind{};
    for (size_t byte = 0; byte < kind.size(); ++byte) {
      kind[byte] = byte < 0x20 || byte >= 0x7f || byte == '\\' ? refused : byte == '.' ? dot : label_byte;
    }
    return kind;
  }();
  for (; at < name.size(); ++at) {
    const uint8_t kind = k_kind[static_cast<unsigned char>(name[at])];
    if (kind == refused || (kind == dot && !end_label(at))) {
      return false;
    }
  }
  const size_t last = name.size() - label_start;
  return last != 0 && last <= 63;
}

bool
MacroString::has_macros() const
{
  return std::any_of(tokens.begin(), tokens.end(),
                     [](const MacroToken& token) { return token.kind == MacroToken::Kind::macro; });
}

bool
MacroString::uses_ptr() const
{
  return std::any_of(tokens.begin(), tokens.end(), [](const MacroToken& token) {
    return token.kind == MacroToken::Kind::macro && token.letter == 'p';
  });
}

util::Result<MacroString, MacroError>
parse_macro_string(std::string_view text, MacroUse use)
{
  MacroString result;
  result.text = std::string(text);
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c != '%') {
      // A run of literal bytes up to the next '%', appended at once.
      size_t end = i;
      for (; end < n && text[end] != '%'; ++end) {
        const auto byte = static_cast<unsigned char>(text[end]);
        const bool allowed =
          use == MacroUse::explanation ? (byte >= 0x20 && byte <= 0x7e) : (byte >= 0x21 && byte <= 0x7e);
        if (!allowed) {
          return util::unexpected(MacroError{
            end, fmt::format("the byte {} is not allowed here (only visible ASCII characters are)",
                             util::escape_for_display(text.substr(end, 1)))});
        }
      }
      append_literal(result.tokens, text.substr(i, end - i), i);
      i = end;
      continue;
    }
    if (i + 1 >= n) {
      return util::unexpected(MacroError{i, "a '%' at the end; write '%%' for a literal percent sign"});
    }
    const char next = text[i + 1];
    if (next == '%') {
      append_literal(result.tokens, "%", i);
      i += 2;
      continue;
    }
    if (next == '_') {
      append_literal(result.tokens, " ", i);
      i += 2;
      continue;
    }
    if (next == '-') {
      append_literal(result.tokens, "%20", i);
      i += 2;
      continue;
    }
    if (next != '{') {
      return util::unexpected(MacroError{
        i, fmt::format("'%{}' is not valid: a '%' must be followed by '{{', '%', '_' or '-' (write '%%' for a "
                       "literal percent sign)",
                       util::escape_for_display(text.substr(i + 1, 1)))});
    }
    const size_t start = i;
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return util::unexpected(MacroError{i, "a macro '%{' is not closed with '}'"});
    }
    const std::string_view body = text.substr(i + 2, close - i - 2);
    if (body.empty()) {
      return util::unexpected(MacroError{i, "an empty macro '%{}'"});
    }
    MacroToken token;
    token.kind = MacroToken::Kind::macro;
    token.offset = start;
    const char letter = body[0];
    token.letter = lower(letter);
    token.url_escape = letter >= 'A' && letter <= 'Z';
    if (!is_macro_letter(token.letter, MacroUse::explanation)) {
      return util::unexpected(MacroError{
        i, fmt::format("'%{{{}}}' uses '{}', which is not a macro letter (s l o d i p h v, and c r t in exp text)",
                       util::escape_for_display(body), util::escape_for_display(body.substr(0, 1)))});
    }
    if (!is_macro_letter(token.letter, use)) {
      return util::unexpected(MacroError{
        i, fmt::format("the macro letter '{}' (in '%{{{}}}') is only allowed in explanation text", letter,
                       util::escape_for_display(body))});
    }
    size_t j = 1;
    bool has_digits = false;
    unsigned digits = 0;
    while (j < body.size() && body[j] >= '0' && body[j] <= '9') {
      has_digits = true;
      digits = std::min(digits * 10 + static_cast<unsigned>(body[j] - '0'), 100000U);
      ++j;
    }
    if (has_digits && digits == 0) {
      return util::unexpected(
        MacroError{i, fmt::format("'%{{{}}}': the number of parts to keep must not be zero", body)});
    }
    token.digits = std::min(digits, k_max_digits);
    if (j < body.size() && (body[j] == 'r' || body[j] == 'R')) {
      token.reverse = true;
      ++j;
    }
    while (j < body.size() && is_delimiter(body[j])) {
      token.delimiters += body[j];
      ++j;
    }
    if (j != body.size()) {
      return util::unexpected(MacroError{
        i, fmt::format("'%{{{}}}' is not a valid macro (expected a letter, digits, 'r', then delimiters . - + , / _ =)",
                       util::escape_for_display(body))});
    }
    result.tokens.push_back(std::move(token));
    i = close + 1;
  }
  if (use == MacroUse::domain_spec && !result.has_macros()) {
    // What `expand` gives, without building a context: the literals of a string without macros are one token.
    std::string name = result.tokens.empty() ? std::string() : result.tokens.front().literal;
    finish_domain(name);
    const bool queryable = is_queryable(name);
    result.fixed_target = FixedTarget{std::move(name), queryable};
  }
  return result;
}

std::string
truncate_domain(std::string name)
{
  while (name.size() > k_max_domain_length) {
    const size_t dot = name.find('.');
    if (dot == std::string::npos) {
      break;
    }
    name.erase(0, dot + 1);
  }
  return name;
}

std::string
fixed_expansion(const MacroString& spec)
{
  return spec.fixed_target ? spec.fixed_target->name : expand(spec, MacroContext{}, MacroUse::domain_spec);
}

std::string
expand(const MacroString& macro, const MacroContext& context, MacroUse use)
{
  std::string out;
  for (const auto& token : macro.tokens) {
    if (token.kind == MacroToken::Kind::literal) {
      out += token.literal;
    } else {
      out += transform(macro_value(token.letter, context), token);
    }
  }
  if (use == MacroUse::domain_spec) {
    finish_domain(out);
  }
  return out;
}

util::Task<std::string>
validated_ptr_name(dns::Resolver& resolver, dns::IpAddress ip, std::string domain, unsigned max_names)
{
  const auto ptr = co_await detail::ask(resolver, ip.reverse_name(), dns::RRType::ptr);
  if (ptr->status != dns::Status::ok) {
    co_return std::string("unknown");
  }
  const auto type = ip.is_v4() ? dns::RRType::a : dns::RRType::aaaa;
  std::vector<std::string> validated;
  size_t tried = 0;
  for (const auto& name : ptr->names) {
    if (tried++ >= max_names) {
      break;
    }
    if (name.empty()) {
      continue;
    }
    const auto answer = co_await detail::ask(resolver, name, type);
    if (answer->status != dns::Status::ok) {
      continue;
    }
    if (std::find(answer->addresses.begin(), answer->addresses.end(), ip) != answer->addresses.end()) {
      validated.push_back(name);
    }
  }
  if (validated.empty()) {
    co_return std::string("unknown");
  }
  for (const auto& name : validated) {
    if (util::iequals(name, domain)) {
      co_return name;
    }
  }
  for (const auto& name : validated) {
    if (ends_with_domain(name, domain)) {
      co_return name;
    }
  }
  co_return validated.front();
}

} // namespace sendcheck::spf
