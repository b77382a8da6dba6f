#include <sendcheck/spf/record.hpp>

#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace sendcheck::spf {

namespace {

using util::is_alnum;
using util::is_alpha;
using util::is_digit;

constexpr std::string_view k_version = "v=spf1";

char
lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool
all_digits(std::string_view text)
{
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

/// Builds a ParseError for `term` (at `term_offset` in the record), pointing `at` bytes into the term.
ParseError
term_error(std::string_view term, size_t term_offset, size_t at, std::string message)
{
  return ParseError{term_offset + at, util::escape_for_display(term), std::move(message)};
}

/// What parsing one term gives: nothing when it parsed (into the Term the caller handed in), else the error. The
/// term is parsed in place in the record's vector, not built and then moved there.
using TermStatus = std::optional<ParseError>;

struct MechanismName
{
  std::string_view name;
  MechanismKind kind;
};

constexpr std::array<MechanismName, 8> k_mechanisms{{
  {"all", MechanismKind::all},
  {"include", MechanismKind::include},
  {"a", MechanismKind::a},
  {"mx", MechanismKind::mx},
  {"ptr", MechanismKind::ptr},
  {"ip4", MechanismKind::ip4},
  {"ip6", MechanismKind::ip6},
  {"exists", MechanismKind::exists},
}};

/// The mechanism named `name` (any case), or nullptr. Every term of every record comes here: the length and the first
/// letter rule out nearly every name before a case-insensitive comparison (only ip4 and ip6 share both).
const MechanismName*
find_mechanism(std::string_view name)
{
  if (name.empty()) {
    return nullptr;
  }
  const char first = lower(name[0]);
  for (const auto& mechanism : k_mechanisms) {
    if (mechanism.name.size() == name.size() && mechanism.name[0] == first
        && std::equal(name.begin() + 1, name.end(), mechanism.name.begin() + 1,
                      [](char a, char b) { return lower(a) == b; })) {
      return &mechanism;
    }
  }
  return nullptr;
}

/// Parses a dotted quad the way inet_pton does (four decimal octets of 0-255, no leading zeros) without the
/// NUL-terminated copy that IpAddress::parse makes; nullopt for anything else, which then takes the general path.
/// Most terms of most records are `ip4:` ones.
std::optional<dns::IpAddress>
parse_dotted_quad(std::string_view text)
{
  std::array<uint8_t, 4> octets{};
  size_t i = 0;
  for (size_t octet = 0; octet < octets.size(); ++octet) {
    if (octet > 0) {
      if (i >= text.size() || text[i] != '.') {
        return std::nullopt;
      }
      ++i;
    }
    const size_t start = i;
    unsigned value = 0;
    while (i < text.size() && is_digit(text[i]) && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    if (i == start || value > 255 || (i - start > 1 && text[start] == '0')) {
      return std::nullopt;
    }
    octets[octet] = static_cast<uint8_t>(value);
  }
  if (i != text.size()) {
    return std::nullopt;
  }
  return dns::IpAddress::v4(octets);
}

/// What a byte of a record is to the term scanner: part of a term, the space between terms, a separator of a term
/// ('=', ':' or '/'), or a byte no record may hold (a control byte, DEL, non-ASCII).
enum class TermByte : uint8_t { plain, space, separator, refused };

constexpr std::array<TermByte, 256> k_term_bytes = [] {
  std::array<TermByte, 256> kinds{};
  for (size_t byte = 0; byte < kinds.size(); ++byte) {
    kinds[byte] = byte == ' '                                 ? TermByte::space
                  : byte < 0x21 || byte > 0x7e                ? TermByte::refused
                  : byte == '=' || byte == ':' || byte == '/' ? TermByte::separator
                                                              : TermByte::plain;
  }
  return kinds;
}();

/// Checks the end of a domain-spec (RFC 7208 §7.1: `domain-end = ( "." toplabel [ "." ] ) / macro-expand`); returns
/// an error message or empty.
std::string
check_domain_end(const MacroString& spec, std::string_view mechanism)
{
  if (!spec.tokens.empty() && spec.tokens.back().kind == MacroToken::Kind::macro) {
    return {};
  }
  std::string_view text = spec.text;
  if (text.ends_with("%%") || text.ends_with("%_") || text.ends_with("%-")) {
    return {}; // also a macro-expand in the grammar
  }
  if (!text.empty() && text.back() == '.') {
    text.remove_suffix(1);
  }
  const size_t dot = text.rfind('.');
  if (dot == std::string_view::npos) {
    return fmt::format("'{}' is not a full domain name: it needs at least two labels (like example.com)",
                       util::escape_for_display(spec.text));
  }
  const std::string_view top = text.substr(dot + 1);
  const auto shown = [&spec] { return util::escape_for_display(spec.text); }; // only for errors
  if (top.empty()) {
    return fmt::format("'{}' is not a valid domain name: it ends with an empty label", shown());
  }
  // An address written where a host name belongs is a common mistake; say so.
  if (all_digits(top)) {
    const auto looks_like_ip = dns::IpAddress::parse(text);
    if (looks_like_ip && looks_like_ip->is_v4()) {
      return fmt::format("'{}' is an IP address, but '{}' expects a host name; write ip4:{} instead", shown(),
                         mechanism, util::escape_for_display(text));
    }
    return fmt::format("'{}' is not a valid domain name: the last label '{}' is all digits", shown(),
                       util::escape_for_display(top));
  }
  const bool chars_ok = std::all_of(top.begin(), top.end(), [](char c) { return is_alnum(c) || c == '-'; });
  if (!chars_ok) {
    return fmt::format("'{}' is not a valid domain name: the last label '{}' may only hold letters, digits and "
                       "'-'",
                       shown(), util::escape_for_display(top));
  }
  if (top.front() == '-' || top.back() == '-') {
    return fmt::format("'{}' is not a valid domain name: the last label '{}' must not begin or end with '-'",
                       shown(), util::escape_for_display(top));
  }
  return {};
}

/// Parses a prefix length's digits (no leading zero, at most `max`); nullopt when invalid.
std::optional<unsigned>
parse_prefix(std::string_view digits, unsigned max)
{
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (const char c : digits) {
    if (!is_digit(c)) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max) {
    return std::nullopt;
  }
  return value;
}

/// Parses a domain-spec written in `term` at `at`, for the mechanism or modifier `what`, into `result.domain_spec`.
TermStatus
parse_domain_spec(std::string_view term, size_t term_offset, size_t at, std::string_view spec, std::string_view what,
                  Term& result)
{
  if (spec.empty()) {
    return term_error(term, term_offset, at,
                      fmt::format("'{}': {} needs a domain name after it", util::escape_for_display(term), what));
  }
  auto macro = parse_macro_string(spec, MacroUse::domain_spec);
  if (!macro) {
    return term_error(term, term_offset, at + macro.error().offset,
                      fmt::format("'{}': {}", util::escape_for_display(term), macro.error().message));
  }
  if (auto problem = check_domain_end(*macro, what); !problem.empty()) {
    return term_error(term, term_offset, at,
                      fmt::format("'{}': {}", util::escape_for_display(term), problem));
  }
  result.domain_spec = std::move(*macro);
  return std::nullopt;
}

/// Parses the modifier `term` (at `offset` in the record, its '=' at `equals`) into `result`.
TermStatus
parse_modifier(std::string_view term, size_t offset, size_t equals, Term& result)
{
  const std::string_view name = term.substr(0, equals);
  const std::string_view value = term.substr(equals + 1);
  const auto shown = [term] { return util::escape_for_display(term); }; // only for errors: most terms have none
  if (name.empty()) {
    return term_error(term, offset, 0, fmt::format("'{}': a modifier needs a name before '='", shown()));
  }
  if (!is_alpha(name[0])) {
    return term_error(term, offset, 0,
                      fmt::format("'{}': a modifier name must start with a letter", shown()));
  }
  for (size_t i = 1; i < name.size(); ++i) {
    const char c = name[i];
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') {
      return term_error(term, offset, i,
                        fmt::format("'{}': a modifier name may only hold letters, digits, '-', '_' and '.'",
                                    shown()));
    }
  }
  result.kind = TermKind::modifier;
  result.modifier_name = std::string(name);
  const bool redirect = util::iequals(name, "redirect");
  if (redirect || util::iequals(name, "exp")) {
    result.modifier = redirect ? ModifierKind::redirect : ModifierKind::exp;
    return parse_domain_spec(term, offset, equals + 1, value, redirect ? "redirect=" : "exp=", result);
  }
  result.modifier = ModifierKind::unknown;
  auto macro = parse_macro_string(value, MacroUse::explanation);
  if (!macro) {
    return term_error(term, offset, equals + 1 + macro.error().offset,
                      fmt::format("'{}': {}", shown(), macro.error().message));
  }
  result.domain_spec = std::move(*macro);
  return std::nullopt;
}

/// Parses the mechanism `term` (at `offset` in the record; its first ':' or '/' at `name_end`, or its end) into
/// `result`.
TermStatus
parse_mechanism(std::string_view term, size_t offset, size_t name_end, Term& result)
{
  const auto shown = [term] { return util::escape_for_display(term); }; // only for errors: most terms have none
  result.kind = TermKind::mechanism;

  size_t at = 0;
  switch (term[0]) {
  case '+':
    result.qualifier = Qualifier::pass;
    break;
  case '-':
    result.qualifier = Qualifier::fail;
    break;
  case '~':
    result.qualifier = Qualifier::softfail;
    break;
  case '?':
    result.qualifier = Qualifier::neutral;
    break;
  default:
    break;
  }
  if (term[0] == '+' || term[0] == '-' || term[0] == '~' || term[0] == '?') {
    result.qualifier_source = QualifierSource::written;
    at = 1;
  }
  const std::string_view name = term.substr(at, name_end - at);
  const MechanismName* const known = find_mechanism(name);
  if (known == nullptr) {
    if (util::iequals(name, "redirect") || util::iequals(name, "exp")) {
      return term_error(term, offset, at,
                        fmt::format("'{}': {} is a modifier and is written with '=': {}=domain", shown(),
                                    util::to_lower(name), util::to_lower(name)));
    }
    if (name.empty()) {
      return term_error(term, offset, at, fmt::format("'{}': a qualifier must be followed by a mechanism", shown()));
    }
    return term_error(term, offset, at,
                      fmt::format("unknown mechanism '{}'", util::escape_for_display(name)));
  }
  result.mechanism = known->kind;
  const std::string_view mech = known->name;
  std::string_view rest = term.substr(name_end);
  const size_t rest_at = name_end;

  switch (result.mechanism) {
  case MechanismKind::all:
    if (!rest.empty()) {
      return term_error(term, offset, rest_at, fmt::format("'{}': 'all' takes no argument", shown()));
    }
    return std::nullopt;

  case MechanismKind::include:
  case MechanismKind::exists: {
    if (rest.empty() || rest[0] != ':') {
      return term_error(term, offset, rest_at,
                        fmt::format("'{}': '{}' needs a domain: {}:example.com", shown(), mech, mech));
    }
    const std::string_view spec = rest.substr(1);
    const size_t slash = spec.rfind('/');
    if (slash != std::string_view::npos && all_digits(spec.substr(slash + 1))) {
      return term_error(term, offset, rest_at + 1 + slash,
                        fmt::format("'{}': '{}' takes no prefix length", shown(), mech));
    }
    return parse_domain_spec(term, offset, rest_at + 1, spec, mech, result);
  }

  case MechanismKind::ptr: {
    if (rest.empty()) {
      return std::nullopt;
    }
    if (rest[0] != ':') {
      return term_error(term, offset, rest_at, fmt::format("'{}': 'ptr' takes no prefix length", shown()));
    }
    return parse_domain_spec(term, offset, rest_at + 1, rest.substr(1), mech, result);
  }

  case MechanismKind::a:
  case MechanismKind::mx: {
    // dual-cidr-length at the end: [ "/" ip4-cidr ] [ "//" ip6-cidr ]; '/' elsewhere belongs to the domain-spec.
    std::string_view cidr6_digits;
    std::string_view cidr4_digits;
    bool has6 = false;
    bool has4 = false;
    size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos && all_digits(rest.substr(slash + 1))) {
      if (slash > 0 && rest[slash - 1] == '/') {
        has6 = true;
        cidr6_digits = rest.substr(slash + 1);
        rest = rest.substr(0, slash - 1);
        slash = rest.rfind('/');
        if (slash != std::string_view::npos && all_digits(rest.substr(slash + 1))
            && (slash == 0 || rest[slash - 1] != '/')) {
          has4 = true;
          cidr4_digits = rest.substr(slash + 1);
          rest = rest.substr(0, slash);
        }
      } else {
        has4 = true;
        cidr4_digits = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
      }
    }
    if (has4) {
      const auto value = parse_prefix(cidr4_digits, 32);
      if (!value) {
        return term_error(term, offset, rest_at + rest.size(),
                          fmt::format("'{}': IPv4 prefix length must be 0-32 (written without leading zeros)",
                                      shown()));
      }
      result.cidr4 = *value;
    }
    if (has6) {
      const auto value = parse_prefix(cidr6_digits, 128);
      if (!value) {
        return term_error(term, offset, term.size() - cidr6_digits.size() - 2,
                          fmt::format("'{}': IPv6 prefix length must be 0-128 (written without leading zeros)",
                                      shown()));
      }
      result.cidr6 = *value;
    }
    if (rest.empty()) {
      return std::nullopt;
    }
    if (rest[0] != ':') {
      return term_error(term, offset, rest_at,
                        fmt::format("'{}': expected ':domain', '/prefix' or '//prefix' after '{}'", shown(), mech));
    }
    return parse_domain_spec(term, offset, rest_at + 1, rest.substr(1), mech, result);
  }

  case MechanismKind::ip4:
  case MechanismKind::ip6: {
    const bool v4 = result.mechanism == MechanismKind::ip4;
    const auto family = v4 ? "IPv4" : "IPv6";
    if (rest.empty() || rest[0] != ':' || rest.size() == 1) {
      return term_error(term, offset, rest_at,
                        fmt::format("'{}': '{}' needs an address: {}", shown(), mech,
                                    v4 ? "ip4:192.0.2.1 or ip4:192.0.2.0/24" : "ip6:2001:db8::1 or ip6:2001:db8::/32"));
    }
    const std::string_view value = rest.substr(1);
    const size_t slash = value.find('/');
    const std::string_view network = value.substr(0, slash);
    auto address = v4 ? parse_dotted_quad(network) : std::nullopt;
    if (!address) {
      address = dns::IpAddress::parse(network);
    }
    if (!address || address->is_v4() != v4 || (v4 && network.find(':') != std::string_view::npos)) {
      return term_error(term, offset, rest_at + 1,
                        fmt::format("'{}': '{}' is not a valid {} address", shown(),
                                    util::escape_for_display(network), family));
    }
    result.network = *address;
    if (slash != std::string_view::npos) {
      const auto value_prefix = parse_prefix(value.substr(slash + 1), v4 ? 32 : 128);
      if (!value_prefix) {
        return term_error(term, offset, rest_at + 1 + slash,
                          fmt::format("'{}': {} prefix length must be {} (written as /N without leading zeros)",
                                      shown(), family, v4 ? "0-32" : "0-128"));
      }
      (v4 ? result.cidr4 : result.cidr6) = *value_prefix;
    }
    return std::nullopt;
  }
  }
  return std::nullopt;
}

} // namespace

char
qualifier_char(Qualifier qualifier)
{
  switch (qualifier) {
  case Qualifier::pass:
    return '+';
  case Qualifier::fail:
    return '-';
  case Qualifier::softfail:
    return '~';
  case Qualifier::neutral:
    return '?';
  }
  return '+';
}

std::string_view
to_string(Qualifier qualifier)
{
  switch (qualifier) {
  case Qualifier::pass:
    return "pass";
  case Qualifier::fail:
    return "fail";
  case Qualifier::softfail:
    return "softfail";
  case Qualifier::neutral:
    return "neutral";
  }
  return "pass";
}

std::string_view
to_string(MechanismKind kind)
{
  for (const auto& m : k_mechanisms) {
    if (m.kind == kind) {
      return m.name;
    }
  }
  return "all";
}

std::string_view
to_string(ModifierKind kind)
{
  switch (kind) {
  case ModifierKind::redirect:
    return "redirect";
  case ModifierKind::exp:
    return "exp";
  case ModifierKind::unknown:
    return "unknown";
  }
  return "unknown";
}

bool
queries_dns(MechanismKind kind)
{
  switch (kind) {
  case MechanismKind::include:
  case MechanismKind::a:
  case MechanismKind::mx:
  case MechanismKind::ptr:
  case MechanismKind::exists:
    return true;
  case MechanismKind::all:
  case MechanismKind::ip4:
  case MechanismKind::ip6:
    return false;
  }
  return false;
}

bool
Term::counts_toward_limit() const
{
  if (kind == TermKind::mechanism) {
    return queries_dns(mechanism);
  }
  return modifier == ModifierKind::redirect;
}

const Term*
Record::redirect() const
{
  for (const auto& term : terms) {
    if (term.kind == TermKind::modifier && term.modifier == ModifierKind::redirect) {
      return &term;
    }
  }
  return nullptr;
}

const Term*
Record::exp() const
{
  for (const auto& term : terms) {
    if (term.kind == TermKind::modifier && term.modifier == ModifierKind::exp) {
      return &term;
    }
  }
  return nullptr;
}

const Term*
Record::all() const
{
  for (const auto& term : terms) {
    if (term.kind == TermKind::mechanism && term.mechanism == MechanismKind::all) {
      return &term;
    }
  }
  return nullptr;
}

size_t
Record::dns_term_count() const
{
  size_t count = 0;
  for (const auto& term : terms) {
    if (term.kind == TermKind::mechanism && queries_dns(term.mechanism)) {
      ++count;
    }
  }
  if (redirect() && !all()) {
    ++count;
  }
  return count;
}

bool
is_spf_record(std::string_view txt)
{
  if (txt.size() < k_version.size() || (txt.size() > k_version.size() && txt[k_version.size()] != ' ')) {
    return false;
  }
  // Case is folded by setting bit 0x20 of the bytes where `v=spf1` has a letter: only 'V' and 'v' then give 'v', and
  // so on. Every TXT answer's records come here.
  constexpr std::array<char, 6> k_fold{0x20, 0, 0x20, 0x20, 0x20, 0};
  static_assert(k_fold.size() == k_version.size());
  char differs = 0;
  for (size_t i = 0; i < k_version.size(); ++i) {
    differs |= static_cast<char>((txt[i] | k_fold[i]) ^ k_version[i]);
  }
  return differs == 0;
}

bool
is_spf_record(const dns::TxtRecord& txt)
{
  if (!txt.strings.empty() && txt.strings.front().size() > k_version.size()) {
    return is_spf_record(std::string_view(txt.strings.front()).substr(0, k_version.size() + 1)); // nearly always
  }
  // The joined text's first bytes, without joining: the version and the byte after it.
  std::array<char, k_version.size() + 1> head{};
  size_t size = 0;
  for (const auto& piece : txt.strings) {
    const size_t take = std::min(piece.size(), head.size() - size);
    std::copy_n(piece.data(), take, head.data() + size);
    size += take;
    if (size == head.size()) {
      break;
    }
  }
  return is_spf_record(std::string_view(head.data(), size));
}

util::Result<Record, ParseError>
parse_record(std::string_view text)
{
  if (!is_spf_record(text)) {
    return util::unexpected(ParseError{0, util::escape_for_display(text.substr(0, std::min<size_t>(text.size(), 16))),
                                       "an SPF record must start with 'v=spf1' followed by a space"});
  }
  Record record;
  record.text = std::string(text);
  bool seen_redirect = false;
  bool seen_exp = false;
  size_t pos = k_version.size();
  // One allocation for the terms (at most one per space): growing the vector would move every Term (strings, a
  // macro-string) at each step. The spaces are found with memchr rather than by looking at every byte.
  size_t spaces = 0;
  for (size_t space = text.find(' ', pos); space != std::string_view::npos; space = text.find(' ', space + 1)) {
    ++spaces;
  }
  record.terms.reserve(spaces);
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    // One pass over the term's bytes finds its end, a byte no record may hold, and its first '=', ':' or '/'.
    size_t end = pos;
    size_t separator = std::string_view::npos;
    for (; end < text.size(); ++end) {
      const TermByte kind = k_term_bytes[static_cast<unsigned char>(text[end])];
      if (kind == TermByte::plain) {
        continue;
      }
      if (kind == TermByte::space) {
        break;
      }
      if (kind == TermByte::refused) {
        const std::string_view term = text.substr(pos, std::min(text.find(' ', end), text.size()) - pos);
        const size_t i = end - pos;
        const auto byte = static_cast<unsigned char>(term[i]);
        const bool control = byte < 0x20 || byte == 0x7f;
        return util::unexpected(term_error(
          term, pos, i,
          fmt::format("'{}' contains {} {} at position {}; an SPF record may only hold visible ASCII characters and "
                      "terms are separated by spaces",
                      util::escape_for_display(term), control ? "the control character" : "the non-ASCII byte",
                      util::escape_for_display(term.substr(i, 1)), pos + i)));
      }
      if (separator == std::string_view::npos) {
        separator = end - pos;
      }
    }
    const std::string_view term = text.substr(pos, end - pos);
    Term& parsed = record.terms.emplace_back();
    parsed.text = std::string(term);
    parsed.offset = pos;
    const bool modifier = separator != std::string_view::npos && term[separator] == '=';
    if (auto error = modifier ? parse_modifier(term, pos, separator, parsed)
                              : parse_mechanism(term, pos, std::min(separator, term.size()), parsed)) {
      return util::unexpected(std::move(*error));
    }
    if (parsed.kind == TermKind::modifier) {
      if (parsed.modifier == ModifierKind::redirect) {
        if (seen_redirect) {
          return util::unexpected(term_error(term, pos, 0, "duplicate redirect= modifier: a record may have only one"));
        }
        seen_redirect = true;
      } else if (parsed.modifier == ModifierKind::exp) {
        if (seen_exp) {
          return util::unexpected(term_error(term, pos, 0, "duplicate exp= modifier: a record may have only one"));
        }
        seen_exp = true;
      }
    }
    pos = end;
  }
  return record;
}

std::string
to_string(const Term& term)
{
  std::string out;
  if (term.kind == TermKind::modifier) {
    out = term.modifier == ModifierKind::unknown ? term.modifier_name : std::string(to_string(term.modifier));
    out += '=';
    if (term.domain_spec) {
      out += term.domain_spec->text;
    }
    return out;
  }
  if (term.qualifier_source == QualifierSource::written || term.qualifier != Qualifier::pass) {
    out += qualifier_char(term.qualifier);
  }
  out += to_string(term.mechanism);
  if (term.mechanism == MechanismKind::ip4 || term.mechanism == MechanismKind::ip6) {
    out += ':';
    out += term.network ? term.network->to_string() : std::string();
    const auto prefix = term.mechanism == MechanismKind::ip4 ? term.cidr4 : term.cidr6;
    if (prefix) {
      out += fmt::format("/{}", *prefix);
    }
    return out;
  }
  if (term.domain_spec) {
    out += ':';
    out += term.domain_spec->text;
  }
  if (term.mechanism == MechanismKind::a || term.mechanism == MechanismKind::mx) {
    if (term.cidr4) {
      out += fmt::format("/{}", *term.cidr4);
    }
    if (term.cidr6) {
      out += fmt::format("//{}", *term.cidr6);
    }
  }
  return out;
}

std::string
to_string(const Record& record)
{
  std::string out(k_version);
  for (const auto& term : record.terms) {
    out += ' ';
    out += to_string(term);
  }
  return out;
}

Selection
select_record(const dns::Answer& answer)
{
  const SpfTxt found = find_spf_record(answer);
  Selection selection;
  selection.status = found.status;
  if (found.status == SelectionStatus::one) {
    selection.record = found.record->joined();
  } else if (found.status == SelectionStatus::multiple) {
    for (const auto& txt : answer.txt) {
      if (is_spf_record(txt)) {
        selection.records.push_back(txt.joined()); // only SPF records: most TXT records beside them are never read
      }
    }
  }
  return selection;
}

SpfTxt
find_spf_record(const dns::Answer& answer)
{
  SpfTxt found;
  if (dns::is_failure(answer.status)) {
    found.status = SelectionStatus::dns_failure;
    return found;
  }
  for (const auto& txt : answer.txt) {
    if (is_spf_record(txt) && found.count++ == 0) {
      found.record = &txt;
    }
  }
  found.status = found.count == 0   ? SelectionStatus::none
                 : found.count == 1 ? SelectionStatus::one
                                    : SelectionStatus::multiple;
  return found;
}

std::string_view
SpfTxt::text(std::string& storage) const
{
  return record->text(storage);
}

RecordCache::RecordCache(size_t capacity) : m_capacity(capacity == 0 ? 1 : capacity)
{
}

RecordCache::Entry
RecordCache::parse(std::string_view text)
{
  const size_t hash = std::hash<std::string_view>{}(text);
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(Probe{ text, hash });
    if (it != m_entries.end()) {
      return it->second;
    }
  }
  auto entry = std::make_shared<const util::Result<Record, ParseError>>(parse_record(text));
  const std::lock_guard lock(m_mutex);
  if (m_entries.size() >= m_capacity) {
    m_entries.clear();
  }
  m_entries.emplace(Key{ std::string(text), hash }, entry);
  return entry;
}

size_t
RecordCache::size() const
{
  const std::lock_guard lock(m_mutex);
  return m_entries.size();
}

} // namespace sendcheck::spf
