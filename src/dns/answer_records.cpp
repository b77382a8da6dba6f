#include <sendcheck/dns/answer_records.hpp>
#include <sendcheck/dns/cares_resolver.hpp>
#include <sendcheck/util/strings.hpp>

#include "wire.hpp"

#include <ares.h>

#include <algorithm>
#include <array>
#include <optional>

// Each check below names the c-ares 1.18 code it mirrors: ares_parse_txt_reply.c (ares__parse_txt_reply),
// ares_parse_mx_reply.c, ares__parse_into_addrinfo.c (behind ares_parse_a_reply.c and ares_parse_aaaa_reply.c,
// with ares__addrinfo2addrttl picking one family) and ares_expand_name.c (name_length and
// ares__expand_name_validated; wire_name_length mirrors its checks of the encoding).

namespace sendcheck::dns {

namespace {

using wire::k_class_chaos;
using wire::k_class_in;
using wire::k_header_size;
using wire::k_pointer_prefix;
using wire::k_question_fixed_size;
using wire::k_rr_fixed_size;
using wire::k_type_cname;
using wire::read16;

/// What ares_expand_name does with an octet of a label.
enum class OctetClass : uint8_t {
  hostname,  ///< Written as it is, and allowed in a host name (is_hostnamech: [A-Za-z0-9-_/], '.' being reserved).
  printable, ///< Written as it is (ares__isprint: 0x20-0x7e), not allowed in a host name.
  reserved,  ///< Written after a backslash (is_reservedch: " . ; \ ( ) @ $), not allowed in a host name.
  escaped,   ///< Written as \DDD (outside ares__isprint), not allowed in a host name.
};

/// The OctetClass of every octet. is_hostnamech in 1.18.1 has no '*' (a later release added it).
constexpr std::array<OctetClass, 256>
make_octet_classes()
{
  std::array<OctetClass, 256> classes{};
  for (unsigned c = 0; c < 256; ++c) {
    const bool hostname = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                          || c == '_' || c == '/';
    const bool reserved = c == '"' || c == '.' || c == ';' || c == '\\' || c == '(' || c == ')' || c == '@' || c == '$';
    classes[c] = c < 0x20 || c > 0x7e ? OctetClass::escaped
                 : reserved           ? OctetClass::reserved
                 : hostname           ? OctetClass::hostname
                                      : OctetClass::printable;
  }
  return classes;
}

constexpr std::array<OctetClass, 256> k_octet_classes = make_octet_classes();

/// For each octet: lower-cased when it is a host name character (OctetClass::hostname), else 0 (no host name
/// character is 0), so that copying a host name label lower-cased takes one look-up and one test per octet.
constexpr std::array<char, 256> k_hostname_lower = [] {
  std::array<char, 256> lower{};
  for (unsigned c = 0; c < 256; ++c) {
    if (k_octet_classes[c] == OctetClass::hostname) {
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  return lower;
}();

/// How many records the answer section at `pos` of `message` can hold, at most `answers`: each takes at least 11
/// octets (an owner of one octet and the fixed part). Room for that many is reserved at once, so that the records
/// are not moved as the vector grows, without trusting a hostile count.
size_t
record_room(std::span<const unsigned char> message, size_t pos, uint16_t answers)
{
  return std::min<size_t>(answers, (message.size() - std::min(pos, message.size())) / (1 + k_rr_fixed_size));
}

/// Whether a name must be a host name (ares__expand_name_validated's is_hostname).
enum class NameKind : uint8_t { any, hostname };

/// Writes to `out` the text ares__expand_name_validated makes of the name at `at`, which wire_name_length accepted:
/// labels joined by dots, a reserved character after a backslash, a byte outside printable ASCII as \DDD except the
/// one octet 0 of a one-octet label, which is written as it is (the "root name response" case), and the root name
/// as "". False when `kind` is `hostname` and a byte is outside [A-Za-z0-9-_/] (name_length returns -1).
bool
expand_text(std::span<const unsigned char> message, size_t at, NameKind kind, std::string& out)
{
  const bool hostname = kind == NameKind::hostname;
  out.clear();
  size_t pos = at;
  while (message[pos] != 0) {
    const unsigned octet = message[pos];
    if ((octet & k_pointer_prefix) == k_pointer_prefix) {
      pos = ((octet & ~k_pointer_prefix) << 8) | message[pos + 1];
      continue;
    }
    if (!out.empty()) {
      out += '.'; // every label writes at least one character, so the text is empty only before the first
    }
    const size_t length = octet;
    const auto* label = reinterpret_cast<const char*>(message.data() + pos + 1);
    // Nearly every label is host name characters only: written in one piece.
    size_t plain = 0;
    while (plain < length && k_octet_classes[static_cast<unsigned char>(label[plain])] == OctetClass::hostname) {
      ++plain;
    }
    out.append(label, plain);
    for (size_t i = plain; i < length; ++i) {
      const auto c = static_cast<unsigned char>(label[i]);
      const OctetClass octet_class = k_octet_classes[c];
      if (hostname && octet_class != OctetClass::hostname) {
        return false;
      }
      if (octet_class == OctetClass::escaped && !(length == 1 && c == 0)) {
        const std::array<char, 4> escaped = { '\\', static_cast<char>('0' + c / 100),
                                              static_cast<char>('0' + c % 100 / 10), static_cast<char>('0' + c % 10) };
        out.append(escaped.data(), escaped.size());
      } else {
        if (octet_class == OctetClass::reserved) {
          out += '\\';
        }
        out += static_cast<char>(c);
      }
    }
    pos += length + 1;
  }
  return true;
}

/// `text` as a C string sees it: up to its first NUL (a one-octet label holding 0 puts one there).
std::string_view
as_c_string(const std::string& text)
{
  return std::string_view(text.c_str());
}

/// The name that must own the addresses (ares__parse_into_addrinfo's hostname): the name asked, then each CNAME
/// target. Its text (in RecordsScratch::hostname) is spelled out only when an owner must be compared with it as text.
struct AddressOwner
{
  size_t at = 0;        ///< Where the name is written in the message (wire_name_length accepted it).
  bool spelled = false; ///< Whether RecordsScratch::hostname holds its text.
};

/// Whether the owner at `at` equals `owner`'s name as strcasecmp compares the two C strings (ASCII case, up to a
/// NUL).
bool
owner_is(std::span<const unsigned char> message, size_t at, AddressOwner& owner, RecordsScratch& scratch)
{
  // An owner written as a pointer to the name itself (0xc00c for the name asked, as servers write it) spells the
  // same text: nearly every record, and neither name needs spelling out. step_record checked that it fits.
  if (wire::points_to(message, at, owner.at)) {
    return true;
  }
  if (!owner.spelled) {
    expand_text(message, owner.at, NameKind::any, scratch.hostname);
    owner.spelled = true;
  }
  expand_text(message, at, NameKind::any, scratch.name);
  return util::iequals(as_c_string(scratch.name), as_c_string(scratch.hostname));
}

/// The position and length of the record at `pos` (its owner name at `pos`), or the error c-ares gives there.
struct RecordAt
{
  size_t owner = 0;
  uint16_t type = 0;
  uint16_t rr_class = 0;
  size_t rdata = 0;
  uint16_t rdlength = 0;
};

/// Steps over the record at `pos`: its owner (name_error when ares_expand_name refuses it), the fixed part and the
/// data, each of which must fit in the message (EBADRESP otherwise), as every ares_parse_*_reply checks them.
/// `question` is the name asked, when it holds no pointer.
std::optional<RecordsStatus>
step_record(std::span<const unsigned char> message, const wire::CheckedName& question, size_t& pos,
            RecordsStatus name_error, RecordAt& record)
{
  const size_t size = message.size();
  record.owner = pos;
  const auto length = question.length_at(message, pos);
  if (!length) {
    return name_error;
  }
  pos += *length;
  if (pos + k_rr_fixed_size > size) {
    return RecordsStatus::bad_response;
  }
  record.type = read16(message.data() + pos);
  record.rr_class = read16(message.data() + pos + 2);
  record.rdlength = read16(message.data() + pos + 8);
  pos += k_rr_fixed_size;
  if (pos + record.rdlength > size) {
    return RecordsStatus::bad_response;
  }
  record.rdata = pos;
  pos += record.rdlength;
  return std::nullopt;
}

/// ares__parse_into_addrinfo (cname_only_is_enodata 0), keeping the addresses of `answer.type`'s family as
/// ares__addrinfo2addrttl does. `pos` is just after the question, whose name starts at `question`.
RecordsStatus
parse_addresses(std::span<const unsigned char> message, const wire::CheckedName& question, size_t question_at,
                size_t pos, uint16_t answers, Answer& answer, RecordsScratch& scratch)
{
  AddressOwner owner{ question_at, false };
  const bool want_v4 = answer.type == RRType::a;
  bool got_address = false; // got_a || got_aaaa: an address of either family counts
  bool got_cname = false;
  for (unsigned i = 0; i < answers; ++i) {
    RecordAt record;
    // ares__expand_name_for_response turns EBADNAME into EBADRESP.
    if (const auto error = step_record(message, question, pos, RecordsStatus::bad_response, record)) {
      answer.addresses.clear();
      return *error;
    }
    if (record.rr_class != k_class_in) {
      continue;
    }
    const bool is_a = record.type == static_cast<uint16_t>(RRType::a) && record.rdlength == 4;
    const bool is_aaaa = record.type == static_cast<uint16_t>(RRType::aaaa) && record.rdlength == 16;
    if ((is_a || is_aaaa) && owner_is(message, record.owner, owner, scratch)) {
      got_address = true;
      const unsigned char* data = message.data() + record.rdata;
      if (is_a && want_v4) {
        answer.addresses.push_back(IpAddress::v4({ data[0], data[1], data[2], data[3] }));
      } else if (is_aaaa && !want_v4) {
        std::array<uint8_t, 16> octets{};
        std::copy(data, data + octets.size(), octets.begin());
        answer.addresses.push_back(IpAddress::v6(octets));
      }
    } else if (record.type == k_type_cname) {
      // The target must be a host name (is_hostname 1); it becomes the name that later records must own, whoever
      // owns the CNAME (c-ares: "Seems wrong as it introduces order dependency").
      got_cname = true;
      if (wire_name_length(message, record.rdata) == std::nullopt
          || !expand_text(message, record.rdata, NameKind::hostname, scratch.hostname)) {
        answer.addresses.clear();
        return RecordsStatus::bad_response;
      }
      owner = AddressOwner{ record.rdata, true };
    }
  }
  return got_address || got_cname ? RecordsStatus::ok : RecordsStatus::no_data;
}

/// ares__parse_txt_reply (ex 1): each length-prefixed piece must end within the record's data (EBADRESP).
RecordsStatus
parse_txt(std::span<const unsigned char> message, const wire::CheckedName& question, size_t pos, uint16_t answers,
          Answer& answer)
{
  answer.txt.reserve(record_room(message, pos, answers));
  for (unsigned i = 0; i < answers; ++i) {
    RecordAt record;
    if (const auto error = step_record(message, question, pos, RecordsStatus::bad_name, record)) {
      answer.txt.clear();
      return *error;
    }
    if ((record.rr_class != k_class_in && record.rr_class != k_class_chaos)
        || record.type != static_cast<uint16_t>(RRType::txt)) {
      continue;
    }
    const size_t end = record.rdata + record.rdlength;
    for (size_t piece = record.rdata; piece < end;) {
      const size_t length = message[piece];
      if (piece + length + 1 > end) {
        answer.txt.clear();
        return RecordsStatus::bad_response;
      }
      if (piece == record.rdata) {
        answer.txt.emplace_back(); // record_start: a record with no data gives none
      }
      answer.txt.back().strings.emplace_back(reinterpret_cast<const char*>(message.data() + piece + 1), length);
      piece += length + 1;
    }
  }
  return RecordsStatus::ok;
}

/// The MX exchange at `at` (wire_name_length accepted it) as ares_parse_mx_reply spells it, normalized: the text of
/// expand_text, cut at a NUL, without a trailing dot, lower-cased. A name of host name characters only (nearly every
/// exchange) has no escape, NUL or trailing dot in its text, so its labels are copied lower-cased straight into the
/// result: one pass and one string, where spelling it out and then normalizing it walked and copied it twice.
std::string
exchange_name(std::span<const unsigned char> message, size_t at, RecordsScratch& scratch)
{
  std::array<char, 256> text; // longer names (pointers can make them so) take the general way
  size_t length = 0;
  bool plain = true;
  for (size_t pos = at; plain && message[pos] != 0;) {
    const unsigned octet = message[pos];
    if ((octet & k_pointer_prefix) == k_pointer_prefix) {
      pos = ((octet & ~k_pointer_prefix) << 8) | message[pos + 1];
      continue;
    }
    if (length + octet + 1 > text.size()) {
      plain = false;
      break;
    }
    if (length != 0) {
      text[length++] = '.';
    }
    for (size_t i = pos + 1; i <= pos + octet; ++i) {
      const char lower = k_hostname_lower[message[i]];
      if (lower == 0) {
        plain = false;
        break;
      }
      text[length++] = lower;
    }
    pos += octet + 1;
  }
  if (plain) {
    return std::string(text.data(), length);
  }
  expand_text(message, at, NameKind::any, scratch.name);
  return util::normalize_name(as_c_string(scratch.name));
}

/// ares_parse_mx_reply: data of at least 2 octets (EBADRESP), then the exchange, read with ares_expand_name
/// (EBADNAME), which may run past the record's data as long as it stays in the message.
RecordsStatus
parse_mx(std::span<const unsigned char> message, const wire::CheckedName& question, size_t pos, uint16_t answers,
         Answer& answer, RecordsScratch& scratch)
{
  answer.mx.reserve(record_room(message, pos, answers));
  for (unsigned i = 0; i < answers; ++i) {
    RecordAt record;
    if (const auto error = step_record(message, question, pos, RecordsStatus::bad_name, record)) {
      answer.mx.clear();
      return *error;
    }
    if (record.rr_class != k_class_in || record.type != static_cast<uint16_t>(RRType::mx)) {
      continue;
    }
    if (record.rdlength < 2) {
      answer.mx.clear();
      return RecordsStatus::bad_response;
    }
    const size_t exchange = record.rdata + 2;
    if (!wire_name_length(message, exchange)) {
      answer.mx.clear();
      return RecordsStatus::bad_name;
    }
    answer.mx.push_back(MxRecord{ read16(message.data() + record.rdata), exchange_name(message, exchange, scratch) });
  }
  return RecordsStatus::ok;
}

} // namespace

RecordsStatus
parse_answer_records(std::span<const unsigned char> message, Answer& answer, RecordsScratch& scratch)
{
  if (answer.type == RRType::ptr) {
    return RecordsStatus::ok;
  }
  const bool addresses = answer.type == RRType::a || answer.type == RRType::aaaa;
  // Every parser: "Give up if abuf doesn't have room for a header", and exactly one question.
  const size_t size = message.size();
  if (size < k_header_size || read16(message.data() + 4) != 1) {
    return RecordsStatus::bad_response;
  }
  const uint16_t answers = read16(message.data() + 6);
  // TXT and MX say ENODATA for no answer record before reading the question; A/AAAA read it first.
  if (!addresses && answers == 0) {
    return RecordsStatus::no_data;
  }
  // The question's name (EBADNAME from ares_expand_name; EBADRESP from ares__expand_name_for_response for
  // A/AAAA), then its type and class must fit.
  size_t pos = k_header_size;
  const auto length = wire_name_length(message, pos);
  if (!length) {
    return addresses ? RecordsStatus::bad_response : RecordsStatus::bad_name;
  }
  if (pos + *length + k_question_fixed_size > size) {
    return RecordsStatus::bad_response;
  }
  const wire::CheckedName question(message, pos);
  const size_t question_at = pos;
  pos += *length + k_question_fixed_size;
  switch (answer.type) {
    case RRType::a:
    case RRType::aaaa:
      return parse_addresses(message, question, question_at, pos, answers, answer, scratch);
    case RRType::txt:
      return parse_txt(message, question, pos, answers, answer);
    case RRType::mx:
      return parse_mx(message, question, pos, answers, answer, scratch);
    case RRType::ptr:
      break;
  }
  return RecordsStatus::ok;
}

RecordsStatus
parse_answer_records(std::span<const unsigned char> message, Answer& answer)
{
  RecordsScratch scratch;
  return parse_answer_records(message, answer, scratch);
}

int
to_ares_status(RecordsStatus status)
{
  switch (status) {
    case RecordsStatus::ok:
      return ARES_SUCCESS;
    case RecordsStatus::no_data:
      return ARES_ENODATA;
    case RecordsStatus::bad_response:
      return ARES_EBADRESP;
    case RecordsStatus::bad_name:
      return ARES_EBADNAME;
  }
  return ARES_EBADRESP;
}

} // namespace sendcheck::dns
