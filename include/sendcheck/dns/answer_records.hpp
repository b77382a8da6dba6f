#pragma once

#include <sendcheck/dns/resolver.hpp>

#include <cstdint>
#include <span>
#include <string>

// Reading the records of a DNS answer from the wire message, in place of c-ares's ares_parse_a_reply,
// ares_parse_aaaa_reply, ares_parse_mx_reply and ares_parse_txt_reply_ext: those expand every name into a malloc'ed
// string and malloc every TXT string and MX entry, which we then copied and freed (6% of a run's instructions).
// The parser accepts and refuses exactly the messages that c-ares 1.18 does, with the same records and the same
// error; tests/unit/test_dns_answer_records.cpp compares the two on thousands of random and mutated answers.

namespace sendcheck::dns {

/// How reading an answer's records ended, as the c-ares 1.18 parser would have said it.
enum class RecordsStatus : uint8_t {
  ok,           ///< ARES_SUCCESS (possibly with no record of the type asked: a CNAME alone, another type).
  no_data,      ///< ARES_ENODATA: no answer record (A/AAAA: no address and no CNAME).
  bad_response, ///< ARES_EBADRESP: the message is malformed.
  bad_name,     ///< ARES_EBADNAME: a name in it is malformed (TXT and MX only; A/AAAA say bad_response).
};

/// Room reused from answer to answer for the names the parser has to spell out.
struct RecordsScratch
{
  std::string hostname; ///< The name asked, then each CNAME target (A/AAAA), when it must be spelled out.
  std::string name;     ///< The name being compared or copied.
};

/// Reads the records of `answer.type` from the answer section of the DNS `message` into `answer.addresses`,
/// `answer.mx` or `answer.txt` (appended in the order of the message, TXT records not sorted), as c-ares 1.18 reads
/// them. On an error nothing is added. PTR is not read here (walk_message reads PTR targets): `ok` at once.
///
/// What is read, as c-ares 1.18 does: A/AAAA: the class IN records of the type with 4 (16) octets of data whose
/// owner equals, ignoring ASCII case, the name asked or the target of the last class IN CNAME before them; a CNAME
/// target must be a host name ([A-Za-z0-9-_/] labels). TXT: class IN or CHAOS records, one TxtRecord per record
/// that has data, a string for each length-prefixed piece. MX: class IN records; the exchange is the name as
/// ares_expand_name spells it (special characters escaped with a backslash), cut at a NUL octet and normalized.
RecordsStatus parse_answer_records(std::span<const unsigned char> message, Answer& answer, RecordsScratch& scratch);

/// `parse_answer_records` with scratch room of its own (tests, tools).
RecordsStatus parse_answer_records(std::span<const unsigned char> message, Answer& answer);

/// The c-ares status that `status` stands for: ARES_SUCCESS, ARES_ENODATA, ARES_EBADRESP or ARES_EBADNAME.
int to_ares_status(RecordsStatus status);

} // namespace sendcheck::dns
