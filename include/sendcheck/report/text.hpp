#pragma once

#include <sendcheck/report/domain_check.hpp>

#include <string>

// The human report: one section per domain, readable at 80 columns, colour only where it helps.

namespace sendcheck::report {

/// How much to show.
enum class Detail : uint8_t {
  quiet,   ///< The verdict line only.
  normal,  ///< Record, lookups, each address's result, DKIM, DMARC, findings, verdict.
  verbose, ///< Also every evaluation's trace.
};

/// Whether to use ANSI colour.
enum class Color : uint8_t { off, on };

/// Options for the text renderer.
struct TextOptions
{
  Detail detail = Detail::normal;
  Color color = Color::off;
  size_t width = 80;
};

/// The text report of one domain, ending with a newline. Bytes from DNS are escaped (never printed raw).
std::string render_text(const DomainReport& report, const TextOptions& options);

/// `render_text(report, options)` appended to `out`.
void render_text(std::string& out, const DomainReport& report, const TextOptions& options);

/// The line for an input that is not a valid domain.
std::string render_invalid_input(const std::string& input, const std::string& error, const TextOptions& options);

/// `text` broken at spaces into lines of at most `width` columns; lines after the first start with `indent` spaces.
/// Words longer than a line are split.
std::string wrap(std::string_view text, size_t width, size_t indent);

} // namespace sendcheck::report
