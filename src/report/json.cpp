#include <sendcheck/report/json.hpp>

#include <sendcheck/spf/lint.hpp>
#include <sendcheck/version.hpp>

namespace sendcheck::report {

namespace {

using Json = nlohmann::ordered_json;

/// An empty object with room for `fields` members. ordered_json keeps members in a vector that otherwise grows by
/// doubling, copying every (const) key at each step.
Json
object_with(size_t fields)
{
  Json out = Json::object();
  out.get_ref<Json::object_t&>().reserve(fields);
  return out;
}

/// Strings from DNS may hold any bytes; JSON needs valid UTF-8. Invalid sequences become U+FFFD.
Json
text(const std::string& value)
{
  return Json(value);
}

Json
finding_to_json(const Finding& finding)
{
  Json out = object_with(5);
  out["code"] = finding.code;
  out["severity"] = to_string(finding.severity);
  out["message"] = text(finding.message);
  out["fix"] = text(finding.fix);
  if (!finding.detail.empty()) {
    out["detail"] = text(finding.detail);
  }
  return out;
}

Json
lookup_to_json(const spf::LookupInfo& lookup)
{
  Json out = object_with(7);
  out["name"] = text(lookup.name);
  out["type"] = dns::to_string(lookup.type);
  out["status"] = dns::to_string(lookup.status);
  out["records"] = lookup.record_count;
  if (!lookup.server.empty()) {
    out["server"] = text(lookup.server);
  }
  if (!lookup.detail.empty()) {
    out["detail"] = text(lookup.detail);
  }
  if (lookup.counted_void) {
    out["void"] = true;
  }
  return out;
}

Json
trace_to_json(const std::vector<spf::TraceStep>& trace)
{
  Json out = Json::array();
  for (const auto& step : trace) {
    Json item = object_with(8);
    item["depth"] = step.depth;
    item["domain"] = text(step.domain);
    item["term"] = text(step.term);
    if (!step.target.empty()) {
      item["target"] = text(step.target);
    }
    item["matched"] = step.matched;
    if (step.result) {
      item["result"] = spf::to_string(*step.result);
    }
    if (!step.note.empty()) {
      item["note"] = text(step.note);
    }
    Json lookups = Json::array();
    for (const auto& lookup : step.lookups) {
      lookups.push_back(lookup_to_json(lookup));
    }
    item["lookups"] = std::move(lookups);
    out.push_back(std::move(item));
  }
  return out;
}

Json
evaluation_to_json(const IpResult& ip, const JsonOptions& options)
{
  const auto& evaluation = ip.evaluation;
  Json out = object_with(11);
  out["ip"] = ip.ip.to_string();
  out["role"] = to_string(ip.role);
  out["result"] = spf::to_string(evaluation.result);
  if (evaluation.deciding_term) {
    out["decided_by"] = {{"term", text(evaluation.deciding_term->text)}, {"domain", text(evaluation.deciding_domain)}};
  } else {
    out["decided_by"] = nullptr;
  }
  out["dns_terms"] = evaluation.dns_terms;
  out["void_lookups"] = evaluation.void_lookups;
  if (!evaluation.error_code.empty()) {
    out["error_code"] = evaluation.error_code;
  }
  if (!evaluation.reason.empty()) {
    out["reason"] = text(evaluation.reason);
  }
  if (!evaluation.explanation.empty()) {
    out["explanation"] = text(evaluation.explanation);
  }
  if (evaluation.dns_failure) {
    out["dns_failure"] = lookup_to_json(*evaluation.dns_failure);
  }
  if (options.include_trace) {
    out["trace"] = trace_to_json(evaluation.trace);
  }
  return out;
}

Json
cost_node_to_json(const spf::CostNode& node)
{
  Json out = object_with(10);
  out["domain"] = text(node.domain);
  if (!node.via.empty()) {
    out["via"] = text(node.via);
  }
  out["record"] = text(node.record);
  out["own_terms"] = node.own_terms;
  out["subtree_terms"] = node.subtree_terms;
  out["own_void_lookups"] = node.own_void_lookups;
  if (node.mx_host_lookups != 0) {
    out["mx_host_lookups"] = node.mx_host_lookups;
  }
  if (node.loop) {
    out["loop"] = true;
  }
  if (!node.errors.empty()) {
    out["errors"] = node.errors;
  }
  Json children = Json::array();
  for (const auto& child : node.children) {
    children.push_back(cost_node_to_json(child));
  }
  out["children"] = std::move(children);
  return out;
}

Json
records_to_json(const std::vector<dns::TxtRecord>& records)
{
  Json out = Json::array();
  for (const auto& record : records) {
    out.push_back({{"text", text(record.joined())}, {"strings", record.strings}});
  }
  return out;
}

} // namespace

Json
domain_to_json(const DomainReport& report, const JsonOptions& options)
{
  Json out = object_with(12);
  out["domain"] = report.domain;
  if (report.unicode != report.domain) {
    out["domain_unicode"] = report.unicode;
  }
  if (!report.note.empty()) {
    out["note"] = text(report.note);
  }
  out["status"] = to_string(report.status);
  out["exit_code"] = exit_code(report.status);

  Json spf = object_with(8);
  spf["records"] = records_to_json(report.spf_records);
  spf["record"] = report.record.empty() ? Json(nullptr) : text(report.record);
  spf["candidate"] = report.record_is_candidate;
  spf["lookup"] = {{"status", dns::to_string(report.txt_status)}, {"server", text(report.txt_server)}};
  if (report.cost) {
    spf["dns_lookups"] = {{"count", report.cost->total_terms},
                          {"limit", report.cost->limits.dns_terms},
                          {"void", report.cost->void_lookups},
                          {"void_limit", report.cost->limits.void_lookups},
                          {"mx_host_lookups", report.cost->mx_host_lookups}};
    spf["cost"] = cost_node_to_json(report.cost->root);
  } else {
    spf["dns_lookups"] = nullptr;
    spf["cost"] = nullptr;
  }
  Json results = Json::array();
  for (const auto& ip : report.ips) {
    results.push_back(evaluation_to_json(ip, options));
  }
  spf["results"] = std::move(results);
  out["spf"] = std::move(spf);

  out["sending_host"] = {{"name", report.sending_host.name},
                         {"status", dns::to_string(report.sending_host.status)},
                         {"addresses", dns::to_strings(report.sending_host.addresses)}};

  Json dkim = object_with(9);
  dkim["name"] = text(report.dkim.name);
  dkim["status"] = dkim::to_string(report.dkim.status);
  dkim["found_at"] = report.dkim.found_at.empty() ? Json(nullptr) : text(report.dkim.found_at);
  dkim["records"] = records_to_json(report.dkim.records);
  if (report.dkim.key) {
    dkim["key"] = {{"type", dkim::to_string(report.dkim.key->type)},
                   {"bits", report.dkim.key->bits},
                   {"spki_sha256", report.dkim.key->spki_sha256}};
  } else {
    dkim["key"] = nullptr;
  }
  dkim["testing"] = report.dkim.testing;
  dkim["reference"] = report.dkim.reference_domain;
  dkim["comparison"] = dkim::to_string(report.dkim.comparison);
  out["dkim"] = std::move(dkim);

  Json dmarc = object_with(8);
  dmarc["status"] = dmarc::to_string(report.dmarc.status);
  dmarc["source"] = dmarc::to_string(report.dmarc.source);
  dmarc["record_name"] = report.dmarc.record_name.empty() ? Json(nullptr) : text(report.dmarc.record_name);
  dmarc["record"] = report.dmarc.records.empty() ? Json(nullptr) : text(report.dmarc.records.front());
  dmarc["policy"] = report.dmarc.policy ? Json(dmarc::to_string(*report.dmarc.policy)) : Json(nullptr);
  dmarc["adkim"] = dmarc::to_string(report.dmarc.adkim);
  dmarc["aspf"] = dmarc::to_string(report.dmarc.aspf);
  dmarc["organizational_domain"] = report.dmarc.organizational_domain;
  out["dmarc"] = std::move(dmarc);

  Json findings = Json::array();
  for (const auto& finding : report.findings) {
    findings.push_back(finding_to_json(finding));
  }
  out["findings"] = std::move(findings);

  Json verdict = object_with(2);
  verdict["overall"] = to_string(report.verdict.overall);
  verdict["summary"] = text(report.verdict.summary);
  Json streams = Json::array();
  for (const auto& stream : report.verdict.streams) {
    streams.push_back({{"role", to_string(stream.role)},
                       {"outcome", to_string(stream.outcome)},
                       {"passing", stream.passing},
                       {"total", stream.total},
                       {"reason", text(stream.reason)},
                       {"fix", text(stream.fix)}});
  }
  verdict["streams"] = std::move(streams);
  out["verdict"] = std::move(verdict);
  if (report.suggestion) {
    const auto& suggestion = *report.suggestion;
    Json item;
    item["status"] = suggest::to_string(suggestion.status);
    item["record"] = suggestion.record.empty() ? Json(nullptr) : text(suggestion.record);
    item["zone_line"] = suggestion.record.empty() ? Json(nullptr)
                                                  : text(suggest::zone_file_line(report.domain, suggestion.record));
    Json changes = Json::array();
    for (const auto& change : suggestion.changes) {
      changes.push_back({{"code", change.code}, {"message", text(change.message)}});
    }
    item["changes"] = std::move(changes);
    Json warnings = Json::array();
    for (const auto& warning : suggestion.warnings) {
      warnings.push_back(text(warning));
    }
    item["warnings"] = std::move(warnings);
    if (!suggestion.failure.empty()) {
      item["failure"] = text(suggestion.failure);
    }
    item["verification"] = {{"ran", suggestion.verification.ran},
                            {"passed", suggestion.verification.passed},
                            {"dns_lookups", suggestion.verification.total_dns_terms},
                            {"void_lookups", suggestion.verification.total_void_lookups}};
    out["suggestion"] = std::move(item);
  }
  return out;
}

Json
invalid_input_to_json(const std::string& input, const std::string& error)
{
  Json out;
  out["input"] = input;
  out["status"] = "invalid";
  out["exit_code"] = 2;
  out["error"] = error;
  return out;
}

Json
profile_to_json(const SenderProfile& profile)
{
  // The same object a profile file holds (so it can be saved and edited), plus where it came from.
  Json out = Json::parse(profile_to_file_json(profile));
  out["source"] = profile.source;
  return out;
}

std::string
json_document_start(const SenderProfile& profile)
{
  Json head;
  head["schema_version"] = k_json_schema_version;
  head["tool"] = {{"name", "sendcheck"}, {"version", k_version}};
  head["profile"] = profile_to_json(profile);
  std::string out = head.dump(2, ' ', false, Json::error_handler_t::replace);
  out.pop_back(); // the closing '}' and the newline before it
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out + ",\n  \"domains\": [";
}

std::string
json_document_end(const RunSummary& summary, const std::vector<std::string>& notes)
{
  Json tail;
  tail["domains"] = summary.domains;
  tail["good"] = summary.good;
  tail["problem"] = summary.problem;
  tail["dns_error"] = summary.dns_error;
  tail["not_found"] = summary.not_found;
  tail["invalid"] = summary.invalid;
  tail["exit_code"] = summary.exit_code;
  return "\n  ],\n  \"notes\": " + Json(notes).dump(-1, ' ', false, Json::error_handler_t::replace)
         + ",\n  \"summary\": " + tail.dump() + "\n}\n";
}

} // namespace sendcheck::report
