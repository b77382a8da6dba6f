#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck::dkim {

namespace {

using util::is_alnum;
using util::is_alpha;
using util::is_digit;

bool
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}



// VALCHAR = %x21-3A / %x3C-7E (RFC 6376 §3.2); ';' separates tags and never reaches here.
bool
is_valchar(char c)
{
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && c != ';';
}

// Offsets of the first and one-past-last non-space characters of text[begin, end).
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

std::vector<std::string>
split_colon_list(std::string_view value)
{
  std::vector<std::string> items;
  for (const auto piece : util::split(value, ':')) {
    std::string item;
    for (const char c : piece) {
      if (!is_space(c)) {
        item += c;
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

KeyRecordError
error_at(size_t position, std::string message)
{
  return KeyRecordError{position, std::move(message)};
}

} // namespace

std::string_view
to_string(KeyType type)
{
  switch (type) {
  case KeyType::rsa:
    return "rsa";
  case KeyType::ed25519:
    return "ed25519";
  }
  return "?";
}

bool
KeyRecord::allows_email() const
{
  if (service_types.empty()) {
    return true;
  }
  return std::any_of(service_types.begin(), service_types.end(),
                     [](const std::string& type) { return type == "*" || util::iequals(type, "email"); });
}

const Tag*
KeyRecord::find(std::string_view name) const
{
  for (const auto& tag : tags) {
    if (tag.name == name) {
      return &tag;
    }
  }
  return nullptr;
}

util::Result<KeyRecord, KeyRecordError>
parse_key_record(std::string_view joined)
{
  KeyRecord record;
  record.service_types = {"*"};

  if (trim_range(joined, 0, joined.size()).first == joined.size()) {
    return util::unexpected(error_at(0, "the record is empty"));
  }

  // Split into tag-specs at ';' (';' cannot occur inside a value: it is not a VALCHAR).
  size_t begin = 0;
  while (begin <= joined.size()) {
    size_t end = joined.find(';', begin);
    const bool last = end == std::string_view::npos;
    if (last) {
      end = joined.size();
    }
    const auto [spec_begin, spec_end] = trim_range(joined, begin, end);
    if (spec_begin == spec_end) {
      if (!last) {
        record.notes_for_admin.push_back(
          {begin, fmt::format("an empty tag at offset {} (two ';' in a row); it is ignored", begin)});
      }
    } else {
      const size_t equals = joined.find('=', spec_begin);
      if (equals == std::string_view::npos || equals >= spec_end) {
        return util::unexpected(error_at(
          spec_begin,
          fmt::format("'{}' is not a tag: a tag is written name=value",
                      util::escape_for_display(joined.substr(spec_begin, spec_end - spec_begin)))));
      }
      const auto [name_begin, name_end] = trim_range(joined, spec_begin, equals);
      const std::string_view name = joined.substr(name_begin, name_end - name_begin);
      if (name.empty()) {
        return util::unexpected(error_at(spec_begin, "a tag has a value but no name before '='"));
      }
      if (!is_alpha(name[0])) {
        return util::unexpected(error_at(
          name_begin, fmt::format("the tag name '{}' must start with a letter", util::escape_for_display(name))));
      }
      for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_') {
          return util::unexpected(error_at(name_begin + i,
                                           fmt::format("the tag name '{}' has the character '{}', which is not "
                                                       "allowed in a tag name",
                                                       util::escape_for_display(name),
                                                       util::escape_for_display(std::string_view(&name[i], 1)))));
        }
      }
      const auto [value_begin, value_end] = trim_range(joined, equals + 1, spec_end);
      const std::string_view value = joined.substr(value_begin, value_end - value_begin);
      for (size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (!is_valchar(c) && !is_space(c)) {
          return util::unexpected(
            error_at(value_begin + i,
                     fmt::format("the value of '{}' has the character '{}' at offset {}, which is not allowed in a "
                                 "DKIM record (only printable ASCII)",
                                 name, util::escape_for_display(std::string_view(&value[i], 1)), value_begin + i)));
        }
      }
      if (record.find(name) != nullptr) {
        return util::unexpected(error_at(
          name_begin, fmt::format("the tag '{}' appears twice; a DKIM record must not repeat a tag", name)));
      }
      record.tags.push_back(Tag{std::string(name), std::string(value), name_begin, value_begin});
    }
    if (last) {
      break;
    }
    begin = end + 1;
  }

  if (record.tags.empty()) {
    return util::unexpected(error_at(0, "the record has no tags"));
  }

  for (size_t index = 0; index < record.tags.size(); ++index) {
    const Tag& tag = record.tags[index];
    if (tag.name == "v") {
      if (index != 0) {
        return util::unexpected(
          error_at(tag.position, "'v=DKIM1' must be the first tag of the record (RFC 6376 §3.6.1)"));
      }
      if (tag.value != "DKIM1") {
        return util::unexpected(error_at(
          tag.value_position,
          fmt::format("'v={}' is not a DKIM key record version; it must be 'v=DKIM1'", util::escape_for_display(tag.value))));
      }
      record.has_version = true;
    } else if (tag.name == "k") {
      record.key_type_given = true;
      if (util::iequals(tag.value, "rsa")) {
        record.key_type = KeyType::rsa;
      } else if (util::iequals(tag.value, "ed25519")) {
        record.key_type = KeyType::ed25519;
      } else {
        return util::unexpected(error_at(tag.value_position,
                                         fmt::format("'k={}' is not a key type verifiers know; use 'k=rsa'",
                                                     util::escape_for_display(tag.value))));
      }
    } else if (tag.name == "h") {
      record.hash_algorithms = split_colon_list(tag.value);
      for (const auto& hash : record.hash_algorithms) {
        if (hash != "sha256" && hash != "sha1") {
          record.notes_for_admin.push_back(
            {tag.value_position,
             fmt::format("'h=' names the unknown hash algorithm '{}'; it is ignored", util::escape_for_display(hash))});
        }
      }
    } else if (tag.name == "s") {
      record.service_types = split_colon_list(tag.value);
    } else if (tag.name == "t") {
      record.flags = split_colon_list(tag.value);
      for (const auto& flag : record.flags) {
        if (flag == "y") {
          record.testing = true;
        } else if (flag == "s") {
          record.strict = true;
        } else {
          record.notes_for_admin.push_back(
            {tag.value_position,
             fmt::format("'t=' has the unknown flag '{}'; it is ignored", util::escape_for_display(flag))});
        }
      }
    } else if (tag.name == "n") {
      record.notes = tag.value;
    } else if (tag.name == "p") {
      record.public_key_raw = tag.value;
      record.public_key_position = tag.value_position;
      bool after_space = false;
      for (const char c : tag.value) {
        if (is_space(c)) {
          after_space = true;
          continue;
        }
        if (after_space && !record.public_key.empty()) {
          record.public_key_breaks.push_back(record.public_key.size());
        }
        after_space = false;
        record.public_key += c;
      }
    } else {
      record.notes_for_admin.push_back(
        {tag.position, fmt::format("the tag '{}' is not a DKIM key tag; verifiers ignore it", tag.name)});
    }
  }

  if (record.find("p") == nullptr) {
    return util::unexpected(
      error_at(joined.size(), "the record has no 'p=' tag: the public key is missing (RFC 6376 §3.6.1)"));
  }
  return record;
}

} // namespace sendcheck::dkim
