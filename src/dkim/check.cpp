#include <sendcheck/dkim/check.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck::dkim {

namespace {

/// The size of a bare Ed25519 public key, the whole `p=` value under k=ed25519 (RFC 8463).
constexpr size_t k_ed25519_raw_size = 32;

/// The longest character-string a TXT record can carry on the wire (RFC 1035 §3.3).
constexpr size_t k_max_string = 255;

Finding
finding(std::string_view code, Severity severity, std::string message, std::string fix = {}, std::string detail = {})
{
  return Finding{std::string(code), severity, std::move(message), std::move(fix), std::move(detail)};
}

/// How the sender is called in messages: the profile's name when `reference_domain` is its domain.
std::string
sender_name(std::string_view reference_domain)
{
  const auto& profile = directo_profile();
  if (util::iequals(reference_domain, profile.dkim_reference_domain)) {
    return profile.name;
  }
  return std::string(reference_domain);
}

std::string
describe_strings(const dns::TxtRecord& record)
{
  std::string sizes;
  for (const auto& piece : record.strings) {
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(piece.size());
  }
  return fmt::format("{} string{} of {} octets", record.strings.size(), record.strings.size() == 1 ? "" : "s", sizes);
}

std::string
key_description(const KeyInfo& info)
{
  return fmt::format("{}-bit {} key, SHA-256 of the SubjectPublicKeyInfo {}", info.bits,
                     info.type == KeyType::rsa ? "RSA" : "Ed25519", info.spki_sha256);
}

std::string
server_suffix(const dns::Answer& answer)
{
  std::string out;
  if (!answer.server.empty()) {
    out += fmt::format(" from {}", answer.server);
  }
  if (!answer.detail.empty()) {
    out += fmt::format(" ({})", answer.detail);
  }
  return out;
}

/// Checks the strings of the records at `report.found_at` and parses and loads a single record.
void
analyse_records(DkimReport& report)
{
  const std::string& name = report.found_at;
  if (report.records.size() > 1) {
    std::string detail;
    for (const auto& record : report.records) {
      detail += (detail.empty() ? "" : " | ") + util::escape_for_display(record.joined());
    }
    report.findings.push_back(
      finding(codes::k_multiple_records, Severity::error,
              fmt::format("{} has {} TXT records; a DKIM selector must have exactly one, or verifiers may pick the "
                          "wrong one",
                          name, report.records.size()),
              "Delete all but one record, keeping the one with the right key.", std::move(detail)));
  }
  for (const auto& record : report.records) {
    if (record.strings.size() > 1) {
      report.findings.push_back(finding(
        codes::k_split_strings, Severity::info,
        fmt::format("The record at {} is split into {}; verifiers join them without spaces, which is fine", name,
                    describe_strings(record)),
        {}, describe_strings(record)));
    }
    for (size_t i = 0; i < record.strings.size(); ++i) {
      if (record.strings[i].size() > k_max_string) {
        report.findings.push_back(finding(
          codes::k_string_too_long, Severity::error,
          fmt::format("String {} of the record at {} is {} octets; a TXT string can hold at most {}", i + 1, name,
                      record.strings[i].size(), k_max_string),
          "Split the value into strings of at most 255 characters (most DNS panels do this when the value is entered "
          "without quotes)."));
      }
    }
    const std::string joined = record.joined();
    const auto quote = joined.find_first_of("\"\\");
    if (quote != std::string::npos) {
      report.findings.push_back(finding(
        codes::k_quotes_in_value, Severity::error,
        fmt::format("The record at {} contains a literal {} at offset {}: the quotes or escapes typed into the DNS "
                    "panel became part of the value",
                    name, joined[quote] == '"' ? "quote mark" : "backslash", quote),
        "Enter the value without quote marks or backslashes; the DNS panel adds any quoting itself.",
        util::escape_for_display(joined)));
    }
  }
  if (report.records.size() != 1) {
    report.status = DkimStatus::invalid;
    return;
  }

  const std::string joined = report.records.front().joined();
  auto parsed = parse_key_record(joined);
  if (!parsed) {
    const auto& error = parsed.error();
    report.status = DkimStatus::invalid;
    report.findings.push_back(finding(
      codes::k_syntax, Severity::error,
      fmt::format("The DKIM record at {} is not valid: {} (offset {})", name, error.message, error.position),
      fmt::format("Publish the value as: k=rsa; p=<key>"),
      fmt::format("{}\n{}^", util::escape_for_display(joined), std::string(error.position, ' '))));
    return;
  }
  report.record = std::move(*parsed);
  const KeyRecord& record = *report.record;
  for (const auto& note : record.notes_for_admin) {
    report.findings.push_back(finding(codes::k_record_note, Severity::info,
                                      fmt::format("In the DKIM record at {}: {}", name, note.message), {},
                                      fmt::format("offset {}", note.position)));
  }
  report.testing = record.testing;
  if (record.testing) {
    report.findings.push_back(finding(
      codes::k_testing, Severity::warning,
      fmt::format("The DKIM record at {} has t=y (testing): verifiers treat signed and unsigned mail alike", name),
      "Remove 't=y' once signing works."));
  }
  if (!record.allows_email()) {
    report.findings.push_back(finding(codes::k_not_for_email, Severity::error,
                                      fmt::format("The DKIM record at {} has s={} and so may not be used for email",
                                                  name, record.find("s")->value),
                                      "Remove the 's=' tag."));
  }
  if (!record.hash_algorithms.empty()
      && std::find(record.hash_algorithms.begin(), record.hash_algorithms.end(), "sha256")
           == record.hash_algorithms.end()) {
    report.findings.push_back(
      finding(codes::k_sha1_only, Severity::error,
              fmt::format("The DKIM record at {} has h={}, which excludes SHA-256; verifiers no longer accept "
                          "SHA-1 signatures (RFC 8301)",
                          name, record.find("h")->value),
              "Remove the 'h=' tag."));
  }
  if (record.revoked()) {
    report.status = DkimStatus::revoked;
    report.findings.push_back(finding(codes::k_revoked, Severity::error,
                                      fmt::format("The DKIM record at {} has an empty p=: the key is revoked, so "
                                                  "every signature with it fails",
                                                  name),
                                      "Publish the key in p=, or delete the record."));
    return;
  }

  auto key = PublicKey::from_base64(record.public_key, record.key_type);
  if (!key) {
    report.status = DkimStatus::invalid;
    report.key_error = key.error();
    report.findings.push_back(finding(codes::k_key_invalid, Severity::error,
                                      fmt::format("The key in the DKIM record at {} cannot be used: {}", name,
                                                  key.error().message),
                                      "Copy the key again from the original source, as one line.",
                                      fmt::format("p= starts at offset {} of the record", record.public_key_position)));
    report.repair = find_repair(record.public_key, record.key_type, record.public_key_breaks);
    if (report.repair) {
      report.findings.push_back(finding(codes::k_key_damaged, Severity::error, report.repair->explanation,
                                        "Copy the key again from the original source (not from a PDF), as one "
                                        "line.",
                                        fmt::format("repaired key, a guess: {}", report.repair->repaired)));
    }
    return;
  }
  report.key = key->info();
  const KeyInfo& info = *report.key;
  report.status = DkimStatus::valid;
  if (info.type == KeyType::rsa && info.bits < 1024) {
    report.status = DkimStatus::invalid;
    report.findings.push_back(finding(
      codes::k_key_weak, Severity::error,
      fmt::format("The key at {} is a {}-bit RSA key; verifiers reject keys under 1024 bits (RFC 8301)", name,
                  info.bits),
      "Publish a 2048-bit key.", key_description(info)));
  } else if (info.type == KeyType::rsa && info.bits < 2048) {
    report.findings.push_back(finding(codes::k_key_1024, Severity::warning,
                                      fmt::format("The key at {} is a {}-bit RSA key; it works, but 2048 bits is "
                                                  "the recommended size",
                                                  name, info.bits),
                                      "Use a 2048-bit key when the key is next changed.", key_description(info)));
  } else {
    report.findings.push_back(finding(codes::k_key_ok, Severity::info,
                                      fmt::format("The key at {} is a {}", name, key_description(info))));
  }
  if (info.type == KeyType::ed25519 && info.der_size != k_ed25519_raw_size) {
    report.findings.push_back(finding(
      codes::k_ed25519_spki, Severity::warning,
      fmt::format("The Ed25519 key at {} is published in the SubjectPublicKeyInfo form; RFC 8463 puts the bare "
                  "32-byte key in p=, and verifiers that follow it cannot check the signatures",
                  name),
      "Publish p= as the base64 of the 32-byte public key alone (RFC 8463 section 4).", key_description(info)));
  }
}

} // namespace

std::string_view
to_string(DkimStatus status)
{
  switch (status) {
  case DkimStatus::valid:
    return "valid";
  case DkimStatus::no_record:
    return "no_record";
  case DkimStatus::revoked:
    return "revoked";
  case DkimStatus::invalid:
    return "invalid";
  case DkimStatus::temperror:
    return "temperror";
  }
  return "?";
}

std::string_view
to_string(Comparison comparison)
{
  switch (comparison) {
  case Comparison::not_done:
    return "not_done";
  case Comparison::same_key:
    return "same_key";
  case Comparison::different_key:
    return "different_key";
  case Comparison::skipped:
    return "skipped";
  }
  return "?";
}

util::Task<DkimReport>
check_dkim(dns::Resolver& resolver, std::string domain, std::string selector, std::string reference_domain,
           std::string signing_domain)
{
  DkimReport report;
  report.domain = util::normalize_name(domain);
  report.selector = util::to_lower(selector);
  report.reference_domain = util::normalize_name(reference_domain);
  report.signing_domain = util::normalize_name(signing_domain);
  report.name = fmt::format("{}._domainkey.{}", report.selector, report.domain);
  const std::string reference_name = fmt::format("{}._domainkey.{}", report.selector, report.reference_domain);
  const std::string doubled_name = fmt::format("{}.{}", report.name, report.domain);
  const bool self_reference = report.domain == report.reference_domain;
  if (!self_reference) {
    resolver.prefetch(reference_name, dns::RRType::txt);
  }

  const dns::AnswerPtr answer = co_await dns::lookup(resolver, report.name, dns::RRType::txt);
  report.server = answer->server;
  if (dns::is_failure(answer->status)) {
    report.status = DkimStatus::temperror;
    report.findings.push_back(finding(
      codes::k_temperror, Severity::error,
      fmt::format("The DNS lookup of {} failed ({}{}); the DKIM key could not be checked", report.name,
                  dns::to_string(answer->status), server_suffix(*answer)),
      "Try again later; if it persists, the domain's DNS servers need attention.", answer->server));
    co_return report;
  }

  if (answer->status == dns::Status::ok) {
    report.found_at = report.name;
    report.records = answer->txt;
    report.cname_chain = answer->cname_chain;
  } else {
    const dns::AnswerPtr doubled = co_await dns::lookup(resolver, doubled_name, dns::RRType::txt);
    if (doubled->status == dns::Status::ok) {
      report.found_at = doubled_name;
      report.records = doubled->txt;
      report.cname_chain = doubled->cname_chain;
    }
  }
  if (!report.cname_chain.empty()) {
    report.findings.push_back(finding(codes::k_cname, Severity::info,
                                      fmt::format("{} is a CNAME to {}; the key is read from there", report.found_at,
                                                  report.cname_chain.back())));
  }

  if (report.found_at.empty()) {
    report.status = DkimStatus::no_record;
    report.findings.push_back(finding(
      codes::k_no_record, Severity::warning,
      fmt::format("No DKIM key is published at {}. {} then signs as {}, which is not aligned with {}, so DMARC "
                  "depends on SPF alone",
                  report.name, sender_name(report.reference_domain), report.signing_domain, report.domain),
      fmt::format("To sign as {}, publish {}'s key as TXT at {} and switch the signing domain to {}.", report.domain,
                  sender_name(report.reference_domain), report.name, report.domain)));
    co_return report;
  }

  analyse_records(report);
  if (report.found_at != report.name) {
    report.findings.push_back(finding(
      codes::k_doubled_name, Severity::error,
      fmt::format("The DKIM record is published at {} instead of {}: the DNS panel appended the domain a second "
                  "time, so verifiers find nothing",
                  doubled_name, report.name),
      fmt::format("Rename the record to '{}._domainkey' (the panel adds '.{}' itself).", report.selector,
                  report.domain)));
    // What verifiers see at the right name is nothing; the analysis above is for the record to be moved.
    if (report.status == DkimStatus::valid) {
      report.status = DkimStatus::no_record;
    }
  }

  if (!report.key) {
    co_return report;
  }
  const auto own = PublicKey::from_base64(report.record->public_key, report.record->key_type);
  if (self_reference) {
    report.comparison = Comparison::same_key;
    report.reference_key = report.key;
    co_return report;
  }

  const dns::AnswerPtr reference = co_await dns::lookup(resolver, reference_name, dns::RRType::txt);
  std::string problem;
  std::optional<PublicKey> reference_key;
  if (reference->status != dns::Status::ok) {
    problem = fmt::format("the lookup of {} gave {}{}", reference_name, dns::to_string(reference->status),
                          server_suffix(*reference));
  } else if (reference->txt.size() != 1) {
    problem = fmt::format("{} has {} TXT records", reference_name, reference->txt.size());
  } else {
    auto parsed = parse_key_record(reference->txt.front().joined());
    if (!parsed) {
      problem = fmt::format("the record at {} is not valid: {}", reference_name, parsed.error().message);
    } else {
      auto loaded = PublicKey::from_base64(parsed->public_key, parsed->key_type);
      if (!loaded) {
        problem = fmt::format("the key at {} cannot be used: {}", reference_name, loaded.error().message);
      } else {
        reference_key.emplace(std::move(*loaded));
      }
    }
  }
  if (!reference_key) {
    report.comparison = Comparison::skipped;
    report.reference_problem = problem;
    report.findings.push_back(finding(
      codes::k_reference_unavailable, Severity::info,
      fmt::format("The key was not compared with {}'s own key: {}", sender_name(report.reference_domain), problem)));
    co_return report;
  }
  report.reference_key = reference_key->info();
  if (reference_key->same_key(*own)) {
    report.comparison = Comparison::same_key;
    report.findings.push_back(finding(codes::k_key_match, Severity::info,
                                      fmt::format("The key at {} is {}'s key (the one published at {})",
                                                  report.found_at, sender_name(report.reference_domain),
                                                  reference_name)));
  } else {
    report.comparison = Comparison::different_key;
    report.findings.push_back(finding(
      codes::k_key_mismatch, Severity::error,
      fmt::format("The key at {} is not {}'s key: signatures made by {} will not verify", report.found_at,
                  sender_name(report.reference_domain), sender_name(report.reference_domain)),
      fmt::format("Publish the key found at {} (copy it from there, not from a PDF).", reference_name),
      fmt::format("published: {}; {}: {}", key_description(*report.key), reference_name,
                  key_description(*report.reference_key))));
  }
  co_return report;
}

util::Task<DkimReport>
check_dkim(dns::Resolver& resolver, std::string domain, std::string selector, std::string reference_domain)
{
  return check_dkim(resolver, std::move(domain), std::move(selector), std::move(reference_domain),
                    directo_profile().default_signing_domain);
}

} // namespace sendcheck::dkim
