#include <sendcheck/dmarc/record.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <charconv>

namespace sendcheck::dmarc {

namespace {

using util::is_alnum;
using util::is_alpha;
using util::is_digit;

bool
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


std::pair<size_t, size_t>
trim_range(std::string_view text, size_t begin, size_t end)
{
  while (begin < end && is_space(text[begin])) {
    ++begin;
  }
  while (end > begin && is_space(text[end - 1])) {
    --end;
  }
  return {begin, end};
}

std::optional<Policy>
parse_policy(std::string_view value)
{
  if (util::iequals(value, "none")) {
    return Policy::none;
  }
  if (util::iequals(value, "quarantine")) {
    return Policy::quarantine;
  }
  if (util::iequals(value, "reject")) {
    return Policy::reject;
  }
  return std::nullopt;
}

std::optional<uint32_t>
parse_number(std::string_view value)
{
  uint32_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size() || value.empty()) {
    return std::nullopt;
  }
  return number;
}

/// Splits a URI list at ',' and trims each URI; nullopt when one is not `scheme:...`.
std::optional<std::vector<std::string>>
parse_uris(std::string_view value)
{
  std::vector<std::string> uris;
  for (const auto piece : util::split(value, ',')) {
    const auto uri = util::trim(piece);
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_alpha(uri[0])) {
      return std::nullopt;
    }
    uris.emplace_back(uri);
  }
  return uris;
}

DmarcError
error_at(size_t position, std::string message)
{
  return DmarcError{position, std::move(message)};
}

} // namespace

std::string_view
to_string(Policy policy)
{
  switch (policy) {
  case Policy::none:
    return "none";
  case Policy::quarantine:
    return "quarantine";
  case Policy::reject:
    return "reject";
  }
  return "?";
}

std::string_view
to_string(Alignment alignment)
{
  return alignment == Alignment::strict ? "strict" : "relaxed";
}

Policy
DmarcRecord::effective_policy() const
{
  return policy.value_or(Policy::none);
}

Policy
DmarcRecord::subdomain_effective_policy(Existence existence) const
{
  if (existence == Existence::nonexistent && nonexistent_policy) {
    return *nonexistent_policy;
  }
  if (subdomain_policy) {
    return *subdomain_policy;
  }
  return effective_policy();
}

const DmarcTag*
DmarcRecord::find(std::string_view name) const
{
  for (const auto& tag : tags) {
    if (tag.name == name) {
      return &tag;
    }
  }
  return nullptr;
}

bool
looks_like_dmarc(std::string_view joined)
{
  auto [begin, end] = trim_range(joined, 0, joined.size());
  const auto semicolon = joined.find(';', begin);
  if (semicolon != std::string_view::npos) {
    end = trim_range(joined, begin, semicolon).second;
  }
  const auto first = joined.substr(begin, end - begin);
  const auto equals = first.find('=');
  if (equals == std::string_view::npos) {
    return false;
  }
  // RFC 7489 section 6.4: the "v" is case-insensitive (an ABNF literal), "DMARC1" is not (%x44 %x4d ...).
  // The same whitespace as parse_dmarc_record (fuzzing found "v\r=DMARC1" parsed but did not look like DMARC).
  const auto [name_begin, name_end] = trim_range(first, 0, equals);
  const auto [value_begin, value_end] = trim_range(first, equals + 1, first.size());
  return util::iequals(first.substr(name_begin, name_end - name_begin), "v")
         && first.substr(value_begin, value_end - value_begin) == "DMARC1";
}

util::Result<DmarcRecord, DmarcError>
parse_dmarc_record(std::string_view joined)
{
  DmarcRecord record;
  size_t begin = 0;
  while (begin <= joined.size()) {
    size_t end = joined.find(';', begin);
    const bool last = end == std::string_view::npos;
    if (last) {
      end = joined.size();
    }
    const auto [spec_begin, spec_end] = trim_range(joined, begin, end);
    if (spec_begin == spec_end) {
      if (!last && record.tags.empty()) {
        // A ';' before 'v=DMARC1' (found by fuzzing): looks_like_dmarc says no, so the parser must too.
        return util::unexpected(error_at(begin, "the record must start with 'v=DMARC1'"));
      }
      if (!last && !record.tags.empty()) {
        record.issues.push_back({IssueKind::style, begin, "an empty tag (two ';' in a row); it is ignored"});
      }
    } else {
      const size_t equals = joined.find('=', spec_begin);
      if (equals == std::string_view::npos || equals >= spec_end) {
        return util::unexpected(
          error_at(spec_begin, fmt::format("'{}' is not a tag: a tag is written name=value",
                                           util::escape_for_display(joined.substr(spec_begin, spec_end - spec_begin)))));
      }
      const auto [name_begin, name_end] = trim_range(joined, spec_begin, equals);
      const std::string name = util::to_lower(joined.substr(name_begin, name_end - name_begin));
      if (name.empty() || !is_alpha(name[0])
          || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        return util::unexpected(
          error_at(name_begin, fmt::format("'{}' is not a valid tag name", util::escape_for_display(name))));
      }
      const auto [value_begin, value_end] = trim_range(joined, equals + 1, spec_end);
      if (record.find(name) != nullptr) {
        return util::unexpected(
          error_at(name_begin, fmt::format("the tag '{}' appears twice; a DMARC record must not repeat a tag", name)));
      }
      record.tags.push_back(
        DmarcTag{name, std::string(joined.substr(value_begin, value_end - value_begin)), name_begin, value_begin});
    }
    if (last) {
      break;
    }
    begin = end + 1;
  }

  if (record.tags.empty() || record.tags.front().name != "v") {
    return util::unexpected(error_at(record.tags.empty() ? 0 : record.tags.front().position,
                                     "the record must start with 'v=DMARC1'"));
  }
  if (record.tags.front().value != "DMARC1") {
    return util::unexpected(
      error_at(record.tags.front().value_position,
               fmt::format("'v={}' is not a DMARC version; it must be exactly 'v=DMARC1'",
                           util::escape_for_display(record.tags.front().value))));
  }

  const auto bad_value = [&record](const DmarcTag& tag, std::string_view expected) {
    record.issues.push_back({IssueKind::bad_value, tag.value_position,
                             fmt::format("'{}={}' is not valid ({}); the default is used instead", tag.name,
                                         util::escape_for_display(tag.value), expected)});
  };

  for (size_t index = 1; index < record.tags.size(); ++index) {
    const DmarcTag& tag = record.tags[index];
    const std::string_view value = tag.value;
    if (tag.name == "v") {
      return util::unexpected(error_at(tag.position, "'v=' may only be the first tag"));
    }
    if (tag.name == "p") {
      record.policy = parse_policy(value);
      if (!record.policy) {
        return util::unexpected(error_at(
          tag.value_position,
          fmt::format("'p={}' is not a policy; use none, quarantine or reject", util::escape_for_display(value))));
      }
      if (index != 1) {
        record.issues.push_back(
          {IssueKind::style, tag.position, "'p=' should come right after 'v=DMARC1' (RFC 7489 §6.4)"});
      }
    } else if (tag.name == "sp" || tag.name == "np") {
      const auto policy = parse_policy(value);
      if (!policy) {
        bad_value(tag, "none, quarantine or reject");
      } else if (tag.name == "sp") {
        record.subdomain_policy = policy;
      } else {
        record.nonexistent_policy = policy;
      }
    } else if (tag.name == "pct") {
      const auto number = parse_number(value);
      if (!number || *number > 100) {
        bad_value(tag, "a whole number from 0 to 100");
      } else {
        record.percent = static_cast<int>(*number);
        record.percent_given = true;
      }
      record.issues.push_back({IssueKind::retired, tag.position, "'pct=' is retired by DMARCbis"});
    } else if (tag.name == "adkim" || tag.name == "aspf") {
      Alignment mode = Alignment::relaxed;
      if (value == "s") {
        mode = Alignment::strict;
      } else if (value != "r") {
        bad_value(tag, "r or s");
      }
      (tag.name == "adkim" ? record.adkim : record.aspf) = mode;
    } else if (tag.name == "rua" || tag.name == "ruf") {
      auto uris = parse_uris(value);
      if (!uris) {
        bad_value(tag, "a comma-separated list of URIs such as mailto:dmarc@example.com");
      } else {
        (tag.name == "rua" ? record.rua : record.ruf) = std::move(*uris);
      }
    } else if (tag.name == "fo") {
      bool valid = !value.empty();
      for (const auto option : util::split(value, ':')) {
        const auto trimmed = util::trim(option);
        valid = valid && (trimmed == "0" || trimmed == "1" || trimmed == "d" || trimmed == "s");
      }
      if (valid) {
        record.failure_options = std::string(value);
      } else {
        bad_value(tag, "0, 1, d or s, separated by ':'");
      }
    } else if (tag.name == "ri") {
      const auto number = parse_number(value);
      if (!number) {
        bad_value(tag, "a number of seconds");
      } else {
        record.report_interval = *number;
      }
      record.issues.push_back({IssueKind::retired, tag.position, "'ri=' is retired by DMARCbis"});
    } else if (tag.name == "rf") {
      record.issues.push_back({IssueKind::retired, tag.position, "'rf=' is retired by DMARCbis"});
    } else if (tag.name == "psd") {
      if (value == "y" || value == "n" || value == "u") {
        record.psd = value[0];
      } else {
        bad_value(tag, "y, n or u");
      }
    } else if (tag.name == "t") {
      if (value == "y" || value == "n") {
        record.test_mode = value == "y";
      } else {
        bad_value(tag, "y or n");
      }
    } else {
      record.issues.push_back(
        {IssueKind::unknown_tag, tag.position, fmt::format("the tag '{}' is not a DMARC tag; receivers ignore it", tag.name)});
    }
  }
  if (!record.policy) {
    record.issues.push_back({IssueKind::missing_policy, joined.size(),
                             "the record has no 'p=' tag; DMARCbis reads that as p=none (RFC 7489 only when a valid "
                             "'rua=' is given, otherwise the record is ignored)"});
  }
  return record;
}

} // namespace sendcheck::dmarc
