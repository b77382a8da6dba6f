#pragma once

#include <sendcheck/util/result.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace sendcheck::cli {

/// A domain as given on the command line, validated and converted for DNS.
struct DomainInput
{
  std::string ascii;   ///< The name to look up: lower-case, A-labels (xn--...), no trailing dot.
  std::string unicode; ///< The name as a person reads it (U-labels); equal to `ascii` for plain ASCII names.
  std::string note;    ///< Non-empty when the input was adjusted ("checking example.ee, the domain of user@...").
};

/// Validates `input` as a domain to check and converts an internationalized name with libidn2 (IDNA 2008, with the
/// UTS#46 mapping). Accepts `user@domain` (checking the domain, with a note) and one trailing dot. Refuses, with a
/// message naming the problem and what to type instead: URLs, spaces, empty labels, labels over 63 octets, names
/// over 253, characters not allowed in host names, and single-label names.
util::Result<DomainInput, std::string> parse_domain_input(std::string_view input);

namespace detail {
/// `parse_domain_input` without its shortcut for plain host names (lower-cased and checked in one pass): the path
/// every other input takes, and the one the shortcut must agree with (tests compare them).
util::Result<DomainInput, std::string> parse_domain_input_general(std::string_view input);
} // namespace detail

/// A domain as written on a line of a domain file (`-f FILE`).
struct DomainLine
{
  std::string text;  ///< The line without its comment and the blanks around it; never empty.
  size_t number = 0; ///< The line's number, from 1.
};

/// Reads the domains of a domain file as they are asked for, so that a file of any size is streamed: one domain a
/// line; '#' starts a comment; lines left blank (spaces, tabs) are skipped; a line may end in LF or CR LF, and the last
/// one may have no line end. A line's other bytes, NUL among them, are kept for `parse_domain_input` to refuse.
class DomainFileReader
{
public:
  /// Reads from `file`, which stays the caller's to close.
  explicit DomainFileReader(std::FILE* file) : m_file(file) {}
  ~DomainFileReader();
  DomainFileReader(const DomainFileReader&) = delete;
  DomainFileReader& operator=(const DomainFileReader&) = delete;

  /// The next line that holds a domain, or nullopt at the end of the file (or when reading failed: `read_error`).
  std::optional<DomainLine> next();

  /// Whether a NUL byte was read in the first two lines: the file is not text.
  bool binary() const { return m_binary; }

  /// The errno of a failed read, if one failed.
  std::optional<int> read_error() const { return m_read_error; }

private:
  std::FILE* m_file;
  char* m_buffer = nullptr; ///< getline's line buffer (malloc'd).
  size_t m_capacity = 0;
  size_t m_line_number = 0;
  bool m_binary = false;
  std::optional<int> m_read_error;
};

} // namespace sendcheck::cli
