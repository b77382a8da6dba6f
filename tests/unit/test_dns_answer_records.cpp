// dns::parse_answer_records against the c-ares 1.18 parsers it replaces (ares_parse_a_reply, ares_parse_aaaa_reply,
// ares_parse_mx_reply, ares_parse_txt_reply_ext), read the way CaresResolver read them: on hand-made answers and on
// thousands of random and mutated ones, the two must agree on the status and on every record.

#include <sendcheck/dns/answer_records.hpp>
#include <sendcheck/util/strings.hpp>

#include <ares.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace sendcheck;
using dns::RRType;

namespace {

/// What one parser made of a message for one type.
struct Parsed
{
  int status = ARES_SUCCESS;
  std::vector<dns::IpAddress> addresses;
  std::vector<dns::MxRecord> mx;
  std::vector<dns::TxtRecord> txt;
};

/// The IPv4 address of `octets`.
dns::IpAddress
make_address(const std::array<uint8_t, 4>& octets)
{
  return dns::IpAddress::v4(octets);
}

/// The IPv6 address of `octets`.
dns::IpAddress
make_address(const std::array<uint8_t, 16>& octets)
{
  return dns::IpAddress::v6(octets);
}

/// The addresses that `parse` (ares_parse_a_reply or ares_parse_aaaa_reply) reads into `addresses`, each the first
/// `Octets` octets of a `Ttl` entry; returns its status.
template<typename Ttl, size_t Octets, typename Parse>
int
cares_addresses(const std::vector<unsigned char>& message, Parse parse, std::vector<dns::IpAddress>& addresses)
{
  std::vector<Ttl> ttls(4096);
  int count = static_cast<int>(ttls.size());
  const int status = parse(message.data(), static_cast<int>(message.size()), nullptr, ttls.data(), &count);
  if (status == ARES_SUCCESS) {
    for (int i = 0; i < count; ++i) {
      std::array<uint8_t, Octets> octets{};
      std::memcpy(octets.data(), &ttls[static_cast<size_t>(i)], Octets); // the address is the entry's first member
      addresses.push_back(make_address(octets));
    }
  }
  return status;
}

/// The records as c-ares 1.18 reads them, turned into ours as CaresResolver did before it had its own parser.
Parsed
parse_with_cares(const std::vector<unsigned char>& message, RRType type)
{
  Parsed parsed;
  const int length = static_cast<int>(message.size());
  switch (type) {
    case RRType::a:
      parsed.status = cares_addresses<ares_addrttl, 4>(message, &ares_parse_a_reply, parsed.addresses);
      break;
    case RRType::aaaa:
      parsed.status = cares_addresses<ares_addr6ttl, 16>(message, &ares_parse_aaaa_reply, parsed.addresses);
      break;
    case RRType::mx: {
      ares_mx_reply* mx = nullptr;
      parsed.status = ares_parse_mx_reply(message.data(), length, &mx);
      if (parsed.status == ARES_SUCCESS) {
        for (const auto* p = mx; p != nullptr; p = p->next) {
          parsed.mx.push_back(dns::MxRecord{ p->priority, util::normalize_name(p->host) });
        }
        ares_free_data(mx);
      }
      break;
    }
    case RRType::txt: {
      ares_txt_ext* txt = nullptr;
      parsed.status = ares_parse_txt_reply_ext(message.data(), length, &txt);
      if (parsed.status == ARES_SUCCESS) {
        for (const auto* p = txt; p != nullptr; p = p->next) {
          if (p->record_start != 0 || parsed.txt.empty()) {
            parsed.txt.emplace_back();
          }
          parsed.txt.back().strings.emplace_back(reinterpret_cast<const char*>(p->txt), p->length);
        }
        ares_free_data(txt);
      }
      break;
    }
    case RRType::ptr:
      break;
  }
  return parsed;
}

/// The records as parse_answer_records reads them.
Parsed
parse_with_ours(const std::vector<unsigned char>& message, RRType type, dns::RecordsScratch& scratch)
{
  dns::Answer answer;
  answer.type = type;
  Parsed parsed;
  parsed.status = dns::to_ares_status(dns::parse_answer_records(message, answer, scratch));
  parsed.addresses = std::move(answer.addresses);
  parsed.mx = std::move(answer.mx);
  parsed.txt = std::move(answer.txt);
  return parsed;
}

/// The two parsers' results for `message`, compared; returns c-ares's status.
int
check_same(const std::vector<unsigned char>& message, RRType type, dns::RecordsScratch& scratch)
{
  const Parsed theirs = parse_with_cares(message, type);
  const Parsed ours = parse_with_ours(message, type, scratch);
  if (ours.status != theirs.status) { // the message, to make a case of it
    std::string hex;
    for (const unsigned char c : message) {
      hex += fmt::format("{:02x} ", c);
    }
    MESSAGE(hex);
  }
  REQUIRE(ours.status == theirs.status);
  REQUIRE(ours.addresses == theirs.addresses);
  REQUIRE(ours.mx.size() == theirs.mx.size());
  for (size_t i = 0; i < ours.mx.size(); ++i) {
    REQUIRE(ours.mx[i].preference == theirs.mx[i].preference);
    REQUIRE(ours.mx[i].exchange == theirs.mx[i].exchange);
  }
  REQUIRE(ours.txt.size() == theirs.txt.size());
  for (size_t i = 0; i < ours.txt.size(); ++i) {
    REQUIRE(ours.txt[i].strings == theirs.txt[i].strings);
  }
  return theirs.status;
}

/// Writes DNS messages octet by octet.
class MessageWriter
{
public:
  void
  u16(unsigned value)
  {
    bytes.push_back(static_cast<unsigned char>(value >> 8));
    bytes.push_back(static_cast<unsigned char>(value & 0xff));
  }
  void
  u32(uint32_t value)
  {
    u16(value >> 16);
    u16(value & 0xffff);
  }
  /// Writes `labels` and the zero octet; returns where the name starts.
  size_t
  name(const std::vector<std::string>& labels)
  {
    const size_t at = bytes.size();
    for (const auto& label : labels) {
      bytes.push_back(static_cast<unsigned char>(label.size()));
      bytes.insert(bytes.end(), label.begin(), label.end());
    }
    bytes.push_back(0);
    return at;
  }
  /// Writes `labels` and then a pointer to `target`; returns where the name starts.
  size_t
  name_then_pointer(const std::vector<std::string>& labels, size_t target)
  {
    const size_t at = bytes.size();
    for (const auto& label : labels) {
      bytes.push_back(static_cast<unsigned char>(label.size()));
      bytes.insert(bytes.end(), label.begin(), label.end());
    }
    u16(0xc000 | static_cast<unsigned>(target));
    return at;
  }
  /// A header with `questions`, `answers` and `authorities`, NOERROR.
  void
  header(unsigned questions, unsigned answers, unsigned authorities)
  {
    u16(0x1234);
    u16(0x8180);
    u16(questions);
    u16(answers);
    u16(authorities);
    u16(0);
  }
  /// Writes a record's type, class, TTL and a RDLENGTH to be set by `end_rdata`; returns where RDLENGTH is.
  size_t
  record_fixed(unsigned type, unsigned rr_class, uint32_t ttl)
  {
    u16(type);
    u16(rr_class);
    u32(ttl);
    const size_t at = bytes.size();
    u16(0);
    return at;
  }
  /// Sets the RDLENGTH at `at` to the octets written after it.
  void
  end_rdata(size_t at)
  {
    const size_t length = bytes.size() - at - 2;
    bytes[at] = static_cast<unsigned char>(length >> 8);
    bytes[at + 1] = static_cast<unsigned char>(length & 0xff);
  }

  std::vector<unsigned char> bytes;
};

constexpr unsigned k_in = 1;

/// "x.example" asked with `type`, and the header for `answers` records.
MessageWriter
question(RRType type, unsigned answers)
{
  MessageWriter writer;
  writer.header(1, answers, 0);
  writer.name({ "x", "example" });
  writer.u16(static_cast<unsigned>(type));
  writer.u16(k_in);
  return writer;
}

/// A random message: a question and records of the types sendcheck reads and others, with names drawn from a
/// pool that holds the awkward cases (upper case, escaped characters, NUL and high octets, non-host names),
/// compressed and not, then mutated: truncated, an octet overwritten, a count or RDLENGTH changed.
std::vector<unsigned char>
random_message(std::mt19937& engine)
{
  const auto pick = [&engine](size_t count) { return static_cast<size_t>(engine() % count); };
  const std::vector<std::vector<std::string>> names = {
    { "x", "example" }, { "X", "Example" }, { "y", "example" }, { "mail", "example" }, { "x" },
    { "a.b", "example" }, { "b\\c" }, { std::string(1, '\0'), "example" }, { std::string("\x01\xff", 2) },
    { "sp ace" }, { "under_score", "x" }, { "st*r" }, { "sl/ash" }, { "(p)@$;\"" }, { "" }, {},
  };
  static const std::vector<unsigned> types = { 1, 1, 28, 28, 5, 5, 16, 16, 16, 15, 15, 2, 6, 99 };
  static const std::vector<unsigned> classes = { k_in, k_in, k_in, k_in, 3, 4, 255 };

  MessageWriter writer;
  const unsigned records = static_cast<unsigned>(pick(6));
  writer.header(pick(10) == 0 ? static_cast<unsigned>(pick(3)) : 1, records, 0);
  std::vector<size_t> name_offsets;
  name_offsets.push_back(writer.name(pick(4) == 0 ? names[pick(names.size())] : names[0]));
  writer.u16(static_cast<unsigned>(types[pick(types.size())]));
  writer.u16(k_in);

  const auto write_name = [&] {
    switch (pick(4)) {
      case 0:
        name_offsets.push_back(writer.name(names[pick(names.size())]));
        break;
      case 1: {
        const auto& labels = names[pick(names.size())];
        name_offsets.push_back(writer.name_then_pointer(labels, name_offsets[pick(name_offsets.size())]));
        break;
      }
      default:
        writer.u16(0xc000 | static_cast<unsigned>(name_offsets[pick(name_offsets.size())]));
        break;
    }
  };
  for (unsigned i = 0; i < records; ++i) {
    if (pick(2) == 0) {
      writer.u16(0xc00c); // the name asked, as servers write it
    } else {
      write_name();
    }
    const unsigned type = types[pick(types.size())];
    const size_t rdlength_at = writer.record_fixed(type, classes[pick(classes.size())], 300);
    switch (type) {
      case 1:
      case 28: {
        const size_t octets = (type == 1 ? 4 : 16) + (pick(6) == 0 ? pick(3) : 1) - 1;
        for (size_t j = 0; j < octets; ++j) {
          writer.bytes.push_back(static_cast<unsigned char>(engine()));
        }
        break;
      }
      case 5:
        write_name();
        break;
      case 15:
        if (pick(8) != 0) {
          writer.u16(static_cast<unsigned>(pick(3) * 10));
          write_name();
        } else {
          writer.bytes.push_back(static_cast<unsigned char>(pick(2)));
        }
        break;
      case 16: {
        const size_t strings = pick(4);
        for (size_t j = 0; j < strings; ++j) {
          const size_t length = pick(3) == 0 ? 0 : pick(12);
          writer.bytes.push_back(static_cast<unsigned char>(length));
          for (size_t k = 0; k < length; ++k) {
            writer.bytes.push_back(static_cast<unsigned char>(pick(3) == 0 ? engine() : 'a' + pick(26)));
          }
        }
        break;
      }
      default:
        write_name();
        break;
    }
    writer.end_rdata(rdlength_at);
  }

  auto& bytes = writer.bytes;
  const size_t mutations = pick(3);
  static const std::vector<unsigned> interesting = { 0, 1, 2, 3, 4, 16, 63, 0x40, 0x80, 0xc0, 0xff };
  for (size_t i = 0; i < mutations && !bytes.empty(); ++i) {
    switch (pick(4)) {
      case 0:
        bytes.resize(pick(bytes.size() + 1));
        break;
      case 1:
        bytes[pick(bytes.size())] = static_cast<unsigned char>(interesting[pick(interesting.size())]);
        break;
      case 2:
        bytes[pick(bytes.size())] = static_cast<unsigned char>(engine());
        break;
      default:
        if (bytes.size() >= 12) {
          bytes[7] = static_cast<unsigned char>(bytes[7] + pick(3) - 1); // one answer more or fewer
        }
        break;
    }
  }
  return bytes;
}

} // namespace

TEST_CASE("dns::parse_answer_records")
{
  dns::RecordsScratch scratch;

  SUBCASE("TXT: one record per RR with data, its strings apart, zero-length strings kept")
  {
    auto writer = question(RRType::txt, 3);
    writer.u16(0xc00c);
    size_t at = writer.record_fixed(16, k_in, 300);
    writer.bytes.insert(writer.bytes.end(), { 3, 'a', 'b', 'c', 0, 2, 'd', 'e' });
    writer.end_rdata(at);
    writer.u16(0xc00c);
    at = writer.record_fixed(16, k_in, 300); // no data: no record
    writer.end_rdata(at);
    writer.u16(0xc00c);
    at = writer.record_fixed(16, 3, 300); // CHAOS counts too
    writer.bytes.insert(writer.bytes.end(), { 1, 'z' });
    writer.end_rdata(at);
    CHECK(check_same(writer.bytes, RRType::txt, scratch) == ARES_SUCCESS);
    dns::Answer answer;
    answer.type = RRType::txt;
    REQUIRE(dns::parse_answer_records(writer.bytes, answer) == dns::RecordsStatus::ok);
    REQUIRE(answer.txt.size() == 2);
    CHECK(answer.txt[0].strings == std::vector<std::string>{ "abc", "", "de" });
    CHECK(answer.txt[1].strings == std::vector<std::string>{ "z" });

    auto overrun = writer.bytes;
    overrun[12 + 11 + 4 + 2 + 10] = 4; // the first string claims one octet more than "abc"... and takes the 0
    CHECK(check_same(overrun, RRType::txt, scratch) == ARES_SUCCESS);
    overrun[12 + 11 + 4 + 2 + 10] = 8; // ... runs past the record's data
    CHECK(check_same(overrun, RRType::txt, scratch) == ARES_EBADRESP);
  }
  SUBCASE("A: the owner must be the name asked or the last CNAME target, ignoring case")
  {
    auto writer = question(RRType::a, 4);
    writer.u16(0xc00c);
    size_t at = writer.record_fixed(5, k_in, 300);
    const size_t target = writer.name_then_pointer({ "Y" }, 14);
    writer.end_rdata(at);
    writer.u16(0xc000 | static_cast<unsigned>(target));
    at = writer.record_fixed(1, k_in, 300);
    writer.bytes.insert(writer.bytes.end(), { 192, 0, 2, 1 });
    writer.end_rdata(at);
    writer.u16(0xc00c); // the name asked: no longer the one that owns addresses
    at = writer.record_fixed(1, k_in, 300);
    writer.bytes.insert(writer.bytes.end(), { 192, 0, 2, 2 });
    writer.end_rdata(at);
    writer.name({ "y", "EXAMPLE" });
    at = writer.record_fixed(1, k_in, 300);
    writer.bytes.insert(writer.bytes.end(), { 192, 0, 2, 3 });
    writer.end_rdata(at);
    CHECK(check_same(writer.bytes, RRType::a, scratch) == ARES_SUCCESS);
    CHECK(check_same(writer.bytes, RRType::aaaa, scratch) == ARES_SUCCESS); // a CNAME alone is no ENODATA
    dns::Answer answer;
    answer.type = RRType::a;
    REQUIRE(dns::parse_answer_records(writer.bytes, answer) == dns::RecordsStatus::ok);
    CHECK(dns::to_strings(answer.addresses) == std::vector<std::string>{ "192.0.2.1", "192.0.2.3" });

    auto bad_target = writer.bytes;
    bad_target[target + 1] = '_'; // still a host name
    CHECK(check_same(bad_target, RRType::a, scratch) == ARES_SUCCESS);
    bad_target[target + 1] = '!'; // not a host name
    CHECK(check_same(bad_target, RRType::a, scratch) == ARES_EBADRESP);
  }
  SUBCASE("MX: data shorter than 2 octets, and an exchange with escaped characters")
  {
    auto writer = question(RRType::mx, 1);
    writer.u16(0xc00c);
    size_t at = writer.record_fixed(15, k_in, 300);
    writer.u16(10);
    writer.name({ "M.X", "Ex;ample" });
    writer.end_rdata(at);
    CHECK(check_same(writer.bytes, RRType::mx, scratch) == ARES_SUCCESS);
    dns::Answer answer;
    answer.type = RRType::mx;
    REQUIRE(dns::parse_answer_records(writer.bytes, answer) == dns::RecordsStatus::ok);
    REQUIRE(answer.mx.size() == 1);
    CHECK(answer.mx[0].exchange == "m\\.x.ex\\;ample");

    auto short_data = question(RRType::mx, 1);
    short_data.u16(0xc00c);
    at = short_data.record_fixed(15, k_in, 300);
    short_data.bytes.push_back(0);
    short_data.end_rdata(at);
    CHECK(check_same(short_data.bytes, RRType::mx, scratch) == ARES_EBADRESP);
  }
  SUBCASE("MX: exchanges of host name characters, upper case, the root, and names too long to spell at once")
  {
    // The exchange `labels`, then (`long_labels` > 0) a pointer to that many labels of 63 octets written after it,
    // so that its text may run past 255 octets. Checked against c-ares, then read.
    const std::string l63(63, 'l');
    const auto exchange_of = [&](const std::vector<std::string>& labels, size_t long_labels) {
      auto writer = question(RRType::mx, 1);
      writer.u16(0xc00c);
      const size_t at = writer.record_fixed(15, k_in, 300);
      writer.u16(10);
      if (long_labels == 0) {
        writer.name(labels);
      } else {
        size_t pointer_size = 2;
        for (const auto& label : labels) {
          pointer_size += 1 + label.size();
        }
        writer.name_then_pointer(labels, writer.bytes.size() + pointer_size);
        writer.name(std::vector<std::string>(long_labels, std::string(63, 'L')));
      }
      writer.end_rdata(at);
      // c-ares reads it as we do, and finds one record.
      const auto status = check_same(writer.bytes, RRType::mx, scratch);
      dns::Answer read;
      read.type = RRType::mx;
      const auto ours = dns::parse_answer_records(writer.bytes, read);
      CHECK(status == ARES_SUCCESS);
      CHECK(ours == dns::RecordsStatus::ok);
      REQUIRE(read.mx.size() == 1);
      CHECK(read.mx[0].preference == 10);
      return read.mx[0].exchange;
    };
    CHECK(exchange_of({ "mx1", "c000123", "bench", "test" }, 0) == "mx1.c000123.bench.test");
    CHECK(exchange_of({ "MX-1", "Under_Score", "Sl/ash" }, 0) == "mx-1.under_score.sl/ash");
    CHECK(exchange_of({}, 0) == "");
    CHECK(exchange_of({ "Ex", "st*r" }, 0) == "ex.st*r");
    CHECK(exchange_of({ "Ab" }, 3) == "ab." + l63 + "." + l63 + "." + l63);
    // 254, 255 and 257 octets of text: the first two are spelled at once, the last the general way.
    CHECK(exchange_of({ std::string(62, 'X'), std::string(63, 'y') }, 2) == std::string(62, 'x') + "."
                                                                             + std::string(63, 'y') + "." + l63
                                                                             + "." + l63);
    CHECK(exchange_of({ std::string(63, 'x'), std::string(63, 'y') }, 2).size() == 255);
    CHECK(exchange_of({ "Abc" }, 4) == "abc." + l63 + "." + l63 + "." + l63 + "." + l63);
  }
  SUBCASE("room for the records: a hostile answer count reserves no more than the message can hold")
  {
    for (const RRType type : { RRType::mx, RRType::txt }) {
      CAPTURE(dns::to_string(type));
      // Claims 65535 records and holds 3.
      auto writer = question(type, 65535);
      for (int i = 0; i < 3; ++i) {
        writer.u16(0xc00c);
        const size_t at = writer.record_fixed(static_cast<unsigned>(type), k_in, 300);
        if (type == RRType::mx) {
          writer.u16(10);
          writer.name({ "mx", "example" });
        } else {
          writer.bytes.insert(writer.bytes.end(), { 1, 't' });
        }
        writer.end_rdata(at);
      }
      CHECK(check_same(writer.bytes, type, scratch) == ARES_EBADNAME); // the fourth owner is past the end
      dns::Answer answer;
      answer.type = type;
      CHECK(dns::parse_answer_records(writer.bytes, answer) == dns::RecordsStatus::bad_name);
      CHECK(answer.mx.empty());
      CHECK(answer.txt.empty());
      CHECK(answer.mx.capacity() <= writer.bytes.size() / 11);
      CHECK(answer.txt.capacity() <= writer.bytes.size() / 11);
    }
  }
  SUBCASE("no answer record, and messages too short for a header")
  {
    for (const RRType type : { RRType::a, RRType::aaaa, RRType::mx, RRType::txt }) {
      CHECK(check_same(question(type, 0).bytes, type, scratch) == ARES_ENODATA);
      CHECK(check_same({}, type, scratch) == ARES_EBADRESP);
      CHECK(check_same(std::vector<unsigned char>(11, 0), type, scratch) == ARES_EBADRESP);
    }
  }
  SUBCASE("the same as c-ares on random and mutated answers")
  {
    std::mt19937 engine(20250607);
    std::map<std::pair<RRType, int>, size_t> outcomes;
    size_t with_records = 0;
    for (int round = 0; round < 50000; ++round) {
      const auto message = random_message(engine);
      for (const RRType type : { RRType::a, RRType::aaaa, RRType::mx, RRType::txt }) {
        CAPTURE(round);
        CAPTURE(dns::to_string(type));
        const int status = check_same(message, type, scratch);
        ++outcomes[{ type, status }];
        if (status == ARES_SUCCESS) {
          dns::Answer answer;
          answer.type = type;
          dns::parse_answer_records(message, answer, scratch);
          with_records += answer.record_count() > 0 ? 1 : 0;
        }
      }
    }
    // The draw reaches every outcome of every parser, and records as well as errors.
    for (const RRType type : { RRType::a, RRType::aaaa, RRType::mx, RRType::txt }) {
      CAPTURE(dns::to_string(type));
      CHECK(outcomes[{ type, ARES_SUCCESS }] > 1000);
      CHECK(outcomes[{ type, ARES_ENODATA }] > 100);
      CHECK(outcomes[{ type, ARES_EBADRESP }] > 1000);
      if (type == RRType::mx || type == RRType::txt) {
        CHECK(outcomes[{ type, ARES_EBADNAME }] > 100);
      }
    }
    CHECK(with_records > 10000);

  }
}
