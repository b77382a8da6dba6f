#include <sendcheck/cli/domain_input.hpp>

#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
#include <idn2.h>

#include <stdio.h> // getline (POSIX)
#include <sys/types.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>

namespace sendcheck::cli {

namespace {

using util::unexpected;

struct FreeDeleter
{
  void operator()(char* p) const { std::free(p); }
};
using IdnString = std::unique_ptr<char, FreeDeleter>;

bool
is_ascii(std::string_view text)
{
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
  }
  return true;
}

/// How an input is shown in a message: escaped, and cut at 80 bytes. Built only for a message.
std::string
shown_input(std::string_view input)
{
  return input.size() > 80 ? util::escape_for_display(input.substr(0, 80)) + "..." : util::escape_for_display(input);
}

/// Whether `c` may appear in a label of a host name (lower case: the name is lower-cased first).
constexpr bool
is_host_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/// What is wrong with the ASCII host name `name` (read from `input`), or empty when nothing is. The labels are
/// checked in order, each in turn for being empty, too long, a character not allowed and a hyphen at either end;
/// the first problem found is the one told.
std::string
host_name_problem(std::string_view name, std::string_view input)
{
  if (name.size() > 253) {
    return fmt::format("'{}' is {} characters long; a domain name can have at most 253", shown_input(input),
                       name.size());
  }
  if (name.find('.') == std::string_view::npos) {
    return fmt::format("'{}' is not a full domain name; give the domain mail is sent from, such as example.ee",
                       shown_input(input));
  }
  size_t start = 0;
  while (true) {
    const size_t end = std::min(name.find('.', start), name.size());
    const auto label = name.substr(start, end - start);
    if (label.empty()) {
      return fmt::format("'{}' has an empty label (two dots in a row, or a dot at the start)", shown_input(input));
    }
    if (label.size() > 63) {
      return fmt::format("'{}' has a label of {} characters; each part between dots can have at most 63",
                         shown_input(input), label.size());
    }
    if (const auto bad = std::find_if_not(label.begin(), label.end(), is_host_char); bad != label.end()) {
      return fmt::format("'{}' contains '{}', which is not allowed in a domain name", shown_input(input),
                         util::escape_for_display(std::string_view(&*bad, 1)));
    }
    if (label.front() == '-' || label.back() == '-') {
      return fmt::format("'{}' has a label that starts or ends with '-'", shown_input(input));
    }
    if (end == name.size()) {
      return {};
    }
    start = end + 1;
  }
}

/// What a byte of a label of a plain host name is to `plain_host_name`: its lower-case form when that is a host name
/// character (`is_host_char`, the general path's rule), or 0 when the byte sends the name down the general path.
constexpr std::array<char, 256> k_plain_label_bytes = [] {
  std::array<char, 256> out{};
  for (int c = 0; c < 256; ++c) {
    const char lower = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (is_host_char(lower)) {
      out[c] = lower;
    }
  }
  return out;
}();

/// `input` lower-cased when it is a plain host name that the general path accepts as it is, or nullopt: only
/// letters, digits, '-', '_' and dots (one trailing dot dropped), at least two labels, each of 1 to 63 octets and
/// not starting or ending with '-', at most 253 octets, and no A-label (which the general path decodes). Most
/// lines of a domain file are such names; this reads each byte once.
std::optional<std::string>
plain_host_name(std::string_view input)
{
  if (!input.empty() && input.back() == '.') {
    input.remove_suffix(1);
  }
  if (input.empty() || input.size() > 253) {
    return std::nullopt;
  }
  std::string lower(input);
  size_t label_start = 0;
  size_t labels = 0;
  for (size_t i = 0; i <= lower.size(); ++i) {
    if (i == lower.size() || lower[i] == '.') {
      const size_t length = i - label_start;
      if (length == 0 || length > 63 || lower[label_start] == '-' || lower[i - 1] == '-') {
        return std::nullopt;
      }
      ++labels;
      label_start = i + 1;
      continue;
    }
    const char c = k_plain_label_bytes[static_cast<unsigned char>(lower[i])];
    if (c == 0) {
      return std::nullopt;
    }
    lower[i] = c;
  }
  if (labels < 2 || lower.find("xn--") != std::string::npos) {
    return std::nullopt;
  }
  return lower;
}

} // namespace

util::Result<DomainInput, std::string>
parse_domain_input(std::string_view input)
{
  if (auto plain = plain_host_name(input)) {
    DomainInput result;
    result.ascii = std::move(*plain);
    result.unicode = result.ascii;
    return result;
  }
  return detail::parse_domain_input_general(input);
}

util::Result<DomainInput, std::string>
detail::parse_domain_input_general(std::string_view input)
{
  const auto trimmed = util::trim(input);
  if (trimmed.empty()) {
    return unexpected(std::string("an empty domain name was given"));
  }
  if (const auto scheme = trimmed.find("://"); scheme != std::string_view::npos) {
    auto rest = trimmed.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/:?#"));
    return unexpected(fmt::format("'{}' is a web address; give only the domain name, e.g. {}", shown_input(input),
                                  util::escape_for_display(rest)));
  }
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  if (std::any_of(trimmed.begin(), trimmed.end(), is_space)) {
    return unexpected(fmt::format("'{}' contains a space; give one domain name per argument", shown_input(input)));
  }

  DomainInput result;
  std::string_view name = trimmed;
  if (const auto at = name.rfind('@'); at != std::string_view::npos) {
    name = name.substr(at + 1);
    result.note = fmt::format("checking the domain {} of the address {}", util::escape_for_display(name),
                              shown_input(input));
  }
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.size() > 1024) {
    return unexpected(fmt::format("the domain name given is {} characters long; a domain name can have at most 253",
                                  name.size()));
  }

  if (is_ascii(name)) {
    result.ascii = util::to_lower(name);
  } else {
    char* converted = nullptr;
    const std::string owned(name);
    const int rc = idn2_to_ascii_8z(owned.c_str(), &converted, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    IdnString holder(converted);
    if (rc != IDN2_OK) {
      return unexpected(fmt::format("'{}' is not a valid internationalized domain name: {}", shown_input(input),
                                    idn2_strerror(rc)));
    }
    result.ascii = util::to_lower(holder.get());
  }
  if (auto problem = host_name_problem(result.ascii, input); !problem.empty()) {
    return unexpected(std::move(problem));
  }

  char* unicode = nullptr;
  if (result.ascii.find("xn--") == std::string::npos) {
    result.unicode = result.ascii; // no A-label: the name reads the same in Unicode (and libidn2 costs 1% of a run)
  } else if (idn2_to_unicode_8z8z(result.ascii.c_str(), &unicode, 0) == IDN2_OK) {
    IdnString holder(unicode);
    result.unicode = holder.get();
  } else {
    result.unicode = result.ascii;
  }
  return result;
}

DomainFileReader::~DomainFileReader()
{
  std::free(m_buffer);
}

std::optional<DomainLine>
DomainFileReader::next()
{
  while (true) {
    // getline keeps NUL bytes and gives the length read; the buffer grows to the longest line.
    const ssize_t read = getline(&m_buffer, &m_capacity, m_file);
    if (read < 0) {
      if (std::ferror(m_file)) {
        m_read_error = errno;
      }
      return std::nullopt;
    }
    std::string_view line(m_buffer, static_cast<size_t>(read));
    if (m_line_number < 2 && line.find('\0') != std::string_view::npos) {
      m_binary = true;
    }
    ++m_line_number;
    if (line.back() == '\n') {
      line.remove_suffix(1);
    }
    line = line.substr(0, line.find('#'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    const auto text = util::trim(line);
    if (!text.empty()) {
      return DomainLine{std::string(text), m_line_number};
    }
  }
}

} // namespace sendcheck::cli
