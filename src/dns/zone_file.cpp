#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
// libzscanner's header has no extern "C" of its own.
extern "C"
{
#include <libzscanner/scanner.h>
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace sendcheck::dns {

namespace {

constexpr uint16_t k_class_in = 1;
constexpr uint32_t k_default_ttl = 3600;
constexpr uint16_t k_type_a = 1;
constexpr uint16_t k_type_cname = 5;
constexpr uint16_t k_type_soa = 6;
constexpr uint16_t k_type_ptr = 12;
constexpr uint16_t k_type_mx = 15;
constexpr uint16_t k_type_txt = 16;
constexpr uint16_t k_type_aaaa = 28;

/// One record taken from the file, kept until the whole file has parsed.
struct PendingRecord
{
  uint16_t type = 0;
  std::string owner;
  IpAddress address;
  uint16_t preference = 0;
  std::string target;               ///< MX exchange, PTR or CNAME target.
  std::vector<std::string> strings; ///< TXT.
};

/// What the scanner callbacks collect.
struct LoadState
{
  std::vector<PendingRecord> records;
  std::vector<std::string> apexes;
  std::string first_origin; ///< The origin in effect at the first record.
  std::string first_soa;
  bool seen_record = false;
  size_t skipped = 0;

  bool failed = false;
  int error_code = 0;
  uint64_t error_line = 0;
  std::string error_file;
  std::string error_detail; ///< Our own reason, when the scanner's record was fine but its data was not.
};

/// The presentation form of the wire-format name at `wire` (at most `length` octets), without the trailing dot;
/// empty for the root. Returns nullopt when the name runs past `length`.
std::optional<std::string>
wire_name_to_text(const uint8_t* wire, size_t length, size_t* consumed = nullptr)
{
  std::string text;
  text.reserve(length >= 2 ? length - 2 : 0); // the text of an undotted, unescaped name
  size_t pos = 0;
  while (pos < length) {
    const uint8_t label_length = wire[pos++];
    if (label_length == 0) {
      if (consumed != nullptr) {
        *consumed = pos;
      }
      return text;
    }
    if (label_length > 63 || pos + label_length > length) {
      return std::nullopt;
    }
    if (!text.empty()) {
      text += '.';
    }
    const auto* label = reinterpret_cast<const char*>(wire + pos);
    const auto needs_escape = [](char c) {
      const auto octet = static_cast<unsigned char>(c);
      return c == '.' || c == '\\' || octet <= 0x20 || octet >= 0x7f;
    };
    if (std::none_of(label, label + label_length, needs_escape)) {
      text.append(label, label_length); // the usual case: letters, digits, '-' and '_'
    } else {
      for (size_t i = 0; i < label_length; ++i) {
        const auto c = static_cast<unsigned char>(label[i]);
        if (c == '.' || c == '\\') {
          text += '\\';
          text += static_cast<char>(c);
        } else if (c <= 0x20 || c >= 0x7f) {
          text += fmt::format("\\{:03d}", c);
        } else {
          text += static_cast<char>(c);
        }
      }
    }
    pos += label_length;
  }
  return std::nullopt;
}

/// What the scanner expected when it reported `code`, in plain words (empty when its own message says it all).
std::string_view
expectation(int code)
{
  switch (code) {
    case ZS_UNSUPPORTED_TYPE:
      return "expected a record type such as A, AAAA, MX, TXT, CNAME, PTR, NS or SOA (or a TTL or class before it)";
    case ZS_BAD_PREVIOUS_OWNER:
      return "the first record needs an owner name at the start of its line (a line starting with a space or tab "
             "reuses the previous record's owner)";
    case ZS_BAD_DNAME_CHAR:
    case ZS_BAD_OWNER:
      return "expected a domain name: labels of letters, digits, '-' and '_' separated by dots; escape other "
             "characters with a backslash";
    case ZS_LABEL_OVERFLOW:
      return "each label (the part between dots) of a name can be at most 63 characters";
    case ZS_DNAME_OVERFLOW:
      return "a domain name can be at most 255 octets on the wire (about 253 characters)";
    case ZS_BAD_NUMBER:
    case ZS_NUMBER64_OVERFLOW:
    case ZS_NUMBER32_OVERFLOW:
    case ZS_NUMBER16_OVERFLOW:
    case ZS_NUMBER8_OVERFLOW:
      return "expected a number in range here (a TTL, an MX preference 0-65535, ...), or a known record type";
    case ZS_BAD_IPV4:
      return "expected an IPv4 address such as 192.0.2.1";
    case ZS_BAD_ADDRESS_CHAR:
      return "expected an IP address: IPv4 such as 192.0.2.1 for A, IPv6 such as 2001:db8::1 for AAAA";
    case ZS_BAD_IPV6:
      return "expected an IPv6 address such as 2001:db8::1";
    case ZS_TEXT_OVERFLOW:
      return "one quoted string can hold at most 255 characters; split a longer TXT value into several quoted "
             "strings on the same record, like \"first part\" \"second part\"";
    case ZS_BAD_TEXT_CHAR:
    case ZS_BAD_TEXT:
      return "expected text: a quoted string (\"...\", with \\\" for a quote inside) or a word without spaces; "
             "check that every opening quote is closed";
    case ZS_UNCLOSED_MULTILINE:
    case ZS_LEFT_PARENTHESIS:
      return "a '(' was not closed by ')' before the end of the file";
    case ZS_RIGHT_PARENTHESIS:
      return "a ')' has no matching '('";
    case ZS_BAD_TTL:
    case ZS_BAD_TIME_UNIT:
      return "expected a TTL: a number of seconds, optionally with a unit (s, m, h, d, w)";
    case ZS_BAD_ORIGIN:
      return "expected $ORIGIN followed by an absolute domain name ending in '.', such as $ORIGIN example.ee.";
    case ZS_BAD_DIRECTIVE:
      return "expected one of the directives $ORIGIN, $TTL or $INCLUDE";
    case ZS_BAD_REST:
      return "unexpected text after the record's data; put comments after ';'";
    case ZS_BAD_RDATA:
    case ZS_BAD_RDATA_LENGTH:
      return "the record's data does not fit its type (MX needs a preference and a name, A an IPv4 address, ...)";
    case ZS_DOS_NEWLINE:
      return "the file has Windows (CRLF) line ends; convert it to Unix line ends";
    case ZS_UNOPENED_INCLUDE:
    case ZS_BAD_INCLUDE_FILENAME:
      return "the file named by $INCLUDE could not be read";
    default:
      return {};
  }
}

void
fail_record(zs_scanner_t* scanner, LoadState& state, std::string detail)
{
  state.failed = true;
  state.error_line = scanner->line_counter;
  state.error_file = scanner->file.name != nullptr ? scanner->file.name : "";
  state.error_detail = std::move(detail);
  scanner->state = ZS_STATE_STOP;
}

void
on_record(zs_scanner_t* scanner)
{
  auto& state = *static_cast<LoadState*>(scanner->process.data);
  if (state.failed) {
    scanner->state = ZS_STATE_STOP;
    return;
  }
  auto owner = wire_name_to_text(scanner->r_owner, scanner->r_owner_length);
  if (!owner) {
    fail_record(scanner, state, "the owner name is malformed");
    return;
  }
  if (!state.seen_record) {
    state.seen_record = true;
    state.first_origin = wire_name_to_text(scanner->zone_origin, scanner->zone_origin_length).value_or("");
  }

  const uint8_t* data = scanner->r_data;
  const size_t length = scanner->r_data_length;
  PendingRecord record;
  record.type = scanner->r_type;

  switch (scanner->r_type) {
    case k_type_a:
    case k_type_aaaa:
      if (length == 4) {
        record.address = IpAddress::v4({ data[0], data[1], data[2], data[3] });
      } else if (length == 16) {
        std::array<uint8_t, 16> octets{};
        std::memcpy(octets.data(), data, 16);
        record.address = IpAddress::v6(octets);
      } else {
        fail_record(scanner, state, "the address has the wrong length");
        return;
      }
      break;
    case k_type_mx: {
      if (length < 3) {
        fail_record(scanner, state, "the MX record needs a preference and an exchange name");
        return;
      }
      record.preference = static_cast<uint16_t>((data[0] << 8) | data[1]);
      auto exchange = wire_name_to_text(data + 2, length - 2);
      if (!exchange) {
        fail_record(scanner, state, "the MX exchange name is malformed");
        return;
      }
      record.target = std::move(*exchange);
      break;
    }
    case k_type_ptr:
    case k_type_cname: {
      auto target = wire_name_to_text(data, length);
      if (!target) {
        fail_record(scanner, state, "the target name is malformed");
        return;
      }
      record.target = std::move(*target);
      break;
    }
    case k_type_txt: {
      size_t pos = 0;
      while (pos < length) {
        const size_t piece = data[pos++];
        if (pos + piece > length) {
          fail_record(scanner, state, "the TXT data is malformed");
          return;
        }
        record.strings.emplace_back(reinterpret_cast<const char*>(data + pos), piece);
        pos += piece;
      }
      break;
    }
    case k_type_soa:
      if (state.first_soa.empty()) {
        state.first_soa = owner->empty() ? "." : *owner;
      }
      state.apexes.push_back(*owner);
      ++state.skipped;
      return;
    default:
      ++state.skipped;
      return;
  }
  record.owner = std::move(*owner);
  state.records.push_back(std::move(record));
}

void
on_error(zs_scanner_t* scanner)
{
  auto& state = *static_cast<LoadState*>(scanner->process.data);
  if (!state.failed) {
    state.failed = true;
    state.error_code = scanner->error.code;
    state.error_line = scanner->line_counter;
    state.error_file = scanner->file.name != nullptr ? scanner->file.name : "";
  }
  scanner->state = ZS_STATE_STOP;
}

/// The scanner's message for `code` followed by what was expected.
std::string
describe(int code)
{
  std::string message = zs_strerror(code);
  const auto expected = expectation(code);
  if (!expected.empty()) {
    message += ": ";
    message += expected;
  }
  return message;
}

/// Frees a scanner's resources (files, buffers) when it goes out of scope.
struct ScannerDeleter
{
  void operator()(zs_scanner_t* scanner) const
  {
    zs_deinit(scanner);
    delete scanner;
  }
};
using ScannerPtr = std::unique_ptr<zs_scanner_t, ScannerDeleter>;

/// Which input `load` reads.
enum class InputKind : uint8_t
{
  file,
  text
};

util::Result<ZoneFileInfo, ZoneFileError>
load(ZoneResolver& zone,
     InputKind kind,
     const std::string& path_or_source,
     std::string_view text,
     std::string_view default_origin)
{
  ZoneFileError error;
  error.file = path_or_source;

  std::string origin = default_origin.empty() ? "." : std::string(default_origin);
  if (!origin.ends_with('.')) {
    origin += '.';
  }

  auto* raw = new zs_scanner_t{};
  if (zs_init(raw, origin.c_str(), k_class_in, k_default_ttl) != 0) {
    const int code = raw->error.code;
    zs_deinit(raw);
    delete raw;
    error.message = fmt::format("the origin \"{}\" is not a valid domain name ({})", default_origin, zs_strerror(code));
    return util::unexpected(std::move(error));
  }
  ScannerPtr scanner(raw);

  if (kind == InputKind::file) {
    // Check the file ourselves first: the scanner's messages for these cases are vaguer than errno's.
    const int fd = ::open(path_or_source.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error.message = fmt::format("cannot open the zone file: {}", std::strerror(errno));
      return util::unexpected(std::move(error));
    }
    struct stat info = {};
    const int stat_result = ::fstat(fd, &info);
    ::close(fd);
    if (stat_result != 0 || !S_ISREG(info.st_mode)) {
      error.message = "cannot read the zone file: it is not a regular file";
      return util::unexpected(std::move(error));
    }
    if (zs_set_input_file(scanner.get(), path_or_source.c_str()) != 0) {
      error.message = fmt::format("cannot read the zone file: {}", zs_strerror(scanner->error.code));
      return util::unexpected(std::move(error));
    }
  } else if (zs_set_input_string(scanner.get(), text.data(), text.size()) != 0) {
    error.message = fmt::format("cannot read the zone: {}", zs_strerror(scanner->error.code));
    return util::unexpected(std::move(error));
  }

  LoadState state;
  if (zs_set_processing(scanner.get(), on_record, on_error, &state) != 0) {
    error.message = fmt::format("cannot set up the zone parser: {}", zs_strerror(scanner->error.code));
    return util::unexpected(std::move(error));
  }
  const int parse_result = zs_parse_all(scanner.get());

  if (state.failed || parse_result != 0 || scanner->error.counter != 0) {
    if (!state.error_file.empty()) {
      error.file = state.error_file;
    }
    if (state.failed) {
      error.line = state.error_line;
      error.message = !state.error_detail.empty() ? state.error_detail : describe(state.error_code);
    } else {
      error.line = scanner->line_counter;
      error.message = describe(scanner->error.code);
    }
    return util::unexpected(std::move(error));
  }

  ZoneFileInfo info;
  if (!state.first_soa.empty()) {
    info.origin = state.first_soa == "." ? "" : util::normalize_name(state.first_soa);
  } else if (state.seen_record) {
    info.origin = util::normalize_name(state.first_origin);
  } else {
    info.origin =
      util::normalize_name(wire_name_to_text(scanner->zone_origin, scanner->zone_origin_length).value_or(""));
  }
  if (!info.origin.empty()) {
    zone.add_apex(info.origin);
  }
  for (const auto& apex : state.apexes) {
    if (!apex.empty()) {
      zone.add_apex(apex);
    }
  }

  for (auto& record : state.records) {
    switch (record.type) {
      case k_type_a:
      case k_type_aaaa:
        zone.add_address(record.owner, record.address);
        break;
      case k_type_mx:
        zone.add_mx(record.owner, record.preference, record.target);
        break;
      case k_type_ptr:
        zone.add_ptr(record.owner, record.target);
        break;
      case k_type_cname:
        zone.add_cname(record.owner, record.target);
        break;
      case k_type_txt:
        zone.add_txt(record.owner, std::move(record.strings));
        break;
      default:
        break;
    }
  }
  info.record_count = state.records.size();
  info.skipped_types = state.skipped;
  return info;
}

} // namespace

util::Result<ZoneFileInfo, ZoneFileError>
load_zone_file(ZoneResolver& zone, const std::string& path, std::string_view default_origin)
{
  return load(zone, InputKind::file, path, {}, default_origin);
}

util::Result<ZoneFileInfo, ZoneFileError>
load_zone_text(ZoneResolver& zone, std::string_view text, const std::string& source, std::string_view default_origin)
{
  return load(zone, InputKind::text, source, text, default_origin);
}

std::string
to_string(const ZoneFileError& error)
{
  if (error.line == 0) {
    return fmt::format("{}: {}", error.file, error.message);
  }
  if (error.column == 0) {
    return fmt::format("{}:{}: {}", error.file, error.line, error.message);
  }
  return fmt::format("{}:{}:{}: {}", error.file, error.line, error.column, error.message);
}

} // namespace sendcheck::dns
