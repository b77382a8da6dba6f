#pragma once

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/spf/macro.hpp>
#include <sendcheck/util/result.hpp>
#include <sendcheck/util/string_hash.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// The SPF record (RFC 7208 §4.5, §4.6, §5, §6): record selection from a TXT answer, parsing into typed terms, and
// printing a canonical record back from terms (used by --suggest to rebuild records).

namespace sendcheck::spf {

/// The qualifier in front of a mechanism (RFC 7208 §4.6.2); a mechanism without one is `pass` (`+`).
enum class Qualifier : uint8_t {
  pass,     ///< `+`
  fail,     ///< `-`
  softfail, ///< `~`
  neutral,  ///< `?`
};

/// The kinds of mechanism (RFC 7208 §5).
enum class MechanismKind : uint8_t { all, include, a, mx, ptr, ip4, ip6, exists };

/// The kinds of modifier (RFC 7208 §6): the two the RFC defines and every other `name=value`.
enum class ModifierKind : uint8_t { redirect, exp, unknown };

/// Whether a term is a mechanism or a modifier.
enum class TermKind : uint8_t { mechanism, modifier };

/// Whether a qualifier was written in the record or is the implied `+`.
enum class QualifierSource : uint8_t { implied, written };

/// The qualifier's character: '+', '-', '~' or '?'.
char qualifier_char(Qualifier qualifier);

/// "pass", "fail", "softfail" or "neutral".
std::string_view to_string(Qualifier qualifier);

/// The mechanism's name as written in records: "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists".
std::string_view to_string(MechanismKind kind);

/// "redirect", "exp" or "unknown".
std::string_view to_string(ModifierKind kind);

/// Whether evaluating a mechanism of `kind` makes DNS queries, and so counts toward the limit of 10 (RFC 7208
/// §4.6.4): include, a, mx, ptr and exists. (The redirect modifier counts too; see `Term::counts_toward_limit`.)
bool queries_dns(MechanismKind kind);

/// One term of a record: a mechanism or a modifier, with everything parsed out of it and where it stood.
struct Term
{
  TermKind kind = TermKind::mechanism;

  /// The qualifier (mechanisms only; modifiers keep the default `pass`).
  Qualifier qualifier = Qualifier::pass;
  /// Whether the qualifier was written (`+a`) or implied (`a`); `to_string` reproduces what was written.
  QualifierSource qualifier_source = QualifierSource::implied;

  /// The mechanism (when `kind` is mechanism).
  MechanismKind mechanism = MechanismKind::all;

  /// The modifier (when `kind` is modifier).
  ModifierKind modifier = ModifierKind::unknown;
  /// The modifier's name as written (`redirect`, `exp`, `foo`), case kept.
  std::string modifier_name;

  /// The domain-spec as a macro-string: the target of include/a/mx/ptr/exists (after `:`; absent when not written,
  /// meaning the current domain for a/mx/ptr), of redirect= and exp=, and the value of an unknown modifier.
  std::optional<MacroString> domain_spec;

  /// The network of ip4/ip6 (the address as written, before masking).
  std::optional<dns::IpAddress> network;
  /// The IPv4 prefix length: of ip4, or the `/N` of a/mx; absent when not written (meaning 32).
  std::optional<unsigned> cidr4;
  /// The IPv6 prefix length: of ip6, or the `//N` of a/mx; absent when not written (meaning 128).
  std::optional<unsigned> cidr6;

  /// The exact source text of the term (no surrounding spaces).
  std::string text;
  /// The byte offset of `text` in the record text.
  size_t offset = 0;

  /// Whether this term counts toward the limit of 10 DNS-querying terms: include, a, mx, ptr, exists, redirect.
  bool counts_toward_limit() const;

  /// The IPv4 prefix length in effect (32 when not written).
  unsigned effective_cidr4() const { return cidr4.value_or(32); }
  /// The IPv6 prefix length in effect (128 when not written).
  unsigned effective_cidr6() const { return cidr6.value_or(128); }
};

/// A parsed SPF record.
struct Record
{
  /// The record text that was parsed (including the leading `v=spf1`).
  std::string text;
  /// Every term in record order (mechanisms and modifiers interleaved as written).
  std::vector<Term> terms;

  /// The redirect= modifier, or nullptr.
  const Term* redirect() const;
  /// The exp= modifier, or nullptr.
  const Term* exp() const;
  /// The first `all` mechanism, or nullptr.
  const Term* all() const;
  /// How many terms count toward the limit of 10 in this record alone (not following includes): include, a, mx,
  /// ptr, exists, and redirect= unless an `all` makes it ignored.
  size_t dns_term_count() const;
};

/// Why a record text could not be parsed.
struct ParseError
{
  /// Byte offset of the problem in the record text (of the offending term, or of the bad character within it).
  size_t offset = 0;
  /// The offending term's text (may be empty, e.g. for a record that does not start with `v=spf1`).
  std::string term;
  /// Plain English: "unknown mechanism 'ip'", "'ip4:1.2.3.4/33': IPv4 prefix length must be 0-32",
  /// "duplicate redirect= modifier", ... Non-printable bytes are escaped with util::escape_for_display.
  std::string message;
};

/// Parses an SPF record (RFC 7208 §4.6.1 grammar, §5, §6, §7.1). The text must start with `v=spf1` (any case)
/// followed by a space or the end; terms are separated by one or more spaces (only the space character; tabs, line
/// breaks, NUL and non-ASCII bytes anywhere are errors). Domain-specs are checked for macro syntax (the exp-only
/// letters c, r, t are rejected outside exp=) and, when free of macros, for a valid top label. redirect= and exp= may
/// each appear once.
util::Result<Record, ParseError> parse_record(std::string_view text);

/// The term in canonical form: qualifier only when written and not `+` (a written `+` is kept), mechanism and
/// modifier names lower-case, domain-spec as written, networks in canonical text, prefix lengths when written.
std::string to_string(const Term& term);

/// The record in canonical form: `v=spf1` and each term's `to_string`, separated by one space.
std::string to_string(const Record& record);

/// Whether a TXT string is an SPF record (RFC 7208 §4.5): `v=spf1`, case-insensitive, followed by a space or the end.
bool is_spf_record(std::string_view txt);

/// Whether a TXT record is an SPF record once its character-strings are joined (without joining them).
bool is_spf_record(const dns::TxtRecord& txt);

/// The outcome of choosing the SPF record among a domain's TXT records (RFC 7208 §4.5).
enum class SelectionStatus : uint8_t {
  none,       ///< No SPF record (the name does not exist, has no TXT, or no TXT starts with `v=spf1`).
  one,        ///< Exactly one SPF record.
  multiple,   ///< More than one SPF record: permerror.
  dns_failure ///< The TXT lookup failed (SERVFAIL, timeout, ...): temperror.
};

/// Which record a TXT answer gives.
struct Selection
{
  SelectionStatus status = SelectionStatus::none;
  /// The selected record text (character-strings joined) when `status` is one.
  std::string record;
  /// When `status` is multiple: every SPF record text found (two or more). Empty otherwise.
  std::vector<std::string> records;
};

/// Selects the SPF record from a TXT `answer` (character-strings of each TXT record joined first).
Selection select_record(const dns::Answer& answer);

/// What select_record decides, without copying any text: for a caller that only parses the selected record.
struct SpfTxt
{
  SelectionStatus status = SelectionStatus::none;
  const dns::TxtRecord* record = nullptr; ///< The first SPF record in the answer (the selected one when `one`).
  size_t count = 0;                       ///< How many of the answer's TXT records are SPF records.

  /// The selected record's text: a view of its one character-string (nearly always), else joined into `storage`.
  /// Valid while the answer and `storage` are. Only when `status` is one.
  std::string_view text(std::string& storage) const;
};

/// Finds the SPF records of a TXT `answer` (the same decision as select_record).
SpfTxt find_spf_record(const dns::Answer& answer);

/// A thread-safe cache from record text to its parse result, shared by many evaluations so that a record published
/// by a big provider is parsed once. Bounded: when full, it is cleared.
class RecordCache
{
public:
  /// The parse result of a record text: the record or the error.
  using Entry = std::shared_ptr<const util::Result<Record, ParseError>>;

  static constexpr size_t k_default_capacity = 4096;

  /// A cache holding at most `capacity` texts.
  explicit RecordCache(size_t capacity = k_default_capacity);

  /// The parse result for `text`, parsed now or found in the cache.
  Entry parse(std::string_view text);

  /// How many texts the cache holds.
  size_t size() const;

private:
  /// A text with its hash, worked out once per `parse`: the map neither hashes a text twice (lookup, then insert)
  /// nor hashes the texts of other entries as it walks a bucket (a hash it thinks fast is not stored in the nodes).
  template<typename Text>
  struct Hashed
  {
    Text text;
    size_t hash = 0;
  };
  using Key = Hashed<std::string>;
  using Probe = Hashed<std::string_view>;

  /// Gives the stored hash of a Key or a Probe.
  struct KeyHash
  {
    using is_transparent = void;
    size_t operator()(const Key& key) const noexcept { return key.hash; }
    size_t operator()(const Probe& probe) const noexcept { return probe.hash; }
  };

  /// Compares the texts of Keys and Probes.
  struct KeyEqual
  {
    using is_transparent = void;
    template<typename A, typename B>
    bool
    operator()(const Hashed<A>& a, const Hashed<B>& b) const noexcept
    {
      return a.hash == b.hash && std::string_view(a.text) == std::string_view(b.text);
    }
  };

  size_t m_capacity;
  mutable std::mutex m_mutex;
  std::unordered_map<Key, Entry, KeyHash, KeyEqual> m_entries; ///< Looked up by a Probe: a view and its hash.
};

} // namespace sendcheck::spf
