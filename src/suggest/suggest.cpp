#include <sendcheck/dns/overlay_resolver.hpp>
#include <sendcheck/spf/cost.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/suggest/suggest.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <coroutine>
#include <exception>
#include <optional>
#include <set>

namespace sendcheck::suggest {

namespace {

/// Addresses that stand for "any other server" when checking that nothing the domain authorized is lost
/// (documentation ranges, RFC 5737 and RFC 3849).
constexpr const char* k_probe_addresses[] = {"192.0.2.1", "2001:db8::1"};

/// One term of the record being built, with its canonical text.
struct Item
{
  spf::Term term;
  std::string text;
};

/// The published records merged and repaired, before the sender's terms are added.
struct Base
{
  /// Mechanisms and modifiers that stand before `all` (terms moved from after `all` included), in order.
  std::vector<Item> before_all;
  /// The one `all`, when there is one.
  std::optional<Item> all;
  /// Modifiers that stood after `all` (exp=, unknown ones), in order.
  std::vector<Item> after_all;
  /// The redirect= kept, when there is one.
  std::optional<Item> redirect;
  /// What merging and cleaning changed.
  std::vector<Change> changes;
  /// Things kept but worth a warning.
  std::vector<std::string> warnings;
};

Item
make_item(spf::Term term)
{
  auto text = spf::to_string(term);
  return Item{std::move(term), std::move(text)};
}

/// The term parsed from `text`, which must be a valid term.
spf::Term
parse_term(const std::string& text)
{
  auto record = spf::parse_record("v=spf1 " + text);
  if (!record || record->terms.size() != 1) {
    throw std::logic_error("suggest: not a single valid term: " + text);
  }
  return record->terms.front();
}

/// A key that is equal for terms meaning the same (`a` and `+a`, `A:Example.com` and `a:example.com`).
std::string
term_key(const spf::Term& term)
{
  auto copy = term;
  if (copy.kind == spf::TermKind::mechanism) {
    copy.qualifier_source = spf::QualifierSource::written;
  }
  const auto text = spf::to_string(copy);
  const bool has_macros = term.domain_spec && term.domain_spec->has_macros();
  if (has_macros) {
    return text;
  }
  auto key = util::to_lower(text);
  if (!key.empty() && key.back() == '.') {
    key.pop_back();
  }
  return key;
}

/// The target of a term without macros, normalized; empty when it has none or has macros.
std::string
plain_target(const spf::Term& term)
{
  if (!term.domain_spec || term.domain_spec->has_macros()) {
    return {};
  }
  return util::normalize_name(term.domain_spec->text);
}

int
strictness(spf::Qualifier qualifier)
{
  switch (qualifier) {
  case spf::Qualifier::pass:
    return 0;
  case spf::Qualifier::neutral:
    return 1;
  case spf::Qualifier::softfail:
    return 2;
  case spf::Qualifier::fail:
    return 3;
  }
  return 3;
}

std::string
quoted_list(const std::vector<std::string>& texts)
{
  std::string out;
  for (size_t i = 0; i < texts.size(); ++i) {
    out += fmt::format("{}'{}'", i == 0 ? "" : ", ", texts[i]);
  }
  return out;
}

std::string
address_list(const std::vector<dns::IpAddress>& addresses)
{
  std::string out;
  for (size_t i = 0; i < addresses.size(); ++i) {
    out += (i == 0 ? "" : ", ") + addresses[i].to_string();
  }
  return out;
}

std::string
join_terms(const std::vector<std::string>& terms)
{
  std::string out;
  for (const auto& term : terms) {
    out += (out.empty() ? "" : " ") + term;
  }
  return out;
}

/// The order of the terms of a merged record.
enum class MergeOrder : uint8_t {
  as_written,  ///< The records' terms in order, record after record.
  pass_first,  ///< Terms that authorize (`+` qualifier) first, then the others, each group in order: used when the
               ///< written order would let one record's `-`/`~`/`?` term refuse what another record passes.
};

/// Merges the parsed `records` into one (see the header), replacing `include:<sending host>` when the host publishes
/// no SPF record.
Base
merge_records(const std::vector<spf::Record>& records, const std::string& sending_host, bool host_has_spf,
              MergeOrder order = MergeOrder::as_written)
{
  Base base;
  std::set<std::string> seen;
  std::vector<std::string> duplicates;
  std::vector<std::string> moved;
  std::vector<std::string> dropped_after_all;
  std::vector<std::string> extra_alls;
  std::vector<std::string> replaced;
  std::vector<std::string> dropped_exps;
  std::vector<const spf::Term*> alls;
  std::vector<std::pair<const spf::Term*, bool>> redirects; // the term, whether its record had `all`
  bool have_exp = false;

  for (const auto& record : records) {
    const bool has_all = record.all() != nullptr;
    bool after_all = false;
    for (const auto& original : record.terms) {
      if (original.kind == spf::TermKind::mechanism && original.mechanism == spf::MechanismKind::all) {
        if (after_all) {
          extra_alls.push_back(original.text);
        } else {
          after_all = true;
          alls.push_back(&original);
        }
        continue;
      }
      if (original.kind == spf::TermKind::modifier && original.modifier == spf::ModifierKind::redirect) {
        redirects.emplace_back(&original, has_all);
        continue;
      }
      if (original.kind == spf::TermKind::modifier && original.modifier == spf::ModifierKind::exp) {
        if (have_exp) {
          dropped_exps.push_back(original.text);
          continue;
        }
        have_exp = true;
      }
      auto term = original;
      if (term.kind == spf::TermKind::mechanism && term.mechanism == spf::MechanismKind::include && !host_has_spf &&
          plain_target(term) == sending_host) {
        const std::string qualifier =
          term.qualifier_source == spf::QualifierSource::written ? std::string(1, spf::qualifier_char(term.qualifier))
                                                                 : std::string();
        term = parse_term(qualifier + "a:" + sending_host);
        replaced.push_back(original.text);
      }
      const auto key = term_key(term);
      if (!seen.insert(key).second) {
        if (std::find(replaced.begin(), replaced.end(), original.text) == replaced.end()) {
          duplicates.push_back(original.text);
        }
        continue;
      }
      auto item = make_item(std::move(term));
      if (after_all && item.term.kind == spf::TermKind::mechanism && item.term.qualifier != spf::Qualifier::pass) {
        // Never evaluated; moved before `all` it would refuse or soften mail that passes today.
        dropped_after_all.push_back(item.text);
        seen.erase(key);
      } else if (after_all && item.term.kind == spf::TermKind::mechanism) {
        moved.push_back(item.text);
        base.before_all.push_back(std::move(item));
      } else if (after_all) {
        base.after_all.push_back(std::move(item));
      } else {
        base.before_all.push_back(std::move(item));
      }
    }
  }

  if (records.size() > 1) {
    base.changes.push_back(
      {"suggest.merged", fmt::format("Merged the {} SPF records into one: a domain must publish exactly one, and "
                                     "with several, receivers treat every message as a permanent error (permerror). "
                                     "Delete the others when you publish this one.",
                                     records.size())});
  }
  for (const auto& text : replaced) {
    base.changes.push_back(
      {"suggest.include_replaced",
       fmt::format("Replaced '{}' with 'a:{}': {} publishes no SPF record, so the include is a permanent error "
                   "that breaks the whole record.",
                   text, sending_host, sending_host)});
  }

  // The one `all`: the least strict among the records.
  if (!alls.empty()) {
    const auto* chosen = alls.front();
    std::vector<std::string> written;
    for (const auto* all : alls) {
      if (strictness(all->qualifier) < strictness(chosen->qualifier)) {
        chosen = all;
      }
      const auto text = spf::to_string(*all);
      if (std::find(written.begin(), written.end(), text) == written.end()) {
        written.push_back(text);
      }
    }
    base.all = make_item(*chosen);
    bool differ = false;
    for (const auto* all : alls) {
      differ = differ || all->qualifier != chosen->qualifier;
    }
    if (differ) {
      base.changes.push_back(
        {"suggest.all_qualifier",
         fmt::format("The records end differently ({}); kept '{}', the least strict, so no mail that one of them let "
                     "through is refused now. Make it stricter yourself once every sender is listed.",
                     quoted_list(written), base.all->text)});
    }
  }

  // redirect=: kept as it was in a single record; in a merge, a redirect that was in force becomes an include when
  // the merged record has `all` (which would make receivers ignore it).
  if (records.size() == 1) {
    if (!redirects.empty()) {
      base.redirect = make_item(*redirects.front().first);
    }
  } else {
    std::vector<const spf::Term*> active;
    for (const auto& [term, had_all] : redirects) {
      if (had_all) {
        base.changes.push_back({"suggest.redirect_dropped",
                                fmt::format("Dropped '{}': its record also had 'all', so receivers never used it.",
                                            term->text)});
      } else {
        active.push_back(term);
      }
    }
    for (size_t i = 0; i < active.size(); ++i) {
      const bool last = i + 1 == active.size();
      if (last && !base.all) {
        base.redirect = make_item(*active[i]);
        break;
      }
      auto include = parse_term("include:" + active[i]->domain_spec->text);
      const auto include_text = spf::to_string(include);
      base.changes.push_back(
        {"suggest.redirect_to_include",
         fmt::format("Turned '{}' into '{}': in one merged record {}, so the policy it pointed to is kept as an "
                     "include.",
                     active[i]->text, include_text,
                     base.all ? "with 'all', a redirect= would be ignored" : "only one redirect= can be in force")});
      if (seen.insert(term_key(include)).second) {
        base.before_all.push_back(make_item(std::move(include)));
      }
    }
  }

  if (!moved.empty()) {
    base.changes.push_back(
      {"suggest.terms_moved",
       fmt::format("Moved {} before '{}': receivers stop at 'all', so terms after it were never evaluated.",
                   quoted_list(moved), base.all ? base.all->text : std::string("all"))});
  }
  if (!dropped_after_all.empty()) {
    base.changes.push_back(
      {"suggest.terms_dropped",
       fmt::format("Removed {} after '{}': receivers stop at 'all', so it never applied, and moved before 'all' it "
                   "would refuse or mark mail that passes today.",
                   quoted_list(dropped_after_all), base.all ? base.all->text : std::string("all"))});
  }
  if (order == MergeOrder::pass_first) {
    std::stable_partition(base.before_all.begin(), base.before_all.end(), [](const Item& item) {
      return item.term.kind == spf::TermKind::mechanism && item.term.qualifier == spf::Qualifier::pass;
    });
    base.changes.push_back(
      {"suggest.reordered",
       "Put the terms that authorize senders before the '-', '~' and '?' terms: in the records' order, one record's "
       "exclusion would have refused mail another record lets through."});
  }
  if (!duplicates.empty() || !extra_alls.empty() || !dropped_exps.empty()) {
    std::vector<std::string> removed = duplicates;
    removed.insert(removed.end(), extra_alls.begin(), extra_alls.end());
    removed.insert(removed.end(), dropped_exps.begin(), dropped_exps.end());
    base.changes.push_back(
      {"suggest.duplicates_removed",
       fmt::format("Removed {}: {}", quoted_list(removed),
                   extra_alls.empty() && dropped_exps.empty()
                     ? "the same term was listed more than once (each repeat wastes a DNS lookup or space)."
                     : "repeated terms, a second 'all' or a second exp= are never used.")});
  }
  return base;
}

/// Where the sender's terms go, in words ("before '-all'").
std::string
insertion_place(const Base& base)
{
  if (base.all) {
    return fmt::format("before '{}'", base.all->text);
  }
  if (base.redirect) {
    return fmt::format("before '{}'", base.redirect->text);
  }
  return "at the end";
}

/// The record text of `base` with `added` inserted just before `all` (or after the last mechanism).
std::string
build_record(const Base& base, const std::vector<std::string>& added)
{
  std::vector<std::string> terms;
  for (const auto& item : base.before_all) {
    terms.push_back(item.text);
  }
  if (base.all) {
    terms.insert(terms.end(), added.begin(), added.end());
    terms.push_back(base.all->text);
  } else {
    // After the last mechanism, so that modifiers written in between stay where they were.
    size_t position = 0;
    for (size_t i = 0; i < base.before_all.size(); ++i) {
      if (base.before_all[i].term.kind == spf::TermKind::mechanism) {
        position = i + 1;
      }
    }
    terms.insert(terms.begin() + static_cast<std::ptrdiff_t>(position), added.begin(), added.end());
  }
  for (const auto& item : base.after_all) {
    terms.push_back(item.text);
  }
  if (base.redirect) {
    terms.push_back(base.redirect->text);
  }
  std::string out = "v=spf1";
  for (const auto& term : terms) {
    out += ' ' + term;
  }
  return out;
}

std::string
describe_failure(const dns::Answer& answer)
{
  return fmt::format("the {} lookup of {} failed ({}{}{})", dns::to_string(answer.type), answer.name,
                     dns::to_string(answer.status), answer.server.empty() ? "" : " from " + answer.server,
                     answer.detail.empty() ? "" : ": " + answer.detail);
}

std::string
describe_evaluation_failure(const dns::IpAddress& ip, const spf::Evaluation& evaluation)
{
  return fmt::format("{} for {}: {}", spf::to_string(evaluation.result), ip.to_string(),
                     evaluation.reason.empty() ? std::string("no reason given") : evaluation.reason);
}

/// Evaluations started together and awaited together (see `evaluate_candidate`).
struct Batch
{
  size_t pending = 0;
  std::coroutine_handle<> waiter;
  std::exception_ptr error;
  std::vector<std::optional<spf::Evaluation>> results;

  void
  finished()
  {
    if (--pending == 0 && waiter) {
      std::exchange(waiter, {}).resume();
    }
  }
};

/// Awaits the end of every evaluation of a Batch.
struct BatchAwaiter
{
  Batch& batch;

  bool await_ready() const noexcept { return batch.pending == 0; }
  void await_suspend(std::coroutine_handle<> waiter) noexcept { batch.waiter = waiter; }
  void await_resume() const noexcept {}
};

/// check_host() for each of `ips` with `record` put at `domain` (as the only TXT record there). The evaluations are
/// spawned, not awaited one by one: they run concurrently on a network resolver, and with a synchronous one (zone
/// data) each runs to its end on its own, so that hundreds of evaluations do not pile up coroutine frames on the
/// stack (GCC does not turn symmetric transfer into tail calls without optimization).
util::Task<std::vector<spf::Evaluation>>
evaluate_candidate(dns::Resolver& resolver, std::string domain, std::string record, std::vector<dns::IpAddress> ips,
                   spf::Options options)
{
  dns::OverlayResolver overlay(resolver, dns::OverlayMode::replace_all);
  overlay.add_txt_record(domain, dns::TxtRecord{split_txt_strings(record)});
  Batch batch;
  batch.results.resize(ips.size());
  batch.pending = ips.size() + 1; // +1 until every evaluation is started
  for (size_t i = 0; i < ips.size(); ++i) {
    util::spawn<spf::Evaluation>(
      spf::check_host(overlay, ips[i], domain, "postmaster@" + domain, options),
      [&batch, i](spf::Evaluation evaluation) {
        batch.results[i] = std::move(evaluation);
        batch.finished();
      },
      [&batch](std::exception_ptr error) {
        batch.error = error;
        batch.finished();
      });
  }
  --batch.pending;
  co_await BatchAwaiter{batch};
  if (batch.error) {
    std::rethrow_exception(batch.error);
  }
  std::vector<spf::Evaluation> evaluations;
  evaluations.reserve(ips.size());
  for (auto& result : batch.results) {
    evaluations.push_back(std::move(*result));
  }
  co_return evaluations;
}

/// Adds the address of every ip4/ip6 term in the records of `node` and below to `sample` (once each).
void
add_networks(const spf::CostNode& node, std::vector<dns::IpAddress>& sample)
{
  if (!node.record.empty()) {
    if (const auto record = spf::parse_record(node.record)) {
      for (const auto& term : record->terms) {
        if (term.network && std::find(sample.begin(), sample.end(), *term.network) == sample.end()) {
          sample.push_back(*term.network);
        }
      }
    }
  }
  for (const auto& child : node.children) {
    add_networks(*child.node, sample);
  }
}

IpVerification
make_ip_verification(const dns::IpAddress& ip, const spf::Evaluation& evaluation)
{
  IpVerification out;
  out.ip = ip;
  out.result = evaluation.result;
  out.dns_terms = evaluation.dns_terms;
  out.void_lookups = evaluation.void_lookups;
  out.passed = evaluation.result == spf::SpfResult::pass;
  out.reason = evaluation.reason;
  return out;
}

bool
contains(const std::vector<dns::IpAddress>& addresses, const dns::IpAddress& ip)
{
  return std::find(addresses.begin(), addresses.end(), ip) != addresses.end();
}

/// Warnings about what the final record keeps: `+all`, `?all`, `ptr`, an ignored redirect=, its length.
void
add_record_warnings(const spf::Record& record, const std::string& domain, Suggestion& suggestion)
{
  if (const auto* all = record.all()) {
    if (all->qualifier == spf::Qualifier::pass) {
      suggestion.warnings.push_back(
        fmt::format("'{}' lets every server in the world send mail as {}; it was kept because the record had it, but "
                    "'~all' or '-all' is what protects the domain.",
                    spf::to_string(*all), domain));
    } else if (all->qualifier == spf::Qualifier::neutral) {
      suggestion.warnings.push_back(
        fmt::format("'{}' says nothing about servers not listed, so forged mail in the name of {} is not stopped; it "
                    "was kept because the record had it ('~all' or '-all' is safer).",
                    spf::to_string(*all), domain));
    }
    if (record.redirect() != nullptr) {
      suggestion.warnings.push_back(fmt::format("'{}' is ignored by receivers because the record has '{}'.",
                                                spf::to_string(*record.redirect()), spf::to_string(*all)));
    }
  }
  for (const auto& term : record.terms) {
    if (term.kind == spf::TermKind::mechanism && term.mechanism == spf::MechanismKind::ptr) {
      suggestion.warnings.push_back(
        fmt::format("'{}' is deprecated (RFC 7208 section 5.5): slow, unreliable, and some receivers ignore it; it "
                    "was kept because the record had it. Prefer ip4:/a: terms for those servers.",
                    spf::to_string(term)));
    }
  }
  if (suggestion.record.size() > k_long_record_octets) {
    suggestion.warnings.push_back(
      fmt::format("The record is {} octets long; some DNS hosting panels refuse values over {}. If yours does, "
                  "publish it as the separate strings of --suggest=zone.",
                  suggestion.record.size(), k_long_record_octets));
  }
}

} // namespace

std::string_view
to_string(IpStyle style)
{
  switch (style) {
  case IpStyle::automatic:
    return "auto";
  case IpStyle::host:
    return "a";
  case IpStyle::ip4:
    return "ip4";
  }
  return "auto";
}

std::string_view
to_string(SuggestStatus status)
{
  switch (status) {
  case SuggestStatus::unchanged:
    return "unchanged";
  case SuggestStatus::changed:
    return "changed";
  case SuggestStatus::impossible:
    return "impossible";
  case SuggestStatus::dns_error:
    return "dns_error";
  }
  return "impossible";
}

util::Task<Suggestion>
suggest_record(dns::Resolver& resolver, std::string domain, SuggestOptions options)
{
  Suggestion suggestion;
  suggestion.domain = util::normalize_name(domain);
  const std::string& name = suggestion.domain;
  const SenderProfile profile = options.profile ? *options.profile : directo_profile();
  const std::string host = util::normalize_name(profile.sending_host);
  const spf::Limits limits;
  spf::Options eval_options;
  eval_options.limits = limits;
  eval_options.helo = name;
  eval_options.cache = options.cache;
  eval_options.prefetch = spf::Prefetch::off;

  const auto fail = [&suggestion](SuggestStatus status, std::string why) {
    suggestion.status = status;
    suggestion.failure = std::move(why);
    suggestion.record.clear();
  };

  if (!spf::is_valid_domain(name)) {
    fail(SuggestStatus::impossible, fmt::format("'{}' is not a valid domain name", util::escape_for_display(domain)));
    co_return suggestion;
  }

  // 1. The published TXT records; each that is (or, repaired, becomes) SPF.
  const auto txt = co_await dns::lookup(resolver, name, dns::RRType::txt);
  if (dns::is_failure(txt->status)) {
    fail(SuggestStatus::dns_error, describe_failure(*txt));
    co_return suggestion;
  }
  std::vector<std::string> repaired;
  for (const auto& txt_record : txt->txt) {
    const auto raw = txt_record.joined();
    auto repair = repair_record_text(raw);
    if (!repair.is_spf) {
      continue;
    }
    suggestion.published_records.push_back(raw);
    repaired.push_back(std::move(repair.text));
    for (auto& change : repair.changes) {
      if (txt->txt.size() > 1 && suggestion.published_records.size() > 1) {
        change.message = fmt::format("(record {}) {}", suggestion.published_records.size(), change.message);
      }
      suggestion.changes.push_back(std::move(change));
    }
  }
  if (suggestion.published_records.size() == 1) {
    suggestion.published = suggestion.published_records.front();
  }

  std::vector<spf::Record> records;
  for (size_t i = 0; i < repaired.size(); ++i) {
    auto parsed = spf::parse_record(repaired[i]);
    if (!parsed) {
      const auto& error = parsed.error();
      fail(SuggestStatus::impossible,
           fmt::format("the published SPF record{} does not parse{}: {}{}; correct it by hand (sendcheck {} shows "
                       "where), then run --suggest again",
                       repaired.size() > 1 ? fmt::format(" {}", i + 1) : "",
                       suggestion.changes.empty() ? "" : " even after repairing its typography", error.message,
                       error.term.empty() ? "" : fmt::format(" (at '{}')", util::escape_for_display(error.term)),
                       name));
      co_return suggestion;
    }
    records.push_back(std::move(parsed.value()));
  }

  // 2. What the sending host is now, and whether it has an SPF record (only asked when someone includes it).
  const auto host_answer = co_await dns::lookup(resolver, host, dns::RRType::a);
  if (dns::is_failure(host_answer->status)) {
    fail(SuggestStatus::dns_error, describe_failure(*host_answer));
    co_return suggestion;
  }
  suggestion.sending_host_addresses = host_answer->addresses;
  bool includes_host = false;
  for (const auto& record : records) {
    for (const auto& term : record.terms) {
      includes_host = includes_host || (term.kind == spf::TermKind::mechanism &&
                                        term.mechanism == spf::MechanismKind::include && plain_target(term) == host);
    }
  }
  bool host_has_spf = false;
  if (includes_host) {
    const auto host_txt = co_await dns::lookup(resolver, host, dns::RRType::txt);
    if (dns::is_failure(host_txt->status)) {
      fail(SuggestStatus::dns_error, describe_failure(*host_txt));
      co_return suggestion;
    }
    host_has_spf = spf::select_record(*host_txt).status != spf::SelectionStatus::none;
  }

  // Nothing the domain authorized is lost: the addresses of the old records' ip4/ip6 terms and the profile's that
  // passed on any old record must pass on the candidate.
  // The sample also takes the ip4/ip6 terms of every record reached through include/redirect.
  // Two probes stand for "any other address" (an old record with `+all` passed them).
  std::vector<dns::IpAddress> sample = profile.all_ips(true);
  for (const auto* probe : k_probe_addresses) {
    sample.push_back(*dns::IpAddress::parse(probe));
  }
  for (const auto& old_text : repaired) {
    spf::CostOptions old_options;
    old_options.cache = options.cache;
    old_options.record_override = old_text;
    const auto old_cost = co_await spf::analyze_cost(resolver, name, old_options);
    add_networks(old_cost.root, sample);
  }
  std::vector<dns::IpAddress> passed_before;
  for (const auto& old_text : repaired) {
    const auto old = co_await evaluate_candidate(resolver, name, old_text, sample, eval_options);
    for (size_t i = 0; i < sample.size(); ++i) {
      if (old[i].result == spf::SpfResult::pass && !contains(passed_before, sample[i])) {
        passed_before.push_back(sample[i]);
      }
    }
  }
  // 3. The base record: merged and cleaned, or the profile's minimal record without the sender's terms.
  Base base;
  if (records.empty()) {
    const auto mx = co_await dns::lookup(resolver, name, dns::RRType::mx);
    if (dns::is_failure(mx->status)) {
      fail(SuggestStatus::dns_error, describe_failure(*mx));
      co_return suggestion;
    }
    auto minimal = spf::parse_record(profile.minimal_spf);
    if (!minimal) {
      fail(SuggestStatus::impossible, "the profile's minimal SPF record does not parse: " + minimal.error().message);
      co_return suggestion;
    }
    spf::Record start;
    start.text = "v=spf1";
    bool mx_omitted = false;
    for (const auto& term : minimal->terms) {
      const bool sender_term = term.kind == spf::TermKind::mechanism &&
                               (term.mechanism == spf::MechanismKind::a || term.mechanism == spf::MechanismKind::include) &&
                               plain_target(term) == host;
      const bool mx_term = term.kind == spf::TermKind::mechanism && term.mechanism == spf::MechanismKind::mx &&
                           !term.domain_spec;
      if (sender_term) {
        continue; // added below in the form the rules choose
      }
      if (mx_term && mx->status != dns::Status::ok) {
        mx_omitted = true;
        continue;
      }
      start.terms.push_back(term);
    }
    base = merge_records({start}, host, true);
    suggestion.changes.push_back(
      {"suggest.created", fmt::format("{} publishes no SPF record; started from the smallest record {} documents "
                                      "('{}').",
                                      name, profile.name, profile.minimal_spf)});
    if (mx_omitted) {
      suggestion.changes.push_back({"suggest.mx_omitted",
                                    fmt::format("Left out 'mx': {} has no MX record, so 'mx' would match nothing and "
                                                "cost a lookup that finds nothing.",
                                                name)});
    }
  } else {
    base = merge_records(records, host, host_has_spf);
    suggestion.changes.insert(suggestion.changes.end(), base.changes.begin(), base.changes.end());
  }
  auto base_text = build_record(base, {});

  // A merge in the records' order may lose an address one record passes: another record's exclusion comes first,
  // or its costly include spends the void-lookup budget before the term that matched. Then other orders are tried:
  // the records in every order, then the authorizing terms first.
  if (records.size() > 1 && !passed_before.empty()) {
    std::vector<size_t> permutation(records.size());
    for (size_t i = 0; i < permutation.size(); ++i) {
      permutation[i] = i;
    }
    std::vector<std::pair<std::vector<size_t>, MergeOrder>> attempts;
    for (const auto order : {MergeOrder::as_written, MergeOrder::pass_first}) {
      auto p = permutation;
      do {
        attempts.emplace_back(p, order);
      } while (std::next_permutation(p.begin(), p.end()));
    }
    for (size_t attempt = 0; attempt < attempts.size(); ++attempt) {
      const auto& [indices, order] = attempts[attempt];
      std::vector<spf::Record> ordered;
      for (const auto index : indices) {
        ordered.push_back(records[index]);
      }
      auto merged = attempt == 0 ? base : merge_records(ordered, host, host_has_spf, order);
      const auto text = build_record(merged, {});
      const auto kept = co_await evaluate_candidate(resolver, name, text, passed_before, eval_options);
      const bool lost = std::any_of(kept.begin(), kept.end(), [](const spf::Evaluation& evaluation) {
        return evaluation.result != spf::SpfResult::pass && evaluation.result != spf::SpfResult::temperror;
      });
      if (!lost) {
        if (attempt != 0) {
          suggestion.changes.resize(suggestion.changes.size() - base.changes.size());
          base = std::move(merged);
          if (order == MergeOrder::as_written) {
            base.changes.push_back(
              {"suggest.reordered",
               "Merged the records in another order: in the order published, an address one record lets through "
               "would have been refused (by another record's exclusion or its lookup limits) before reaching the "
               "term that lets it through."});
          }
          suggestion.changes.insert(suggestion.changes.end(), base.changes.begin(), base.changes.end());
          base_text = text;
        }
        break;
      }
    }
  }

  // 4. The base record's cost: a record already over the limits is refused, not printed broken.
  spf::CostOptions cost_options;
  cost_options.limits = limits;
  cost_options.cache = options.cache;
  cost_options.record_override = base_text;
  const auto base_cost = co_await spf::analyze_cost(resolver, name, cost_options);
  if (base_cost.over_term_limit()) {
    std::vector<std::string> costly;
    for (const auto* include : spf::most_costly_includes(base_cost, 3)) {
      costly.push_back(fmt::format("'{}' costs {}", include->via, include->node->subtree_terms + 1));
    }
    fail(SuggestStatus::impossible,
         fmt::format("the record already needs {} DNS lookups, more than the limit of {}, so every receiver sees a "
                     "permanent error; {} cannot be added without breaking it further. Most costly: {}. Remove the "
                     "includes of services no longer used or replace them with their ip4:/ip6: terms, then run "
                     "--suggest again",
                     base_cost.total_terms, limits.dns_terms, profile.name, fmt::join(costly, ", ")));
    co_return suggestion;
  }
  if (base_cost.over_void_limit()) {
    fail(SuggestStatus::impossible,
         fmt::format("the record makes {} lookups that find nothing, more than the limit of {} (a permanent error); "
                     "remove the terms that name domains without records, then run --suggest again",
                     base_cost.void_lookups, limits.void_lookups));
    co_return suggestion;
  }

  // 5. Which profile addresses the base record already passes.
  const auto profile_ips = profile.all_ips(options.bulk);
  const auto before = co_await evaluate_candidate(resolver, name, base_text, profile_ips, eval_options);
  std::vector<dns::IpAddress> needed_ordinary;
  std::vector<dns::IpAddress> needed_bulk;
  for (size_t i = 0; i < profile_ips.size(); ++i) {
    const auto& evaluation = before[i];
    if (evaluation.result == spf::SpfResult::temperror) {
      fail(SuggestStatus::dns_error, describe_evaluation_failure(profile_ips[i], evaluation));
      co_return suggestion;
    }
    if (evaluation.result == spf::SpfResult::permerror) {
      fail(SuggestStatus::impossible,
           fmt::format("the record gives a permanent error that adding {} cannot repair ({}); correct it first "
                       "(sendcheck {} explains it), then run --suggest again",
                       profile.name, describe_evaluation_failure(profile_ips[i], evaluation), name));
      co_return suggestion;
    }
    if (evaluation.result != spf::SpfResult::pass) {
      (contains(profile.ordinary_ips, profile_ips[i]) ? needed_ordinary : needed_bulk).push_back(profile_ips[i]);
    }
  }

  // 6. The sender's terms for the addresses not yet passed.
  const auto host_covers = [&](const dns::IpAddress& ip) { return contains(suggestion.sending_host_addresses, ip); };
  const auto host_term = make_item(parse_term("a:" + host));
  bool host_term_present = false;
  for (const auto& item : base.before_all) {
    host_term_present = host_term_present || term_key(item.term) == term_key(host_term.term);
  }
  const unsigned budget_left = limits.dns_terms - std::min(base_cost.total_terms, limits.dns_terms);
  const std::string resolves =
    suggestion.sending_host_addresses.empty()
      ? fmt::format("{} has no A record", host)
      : fmt::format("{} resolves to {}{}", host, address_list(suggestion.sending_host_addresses),
                    suggestion.sending_host_addresses.size() == 1 ? " only" : "");
  const auto place = insertion_place(base);

  std::vector<std::string> added;
  std::vector<dns::IpAddress> uncovered;
  bool host_added = false;
  if (!needed_ordinary.empty() || !needed_bulk.empty()) {
    if (options.style == IpStyle::host) {
      if (!host_term_present) {
        if (budget_left < 1) {
          fail(SuggestStatus::impossible,
               fmt::format("the record already uses all {} DNS lookups, so '{}' (--ip-style a) cannot be added; use "
                           "--ip-style ip4 (no lookup) instead",
                           limits.dns_terms, host_term.text));
          co_return suggestion;
        }
        added.push_back(host_term.text);
        host_added = true;
        suggestion.changes.push_back({"suggest.directo_added",
                                      fmt::format("Added '{}' {} (--ip-style a): {}.", host_term.text, place, resolves)});
      }
      for (const auto& ip : needed_ordinary) {
        if (!host_covers(ip)) {
          uncovered.push_back(ip);
        }
      }
      for (const auto& ip : needed_bulk) {
        if (!host_covers(ip)) {
          uncovered.push_back(ip);
        }
      }
    } else {
      const bool covers_all = !needed_ordinary.empty() && std::all_of(needed_ordinary.begin(), needed_ordinary.end(),
                                                                        host_covers);
      if (options.style == IpStyle::automatic && covers_all && !host_term_present && budget_left >= 1) {
        added.push_back(host_term.text);
        host_added = true;
        suggestion.changes.push_back(
          {"suggest.directo_added",
           fmt::format("Added '{}' {}: {}, which covers {}'s sending addresses{}.", host_term.text, place, resolves,
                       profile.name,
                       needed_ordinary.size() == profile.ordinary_ips.size()
                         ? ""
                         : fmt::format(" not yet listed ({})", address_list(needed_ordinary)))});
      } else if (!needed_ordinary.empty()) {
        const auto terms = compact_ip_terms(needed_ordinary);
        std::string why;
        if (options.style == IpStyle::ip4) {
          why = "--ip-style ip4";
        } else if (!covers_all) {
          std::vector<dns::IpAddress> missing;
          for (const auto& ip : needed_ordinary) {
            if (!host_covers(ip)) {
              missing.push_back(ip);
            }
          }
          why = fmt::format("{}, so '{}' would not cover {}", resolves, host_term.text, address_list(missing));
          if (host_term_present) {
            why = fmt::format("the record already has '{}', but {}", host_term.text, why);
          }
        } else if (host_term_present) {
          why = fmt::format("the record already has '{}'", host_term.text);
        } else {
          why = fmt::format("the record already uses {} of the {} DNS lookups, and '{}' would need one more ({})",
                            base_cost.total_terms, limits.dns_terms, host_term.text, resolves);
        }
        suggestion.changes.push_back(
          {"suggest.directo_added",
           fmt::format("Added '{}' {} for {}'s sending addresses, as ip4 terms that cost no DNS lookup: {}.",
                       join_terms(terms), place, profile.name, why)});
        added.insert(added.end(), terms.begin(), terms.end());
      }
      std::vector<dns::IpAddress> bulk;
      for (const auto& ip : needed_bulk) {
        if (!(host_added && host_covers(ip))) {
          bulk.push_back(ip);
        }
      }
      if (!bulk.empty()) {
        const auto terms = compact_ip_terms(bulk);
        suggestion.changes.push_back(
          {"suggest.bulk_added",
           fmt::format("Added '{}' {} for {}'s bulk mail (invoices and mass mail): {} is not covered by {}.",
                       join_terms(terms), place, profile.name, address_list(bulk),
                       host_added ? fmt::format("'{}'", host_term.text) : std::string("the record"))});
        added.insert(added.end(), terms.begin(), terms.end());
      }
    }
  }
  if (!uncovered.empty()) {
    suggestion.warnings.push_back(
      fmt::format("'{}' does not cover {} ({}): mail {} sends from there fails SPF. Use --ip-style auto or ip4 to add "
                  "them as ip4 terms.",
                  host_term.text, address_list(uncovered), resolves, profile.name));
  }

  // 7. The candidate, verified through the overlay before it is returned.
  const auto candidate_text = suggestion.changes.empty() ? suggestion.published : build_record(base, added);
  auto candidate = spf::parse_record(candidate_text);
  if (!candidate) {
    fail(SuggestStatus::impossible,
         fmt::format("the record built does not parse ({}); this is a bug in sendcheck", candidate.error().message));
    co_return suggestion;
  }
  Verification& verification = suggestion.verification;
  verification.ran = true;
  cost_options.record_override = candidate_text;
  const auto cost = co_await spf::analyze_cost(resolver, name, cost_options);
  verification.total_dns_terms = cost.total_terms;
  verification.total_void_lookups = cost.void_lookups;

  const auto after = co_await evaluate_candidate(resolver, name, candidate_text, profile_ips, eval_options);
  std::vector<std::string> problems;
  for (size_t i = 0; i < profile_ips.size(); ++i) {
    verification.profile_ips.push_back(make_ip_verification(profile_ips[i], after[i]));
    if (after[i].result == spf::SpfResult::temperror) {
      fail(SuggestStatus::dns_error, describe_evaluation_failure(profile_ips[i], after[i]));
      co_return suggestion;
    }
    if (after[i].result != spf::SpfResult::pass && !contains(uncovered, profile_ips[i])) {
      problems.push_back(describe_evaluation_failure(profile_ips[i], after[i]));
    }
  }

  // Nothing the domain authorized is lost: every address in `passed_before` must pass on the candidate.
  if (!passed_before.empty()) {
    const auto kept = co_await evaluate_candidate(resolver, name, candidate_text, passed_before, eval_options);
    for (size_t i = 0; i < passed_before.size(); ++i) {
      verification.kept_ips.push_back(make_ip_verification(passed_before[i], kept[i]));
      if (kept[i].result == spf::SpfResult::temperror) {
        fail(SuggestStatus::dns_error, describe_evaluation_failure(passed_before[i], kept[i]));
        co_return suggestion;
      }
      if (kept[i].result != spf::SpfResult::pass) {
        problems.push_back(fmt::format("{} passed on the published record but would no longer pass ({})",
                                       passed_before[i].to_string(), spf::to_string(kept[i].result)));
      }
    }
  }
  if (cost.over_term_limit()) {
    problems.push_back(fmt::format("{} DNS lookups, more than the limit of {}", cost.total_terms, limits.dns_terms));
  }
  if (cost.over_void_limit()) {
    problems.push_back(
      fmt::format("{} lookups that find nothing, more than the limit of {}", cost.void_lookups, limits.void_lookups));
  }
  verification.passed = problems.empty();
  if (!problems.empty()) {
    fail(SuggestStatus::impossible,
         fmt::format("the record built ('{}') did not verify: {}", candidate_text, fmt::join(problems, "; ")));
    co_return suggestion;
  }

  suggestion.record = candidate_text;
  suggestion.status = suggestion.changes.empty() ? SuggestStatus::unchanged : SuggestStatus::changed;
  add_record_warnings(*candidate, name, suggestion);
  co_return suggestion;
}

std::vector<std::string>
split_txt_strings(std::string_view record)
{
  constexpr size_t k_max = 255;
  std::vector<std::string> strings;
  while (record.size() > k_max) {
    // Cut after the last space that fits, so each string ends with whole terms (and the space is kept: strings are
    // joined with nothing in between).
    size_t cut = record.substr(0, k_max).rfind(' ');
    cut = (cut == std::string_view::npos || cut == 0) ? k_max : cut + 1;
    strings.emplace_back(record.substr(0, cut));
    record.remove_prefix(cut);
  }
  if (!record.empty() || strings.empty()) {
    strings.emplace_back(record);
  }
  return strings;
}

std::string
zone_file_line(std::string_view domain, std::string_view record, uint32_t ttl)
{
  std::string line = util::normalize_name(domain) + fmt::format(". {} IN TXT", ttl);
  for (const auto& piece : split_txt_strings(record)) {
    line += " \"";
    for (const char c : piece) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        line += '\\';
        line += c;
      } else if (byte < 0x20 || byte > 0x7E) {
        line += fmt::format("\\{:03d}", byte);
      } else {
        line += c;
      }
    }
    line += '"';
  }
  return line;
}

} // namespace sendcheck::suggest
