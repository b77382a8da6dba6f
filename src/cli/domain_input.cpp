#include <sendcheck/cli/domain_input.hpp>

#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
#include <idn2.h>

#include <stdio.h> // getline (POSIX)
#include <sys/types.h>

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

/// What is wrong with the ASCII host name `name`, or empty when nothing is.
std::string
host_name_problem(std::string_view name, std::string_view shown)
{
  if (name.size() > 253) {
    return fmt::format("'{}' is {} characters long; a domain name can have at most 253", shown, name.size());
  }
  const auto labels = util::split(name, '.');
  if (labels.size() < 2) {
    return fmt::format("'{}' is not a full domain name; give the domain mail is sent from, such as example.ee",
                       shown);
  }
  for (const auto label : labels) {
    if (label.empty()) {
      return fmt::format("'{}' has an empty label (two dots in a row, or a dot at the start)", shown);
    }
    if (label.size() > 63) {
      return fmt::format("'{}' has a label of {} characters; each part between dots can have at most 63", shown,
                         label.size());
    }
    for (const char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) {
        return fmt::format("'{}' contains '{}', which is not allowed in a domain name", shown,
                           util::escape_for_display(std::string_view(&c, 1)));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return fmt::format("'{}' has a label that starts or ends with '-'", shown);
    }
  }
  return {};
}

} // namespace

util::Result<DomainInput, std::string>
parse_domain_input(std::string_view input)
{
  const std::string shown = util::escape_for_display(input.size() > 80 ? input.substr(0, 80) : input);
  const std::string shown_full = input.size() > 80 ? shown + "..." : shown;
  const auto trimmed = util::trim(input);
  if (trimmed.empty()) {
    return unexpected(std::string("an empty domain name was given"));
  }
  if (trimmed.find("://") != std::string_view::npos) {
    auto rest = trimmed.substr(trimmed.find("://") + 3);
    rest = rest.substr(0, rest.find_first_of("/:?#"));
    return unexpected(fmt::format("'{}' is a web address; give only the domain name, e.g. {}", shown_full,
                                  util::escape_for_display(rest)));
  }
  if (trimmed.find_first_of(" \t\r\n") != std::string_view::npos) {
    return unexpected(fmt::format("'{}' contains a space; give one domain name per argument", shown_full));
  }

  DomainInput result;
  std::string_view name = trimmed;
  if (const auto at = name.rfind('@'); at != std::string_view::npos) {
    name = name.substr(at + 1);
    result.note = fmt::format("checking the domain {} of the address {}", util::escape_for_display(name), shown_full);
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
      return unexpected(fmt::format("'{}' is not a valid internationalized domain name: {}", shown_full,
                                    idn2_strerror(rc)));
    }
    result.ascii = util::to_lower(holder.get());
  }
  if (auto problem = host_name_problem(result.ascii, shown_full); !problem.empty()) {
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
