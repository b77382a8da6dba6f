#pragma once

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/util/task.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// `--suggest`: builds the ONE SPF record a domain should publish so that every address of the sender profile
// passes, starting from what the domain publishes now (repairing, merging and extending it), and verifies the result
// through an OverlayResolver before returning it.
//
// What is done, in order:
//  1. The domain's TXT records are fetched; every TXT record that looks like SPF (also a damaged one: curly or
//     straight quotes typed into the value, `V=SPF1`, `v=spf1` glued to a term, non-breaking or zero-width spaces,
//     en/em dashes in place of `-`) is repaired; each repair is one Change.
//  2. No record: the profile's minimal record (`v=spf1 mx a:directo.gate.ee -all`), without `mx` when the domain has
//     no MX. Two or more: merged into one (terms de-duplicated in order, one `all`, the least strict `all` qualifier
//     present kept: + > ? > ~ > -). Terms after `all` are moved before it. `include:<sending host>` (the host has no
//     SPF record, so it is a permerror) becomes `a:<sending host>`.
//  3. The sender's terms are added just before `all` (or before a trailing redirect=), only for the profile
//     addresses the record does not already pass: `a:<sending host>` when the host's current A records cover every
//     ordinary address and adding it stays within 10 DNS-querying terms; otherwise the compacted ip4 terms (no
//     lookup). Bulk addresses not covered by the host get their own ip4 terms.
//  4. The candidate is verified: it parses, every profile address passes check_host() through an OverlayResolver,
//     the whole tree costs at most 10 DNS-querying terms and 2 void lookups, and every address the old record
//     passed (the addresses of its ip4/ip6 terms and the profile addresses) still passes.
//
// Decisions:
//  - IpStyle::host forces `a:<sending host>` even when the host does not cover every profile address. The record is
//    still returned (status changed/unchanged), with a warning naming each address that stays uncovered; those
//    addresses are shown as not passed in the verification, but do not make the suggestion impossible. (The admin
//    asked for that form; the record is otherwise correct.)
//  - IpStyle::ip4 forces the ip4 terms even when the record already holds `a:<sending host>` (that term is kept;
//    the ip4 terms are added only for addresses it does not pass).
//  - A record already over 10 DNS-querying terms (or 2 void lookups) is refused (status impossible), naming the
//    costliest includes; it is not trimmed, since only the owner knows which services still send.
//  - Terms after `all` never applied. Those that authorize (`+`, the default) are moved before `all` (the owner
//    meant them); `-`/`~`/`?` ones are removed, since moving them could refuse mail that passes today.
//  - Merged records keep the records' order unless that loses an address some record passes (one record's `-ip4:`
//    before another's `ip4:`); then the authorizing terms go first. If even that loses one, status impossible.
//  - `+all`, `?all` and `ptr` are kept but warned about. `redirect=` is kept (terms are inserted before it).
//  - A published record whose evaluation already stops at a permerror the suggestion cannot repair (an include of a
//    domain without SPF, a syntax error the repairs do not remove) is refused with the reason.
//  - Status unchanged means the published record is returned as is (record == published) because it is already
//    right; no typographic repair, merge or addition was needed.
//
// Change codes (Change::code), one per thing changed:
//   suggest.created           no SPF record: the profile's minimal record was used
//   suggest.mx_omitted        the domain has no MX, so `mx` was left out of the new record
//   suggest.directo_added     the sender's terms were added (the message says which form and why)
//   suggest.include_replaced  `include:<sending host>` replaced by `a:<sending host>`
//   suggest.merged            several SPF records merged into one
//   suggest.all_qualifier     the merged records disagreed on `all`; the least strict was kept
//   suggest.duplicates_removed  repeated terms removed
//   suggest.terms_moved       `+` terms after `all` (never evaluated) moved before it
//   suggest.terms_dropped     `-`/`~`/`?` terms after `all` removed (they never applied; moved, they would refuse
//                             or mark mail that passes today)
//   suggest.reordered         merged records: the authorizing terms put first, because in the records' order one
//                             record's exclusion would refuse mail another record passes
//   suggest.quotes            quote characters (straight or curly) removed from the value
//   suggest.dash              an en/em dash (or other dash) replaced by `-`
//   suggest.invisible_space   non-breaking, zero-width or other unusual spaces replaced or removed
//   suggest.whitespace        tabs, line breaks, leading/trailing or repeated spaces normalized
//   suggest.version           the version tag rewritten as exactly `v=spf1`
//   suggest.bulk_added        ip4 terms added for the bulk (mass-mail) addresses the record did not pass
//   suggest.redirect_to_include  a merged record's redirect= became an include (a record with `all` ignores
//                             redirect=, so the redirected-to policy would have been lost)
//   suggest.redirect_dropped  a redirect= that was never used (its record had `all`) dropped while merging
// A rebuilt record is printed in canonical form (spf::to_string of each term: `IP4:` becomes `ip4:`); that alone is
// not a change, so a record that needs nothing is returned exactly as published.

namespace sendcheck::suggest {

/// Which form the sender's terms take (`--ip-style auto|a|ip4`).
enum class IpStyle : uint8_t {
  automatic, ///< `a:<sending host>` when it covers every ordinary address and fits the lookup budget, else ip4.
  host,      ///< Always `a:<sending host>` (uncovered addresses are warned about).
  ip4,       ///< Always the compacted ip4 terms (no DNS lookup).
};

/// "auto", "a" or "ip4" (the --ip-style spelling).
std::string_view to_string(IpStyle style);

/// How to suggest.
struct SuggestOptions
{
  /// The sender; when null, `directo_profile()`.
  std::shared_ptr<const SenderProfile> profile;
  /// Whether the bulk addresses must pass too (`--no-bulk` turns this off).
  bool bulk = true;
  /// Which form the sender's terms take.
  IpStyle style = IpStyle::automatic;
  /// Shared parse cache; may be null.
  std::shared_ptr<spf::RecordCache> cache;
};

/// How the suggestion ended.
enum class SuggestStatus : uint8_t {
  unchanged,  ///< The published record is already right; `record` is the published record.
  changed,    ///< `record` is the record to publish instead of what is published (or in addition, when none is).
  impossible, ///< No correct record can be built automatically; `failure` says why, `record` is empty.
  dns_error,  ///< A lookup failed (SERVFAIL, timeout, ...); `failure` says which. `record` is empty.
};

/// "unchanged", "changed", "impossible" or "dns_error".
std::string_view to_string(SuggestStatus status);

/// One thing the suggestion changed, in plain words.
struct Change
{
  std::string code;    ///< Stable: see the list at the top of this header.
  std::string message; ///< One line: what changed and why.
};

/// The check_host() result of one address on the candidate record.
struct IpVerification
{
  dns::IpAddress ip;                          ///< The client address evaluated.
  spf::SpfResult result = spf::SpfResult::none; ///< Its SPF result on the candidate.
  unsigned dns_terms = 0;                     ///< DNS-querying terms its evaluation used.
  unsigned void_lookups = 0;                  ///< Void lookups its evaluation made.
  bool passed = false;                        ///< Whether `result` is pass.
  std::string reason;                         ///< For an error result, why (from the evaluator).
};

/// How the candidate record was verified.
struct Verification
{
  /// Every profile address (ordinary, then bulk when included), evaluated on the candidate.
  std::vector<IpVerification> profile_ips;
  /// Addresses the published record passed (from its ip4/ip6 terms), evaluated on the candidate.
  std::vector<IpVerification> kept_ips;
  /// DNS-querying terms of the candidate's whole tree (static cost analysis; limit 10).
  unsigned total_dns_terms = 0;
  /// Void lookups of the candidate's whole tree (static cost analysis; limit 2).
  unsigned total_void_lookups = 0;
  /// Whether the candidate parsed, every profile address passed (except those a forced IpStyle::host leaves out,
  /// which are warned about), every kept address passed, and the limits hold.
  bool passed = false;
  /// Whether a verification was run at all (false for dns_error and for refusals before a candidate existed).
  bool ran = false;
};

/// The suggestion for one domain.
struct Suggestion
{
  SuggestStatus status = SuggestStatus::impossible;
  /// The domain, normalized.
  std::string domain;
  /// The published SPF record (character-strings joined), when there is exactly one; empty otherwise.
  std::string published;
  /// Every published TXT record that is or looks like SPF (damaged ones too), joined, as published.
  std::vector<std::string> published_records;
  /// The record to publish; empty when impossible or dns_error.
  std::string record;
  /// What changed and why, in order.
  std::vector<Change> changes;
  /// Things the owner should know that were kept as they are (`+all`, `?all`, `ptr`, a long record, addresses a
  /// forced `a:` leaves uncovered).
  std::vector<std::string> warnings;
  /// Why no record could be suggested (impossible, dns_error); empty otherwise.
  std::string failure;
  /// How the candidate was verified.
  Verification verification;
  /// What the sending host (directo.gate.ee) resolves to now (A records); empty when it has none.
  std::vector<dns::IpAddress> sending_host_addresses;
};

/// A published TXT text after the typographic repairs (see the top of this header).
struct RepairedText
{
  /// The repaired text (the input itself when nothing needed repair).
  std::string text;
  /// Whether the repaired text is an SPF record (`v=spf1` followed by a space or the end).
  bool is_spf = false;
  /// One change per kind of repair made (quotes, dash, invisible_space, whitespace, version).
  std::vector<Change> changes;
};

/// Repairs damage from copying a record out of a document: quotes typed into the value (straight ones at the ends
/// of terms, curly ones anywhere), en/em dashes and minus signs in place of `-`, non-breaking and other unusual
/// spaces, zero-width characters and soft hyphens, tabs and line breaks, repeated or surrounding spaces, and
/// `v=spf1` in another case or spacing (`V=SPF1`, `v = spf1`). Text that is not SPF after repair is returned as is.
RepairedText repair_record_text(std::string_view text);

/// Builds and verifies the SPF record `domain` should publish (see the top of this header). Never throws for DNS or
/// record problems; they end up in `Suggestion::status` and `failure`.
util::Task<Suggestion> suggest_record(dns::Resolver& resolver, std::string domain, SuggestOptions options);

/// `record` split into character-strings of at most 255 octets, at spaces where possible (so each string reads as
/// whole terms), else at 255 octets. One empty string for an empty record.
std::vector<std::string> split_txt_strings(std::string_view record);

/// A zone-file line publishing `record` at `domain`: `example.ee. 3600 IN TXT "..." "..."` (strings from
/// `split_txt_strings`, `"` and `\` escaped).
std::string zone_file_line(std::string_view domain, std::string_view record, uint32_t ttl = 3600);

/// Record length above which some DNS hosting panels refuse the value; the suggestion warns beyond it.
constexpr size_t k_long_record_octets = 450;

} // namespace sendcheck::suggest
