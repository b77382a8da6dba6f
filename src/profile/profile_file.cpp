// The sender profile file: JSON in, validated field by field; JSON out in the same format (docs/profile.md).

#include <sendcheck/profile.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>

namespace sendcheck {

namespace {

using Json = nlohmann::ordered_json;

/// Profile files are a few hundred bytes; anything this large is the wrong file.
constexpr size_t k_max_file_size = 1024 * 1024;

/// A field's problem, as shown after the origin: "'ordinary_ips'[2]: '...' is not an IPv4 or IPv6 address".
using Problem = std::string;

/// `text` quoted for an error message, unprintable bytes escaped.
std::string
in_quotes(std::string_view text)
{
  // Appended rather than "'" + ... + "'": GCC 12 at -O3 takes the insert at the front for an overlapping copy
  // (a false -Wrestrict, which breaks a Release build with SENDCHECK_WERROR).
  std::string quoted = "'";
  quoted += util::escape_for_display(text);
  quoted += '\'';
  return quoted;
}

/// Why `name` is not a host name (letters, digits and hyphens in labels of at most 63 octets, at least two labels,
/// at most 253 octets; one trailing dot allowed); empty when it is one. `allow_underscore` admits `_` (selectors).
std::string
host_name_problem(std::string_view name, bool allow_underscore, bool need_two_labels)
{
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty()) {
    return "is empty";
  }
  if (name.size() > 253) {
    return "is longer than 253 characters";
  }
  const auto labels = util::split(name, '.');
  if (need_two_labels && labels.size() < 2) {
    return "has a single label (a host name has at least two, like \"directo.gate.ee\")";
  }
  for (const auto label : labels) {
    if (label.empty()) {
      return "has an empty label (two dots in a row, or a leading dot)";
    }
    if (label.size() > 63) {
      return "has a label longer than 63 characters";
    }
    for (const char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                      || (allow_underscore && c == '_');
      if (!ok) {
        return fmt::format("contains {}, which a host name cannot (letters, digits and '-' only; internationalized "
                           "names are written as xn--...)",
                           in_quotes(std::string(1, c)));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return "has a label that starts or ends with '-'";
    }
  }
  return {};
}

/// Whether every byte of `text` is printable ASCII.
bool
printable_ascii(std::string_view text)
{
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

/// Reads the profile's fields from a parsed document.
class ProfileReader
{
public:
  explicit ProfileReader(SenderProfile& profile) : m_profile(profile) {}

  /// Reads every field of `root` into the profile; the first problem, or empty.
  Problem
  read(const Json& root)
  {
    if (!root.is_object()) {
      return fmt::format("expected a JSON object with the profile's fields (see docs/profile.md), got {}",
                         describe_type(root));
    }
    using Reader = std::function<Problem(const std::string&, const Json&)>;
    const std::vector<std::pair<std::string, Reader>> fields{
      {"comment", [](const std::string& key, const Json& value) { return read_comment(key, value); }},
      {"name", [this](const std::string& key, const Json& value) { return read_name(key, value); }},
      {"ordinary_ips",
       [this](const std::string& key, const Json& value) { return read_ips(key, value, m_profile.ordinary_ips); }},
      {"bulk_ips",
       [this](const std::string& key, const Json& value) { return read_ips(key, value, m_profile.bulk_ips); }},
      {"sending_host",
       [this](const std::string& key, const Json& value) { return read_host(in_quotes(key), value, m_profile.sending_host); }},
      {"other_hosts", [this](const std::string& key, const Json& value) { return read_hosts(key, value); }},
      {"dkim_selector", [this](const std::string& key, const Json& value) { return read_selector(key, value); }},
      {"dkim_reference_domain",
       [this](const std::string& key, const Json& value) {
         return read_host(in_quotes(key), value, m_profile.dkim_reference_domain);
       }},
      {"default_signing_domain",
       [this](const std::string& key, const Json& value) {
         return read_host(in_quotes(key), value, m_profile.default_signing_domain);
       }},
      {"minimal_spf", [this](const std::string& key, const Json& value) { return read_minimal_spf(key, value); }},
      {"reply_to_sender", [this](const std::string& key, const Json& value) { return read_reply_to(key, value); }},
    };
    for (const auto& [key, value] : root.items()) {
      // A named copy: clang 14 (the fuzz build) cannot capture a structured binding in a lambda.
      const std::string& name = key;
      const auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
      if (field == fields.end()) {
        std::string known;
        for (const auto& f : fields) {
          known += known.empty() ? f.first : ", " + f.first;
        }
        return fmt::format("unknown field {} (the fields are: {})", in_quotes(key), known);
      }
      if (auto problem = field->second(key, value); !problem.empty()) {
        return problem;
      }
    }
    return cross_check();
  }

private:
  /// "a string", "a number", ... for messages.
  static std::string
  describe_type(const Json& value)
  {
    const std::string name = value.type_name();
    if (value.is_null()) {
      return "null";
    }
    return (name == "array" || name == "object" ? "an " : "a ") + name;
  }

  /// The string in `value`, or a problem naming what was expected.
  static Problem
  expect_string(const std::string& where, const Json& value, std::string_view expected, std::string& out)
  {
    if (!value.is_string()) {
      return fmt::format("{}: expected {}, got {}", where, expected, describe_type(value));
    }
    out = value.get<std::string>();
    return {};
  }

  static Problem
  read_comment(const std::string& key, const Json& value)
  {
    std::string ignored;
    return expect_string(in_quotes(key), value, "a string (free text, ignored)", ignored);
  }

  Problem
  read_name(const std::string& key, const Json& value)
  {
    std::string name;
    if (auto problem = expect_string(in_quotes(key), value, "a string (the sender's name, like \"Directo\")", name);
        !problem.empty()) {
      return problem;
    }
    name = std::string(util::trim(name));
    if (name.empty() || name.size() > 64 || !printable_ascii(name)) {
      return fmt::format("{}: {} is not a sender name (expected 1 to 64 printable ASCII characters, like "
                         "\"Directo\")",
                         in_quotes(key), in_quotes(name));
    }
    m_profile.name = name;
    return {};
  }

  static Problem
  read_ips(const std::string& key, const Json& value, std::vector<dns::IpAddress>& out)
  {
    if (!value.is_array()) {
      return fmt::format("{}: expected an array of IP address strings, like [\"90.190.150.210\"], got {}",
                         in_quotes(key), describe_type(value));
    }
    std::vector<dns::IpAddress> ips;
    for (size_t i = 0; i < value.size(); ++i) {
      const auto where = fmt::format("{}[{}]", in_quotes(key), i);
      std::string text;
      if (auto problem = expect_string(where, value[i], "an IP address string, like \"90.190.150.210\"", text);
          !problem.empty()) {
        return problem;
      }
      const auto ip = dns::IpAddress::parse(util::trim(text));
      if (!ip) {
        if (text.find('/') != std::string::npos) {
          return fmt::format("{}: {} is a network, not an address (list each sending address on its own; "
                             "--allowlist --format cidr compacts them)",
                             where, in_quotes(text));
        }
        return fmt::format("{}: {} is not an IPv4 or IPv6 address", where, in_quotes(text));
      }
      if (const auto v4 = ip->mapped_v4()) {
        return fmt::format("{}: {} is an IPv4-mapped IPv6 address; write it as \"{}\"", where, in_quotes(text),
                           v4->to_string());
      }
      if (std::find(ips.begin(), ips.end(), *ip) != ips.end()) {
        return fmt::format("{}: {} is listed twice", where, in_quotes(text));
      }
      ips.push_back(*ip);
    }
    if (key == "ordinary_ips" && ips.empty()) {
      return fmt::format("{}: the list is empty; the sender needs at least one ordinary sending address",
                         in_quotes(key));
    }
    out = std::move(ips);
    return {};
  }

  /// Reads a host name; `where` is the quoted field (and index) for messages.
  static Problem
  read_host(const std::string& where, const Json& value, std::string& out)
  {
    std::string host;
    if (auto problem = expect_string(where, value, "a host name string, like \"directo.gate.ee\"", host);
        !problem.empty()) {
      return problem;
    }
    if (auto problem = host_name_problem(host, false, true); !problem.empty()) {
      return fmt::format("{}: {} is not a host name: it {}", where, in_quotes(host), problem);
    }
    out = util::normalize_name(host);
    return {};
  }

  Problem
  read_hosts(const std::string& key, const Json& value)
  {
    if (!value.is_array()) {
      return fmt::format("{}: expected an array of host names, like [\"login.directo.ee\"], got {}", in_quotes(key),
                         describe_type(value));
    }
    std::vector<std::string> hosts;
    for (size_t i = 0; i < value.size(); ++i) {
      std::string host;
      if (auto problem = read_host(fmt::format("{}[{}]", in_quotes(key), i), value[i], host); !problem.empty()) {
        return problem;
      }
      if (std::find(hosts.begin(), hosts.end(), host) != hosts.end()) {
        return fmt::format("{}[{}]: {} is listed twice", in_quotes(key), i, in_quotes(host));
      }
      hosts.push_back(host);
    }
    m_profile.other_hosts = std::move(hosts);
    return {};
  }

  Problem
  read_selector(const std::string& key, const Json& value)
  {
    std::string selector;
    if (auto problem = expect_string(in_quotes(key), value, "a DKIM selector string, like \"directo\"", selector);
        !problem.empty()) {
      return problem;
    }
    if (auto problem = host_name_problem(selector, true, false); !problem.empty()) {
      return fmt::format("{}: {} is not a DKIM selector: it {}", in_quotes(key), in_quotes(selector), problem);
    }
    m_profile.dkim_selector = util::normalize_name(selector);
    return {};
  }

  Problem
  read_minimal_spf(const std::string& key, const Json& value)
  {
    std::string record;
    if (auto problem = expect_string(in_quotes(key), value, "an SPF record string, like \"v=spf1 mx a:directo.gate.ee "
                                                         "-all\"",
                                     record);
        !problem.empty()) {
      return problem;
    }
    const bool versioned =
      util::istarts_with(record, "v=spf1") && (record.size() == 6 || record[6] == ' ');
    if (!versioned || !printable_ascii(record)) {
      return fmt::format("{}: {} is not an SPF record (it must start with \"v=spf1 \" and be printable ASCII)",
                         in_quotes(key), in_quotes(record));
    }
    m_profile.minimal_spf = record;
    return {};
  }

  Problem
  read_reply_to(const std::string& key, const Json& value)
  {
    std::string address;
    if (auto problem = expect_string(in_quotes(key), value, "a mail address string, like "
                                                         "\"<company>@event.data.directo.ee\"",
                                     address);
        !problem.empty()) {
      return problem;
    }
    const auto at = address.rfind('@');
    const bool shaped = at != std::string::npos && at > 0 && printable_ascii(address)
                        && address.find(' ') == std::string::npos
                        && host_name_problem(std::string_view(address).substr(at + 1), false, true).empty();
    if (!shaped) {
      return fmt::format("{}: {} is not a mail address (expected LOCAL@DOMAIN, like "
                         "\"<company>@event.data.directo.ee\"; <company> stands for the customer's name)",
                         in_quotes(key), in_quotes(address));
    }
    m_profile.reply_to_sender = address;
    return {};
  }

  /// Problems between fields: an address both ordinary and bulk.
  Problem
  cross_check() const
  {
    for (size_t i = 0; i < m_profile.bulk_ips.size(); ++i) {
      const auto& ip = m_profile.bulk_ips[i];
      if (std::find(m_profile.ordinary_ips.begin(), m_profile.ordinary_ips.end(), ip)
          != m_profile.ordinary_ips.end()) {
        return fmt::format("'bulk_ips'[{}]: '{}' is also in 'ordinary_ips' (an address is either ordinary or bulk)",
                           i, ip.to_string());
      }
    }
    return {};
  }

  SenderProfile& m_profile;
};


} // namespace

util::Result<SenderProfile, std::string>
parse_profile(std::string_view text, const std::string& origin)
{
  // Duplicate keys: nlohmann keeps the last one silently, so the parser callback watches for them (a field given
  // twice is as likely a mistake as a typo).
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  const auto watch = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == Json::parse_event_t::object_end && !keys.empty()) {
      keys.pop_back();
    } else if (event == Json::parse_event_t::key && !keys.empty() && parsed.is_string()) {
      const auto key = parsed.get<std::string>();
      if (!keys.back().insert(key).second && duplicate.empty()) {
        duplicate = key;
      }
    }
    return true;
  };
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return util::unexpected(
      fmt::format("{}: the file is empty; a profile is a JSON object such as {{\"bulk_ips\": []}} (see docs/profile.md)",
                  origin));
  }
  Json root;
  try {
    root = Json::parse(text.begin(), text.end(), watch);
  } catch (const Json::parse_error& error) {
    std::string message = error.what();
    if (const auto bracket = message.find("] "); message.starts_with("[json.exception") && bracket != message.npos) {
      message.erase(0, bracket + 2);
    }
    return util::unexpected(fmt::format("{}: not valid JSON: {}", origin, message));
  }
  if (!duplicate.empty()) {
    return util::unexpected(fmt::format("{}: field {} is given twice", origin, in_quotes(duplicate)));
  }
  SenderProfile profile = directo_profile();
  ProfileReader reader(profile);
  if (auto problem = reader.read(root); !problem.empty()) {
    return util::unexpected(fmt::format("{}: {}", origin, problem));
  }
  profile.source = origin;
  return profile;
}

util::Result<SenderProfile, std::string>
load_profile(const std::string& path)
{
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return util::unexpected(fmt::format("cannot read the profile {}: {}", path, std::strerror(errno)));
  }
  std::string text;
  char buffer[4096];
  bool failed = false;
  int error = 0;
  while (true) {
    const size_t got = std::fread(buffer, 1, sizeof buffer, file);
    text.append(buffer, got);
    if (got < sizeof buffer) {
      if (std::ferror(file)) {
        failed = true;
        error = errno;
      }
      break;
    }
    if (text.size() > k_max_file_size) {
      break;
    }
  }
  std::fclose(file);
  if (failed) {
    return util::unexpected(fmt::format("cannot read the profile {}: {}", path, std::strerror(error)));
  }
  if (text.size() > k_max_file_size) {
    return util::unexpected(
      fmt::format("{}: larger than 1 MiB; a profile file is a small JSON object (see docs/profile.md)", path));
  }
  return parse_profile(text, path);
}

std::string
profile_to_file_json(const SenderProfile& profile)
{
  Json out;
  out["name"] = profile.name;
  out["ordinary_ips"] = dns::to_strings(profile.ordinary_ips);
  out["bulk_ips"] = dns::to_strings(profile.bulk_ips);
  out["sending_host"] = profile.sending_host;
  out["other_hosts"] = profile.other_hosts;
  out["dkim_selector"] = profile.dkim_selector;
  out["dkim_reference_domain"] = profile.dkim_reference_domain;
  out["default_signing_domain"] = profile.default_signing_domain;
  out["minimal_spf"] = profile.minimal_spf;
  out["reply_to_sender"] = profile.reply_to_sender;
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace sendcheck
