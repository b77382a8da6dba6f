#pragma once

#include <sendcheck/profile.hpp>
#include <sendcheck/report/domain_check.hpp>
#include <sendcheck/util/text_buffer.hpp>

#include <nlohmann/json.hpp>

#include <string>

// The JSON report (`--json`), documented in docs/json-schema.md. One document per run:
//   {"schema_version": 1, "tool": {...}, "profile": {...}, "domains": [ {...}, ... ], "summary": {...}}
// written incrementally (one domain object at a time) so that 100,000 domains need no more memory than one.

namespace sendcheck::report {

/// The version of the JSON layout; raised only when a field changes meaning or disappears.
inline constexpr int k_json_schema_version = 1;

/// How the document is laid out (the content is the same).
enum class JsonLayout : uint8_t {
  indented, ///< Pretty-printed with 2-space steps: for reading (--json on a terminal, --json=indented).
  lines,    ///< One line for the document's head, one per domain, one for its tail: compact, grep-able, a third
            ///< smaller (--json to a file or pipe, --json=lines).
};

/// Options for the JSON renderer.
struct JsonOptions
{
  bool include_trace = false; ///< Include each evaluation's trace (--verbose).
  JsonLayout layout = JsonLayout::indented;
};

/// One domain's object.
nlohmann::ordered_json domain_to_json(const DomainReport& report, const JsonOptions& options);

/// Appends one domain's object to `out` as it sits in the document's "domains" array: the bytes are exactly those of
/// `entry_json(domain_to_json(report, options), options.layout)`, but written directly, without building the DOM:
/// plain printable ASCII strings are copied, and any string with another byte is escaped by nlohmann's own
/// serializer.
void write_domain_json(util::TextBuffer& out, const DomainReport& report, const JsonOptions& options);

/// `write_domain_json` appending to a std::string.
void write_domain_json(std::string& out, const DomainReport& report, const JsonOptions& options);

/// `json` as a member of the document's "domains" array in `layout`, dumped by nlohmann's serializer (`ensure_ascii`
/// off, invalid UTF-8 replaced by U+FFFD): indented, `indented_json(json, 4)`; in lines, on one line.
std::string entry_json(const nlohmann::ordered_json& json, JsonLayout layout);

/// `json` pretty-printed with 2-space steps by nlohmann's serializer (`ensure_ascii` off, invalid UTF-8 replaced by
/// U+FFFD) as if it were nested at indentation `indent`: `indent` spaces, then the value, whose closing bracket is
/// again at `indent`. `indented_json(domain_to_json(report, options), 4)` is what `write_domain_json` appends.
std::string indented_json(const nlohmann::ordered_json& json, unsigned indent);

/// The object for an input line that is not a valid domain.
nlohmann::ordered_json invalid_input_to_json(const std::string& input, const std::string& error);

/// The profile's object.
nlohmann::ordered_json profile_to_json(const SenderProfile& profile);

/// Counts of domain statuses for the closing summary.
struct RunSummary
{
  size_t domains = 0;
  size_t good = 0;
  size_t problem = 0;
  size_t dns_error = 0;
  size_t not_found = 0;
  size_t invalid = 0;
  int exit_code = 0;
};

/// The opening of the document, up to and including `"domains": [`.
std::string json_document_start(const SenderProfile& profile, JsonLayout layout);

/// The closing of the document: `], "notes": [...], "summary": {...}}` and a newline. `notes` say how complete
/// the answers were (offline runs).
std::string json_document_end(const RunSummary& summary, const std::vector<std::string>& notes, JsonLayout layout);

} // namespace sendcheck::report
