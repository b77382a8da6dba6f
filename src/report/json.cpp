#include <sendcheck/report/json.hpp>

#include <sendcheck/spf/lint.hpp>
#include <sendcheck/version.hpp>

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

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


/// Writes pretty-printed JSON (2-space steps) straight into a string, byte for byte as nlohmann's serializer dumps
/// the same values with `dump(json, true, false, 2, indent)`: each member and element on its own line, `[]` and
/// `{}` for empty containers, integers in plain decimal. Strings of plain printable ASCII are copied (with `"` and
/// `\` escaped); any other string is escaped by nlohmann's serializer itself (`ensure_ascii` off, invalid UTF-8
/// replaced by U+FFFD), so the escaping is exactly nlohmann's.
class JsonWriter
{
public:
  /// Writes into `out` (appending), as if nested at indentation `indent`.
  JsonWriter(std::string& out, unsigned indent);

  /// Opens an object (as an element, the value of the member just named, or the top-level value).
  void begin_object() { open('{'); }
  /// Closes the innermost object.
  void end_object() { close('}'); }
  /// Opens an array.
  void begin_array() { open('['); }
  /// Closes the innermost array.
  void end_array() { close(']'); }

  /// Names a member of the current object: the value written next is its value.
  void key(std::string_view name);

  /// A string value.
  void string(std::string_view value);
  /// An integer value.
  template<std::integral T>
    requires(!std::same_as<T, bool>)
  void number(T value);
  /// `true` or `false`.
  void boolean(bool value);
  /// `null`.
  void null();

  /// A string member.
  void string_field(std::string_view name, std::string_view value);
  /// A string member that is null when `value` is empty.
  void string_or_null_field(std::string_view name, std::string_view value);
  /// An integer member.
  template<std::integral T>
    requires(!std::same_as<T, bool>)
  void number_field(std::string_view name, T value);
  /// A boolean member.
  void bool_field(std::string_view name, bool value);
  /// A null member.
  void null_field(std::string_view name);
  /// An array of strings as a member.
  void strings_field(std::string_view name, const std::vector<std::string>& values);

private:
  /// Starts a value: after a key nothing, in an array the separator and the indentation.
  void begin_value();
  /// The separator before an item (newline, or comma and newline) and the item's indentation.
  void next_item();
  void open(char bracket);
  void close(char bracket);
  /// `value` as a quoted JSON string.
  void escaped(std::string_view value);
  /// `value` as a quoted JSON string by nlohmann's serializer.
  void escaped_by_nlohmann(std::string_view value);

  using Serializer = nlohmann::detail::serializer<Json>;

  std::string& m_out;
  unsigned m_indent;
  /// One entry per open container: whether it has no items yet.
  std::vector<bool> m_empty;
  bool m_after_key = false;
  /// Made on first use (it allocates and reads the locale), for strings that are not plain ASCII.
  std::optional<Serializer> m_serializer;
};

JsonWriter::JsonWriter(std::string& out, unsigned indent) : m_out(out), m_indent(indent)
{
  m_empty.reserve(16);
}

void
JsonWriter::key(std::string_view name)
{
  next_item();
  escaped(name);
  m_out.append(": ");
  m_after_key = true;
}

void
JsonWriter::string(std::string_view value)
{
  begin_value();
  escaped(value);
}

template<std::integral T>
  requires(!std::same_as<T, bool>)
void
JsonWriter::number(T value)
{
  begin_value();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  m_out.append(buffer, result.ptr);
}

void
JsonWriter::boolean(bool value)
{
  begin_value();
  m_out.append(value ? "true" : "false");
}

void
JsonWriter::null()
{
  begin_value();
  m_out.append("null");
}

void
JsonWriter::string_field(std::string_view name, std::string_view value)
{
  key(name);
  string(value);
}

void
JsonWriter::string_or_null_field(std::string_view name, std::string_view value)
{
  key(name);
  if (value.empty()) {
    null();
  } else {
    string(value);
  }
}

template<std::integral T>
  requires(!std::same_as<T, bool>)
void
JsonWriter::number_field(std::string_view name, T value)
{
  key(name);
  number(value);
}

void
JsonWriter::bool_field(std::string_view name, bool value)
{
  key(name);
  boolean(value);
}

void
JsonWriter::null_field(std::string_view name)
{
  key(name);
  null();
}

void
JsonWriter::strings_field(std::string_view name, const std::vector<std::string>& values)
{
  key(name);
  begin_array();
  for (const auto& value : values) {
    string(value);
  }
  end_array();
}

void
JsonWriter::begin_value()
{
  if (m_after_key) {
    m_after_key = false;
  } else if (!m_empty.empty()) {
    next_item();
  }
}

void
JsonWriter::next_item()
{
  if (m_empty.back()) {
    m_out += '\n';
    m_empty.back() = false;
  } else {
    m_out.append(",\n");
  }
  m_out.append(m_indent + 2 * m_empty.size(), ' ');
}

void
JsonWriter::open(char bracket)
{
  begin_value();
  m_out += bracket;
  m_empty.push_back(true);
}

void
JsonWriter::close(char bracket)
{
  const bool empty = m_empty.back();
  m_empty.pop_back();
  if (!empty) {
    m_out += '\n';
    m_out.append(m_indent + 2 * m_empty.size(), ' ');
  }
  m_out += bracket;
}

void
JsonWriter::escaped(std::string_view value)
{
  // nlohmann copies printable ASCII as it is and escapes only '"' and '\' among it. Anything else (control
  // characters, DEL, non-ASCII, invalid UTF-8) goes to nlohmann's serializer, which decodes UTF-8 and escapes.
  const size_t start = m_out.size();
  m_out += '"';
  size_t copied = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte < 0x20 || byte >= 0x7f) {
      m_out.resize(start);
      escaped_by_nlohmann(value);
      return;
    }
    if (byte == '"' || byte == '\\') {
      m_out.append(value.data() + copied, i - copied);
      m_out += '\\';
      copied = i;
    }
  }
  m_out.append(value.data() + copied, value.size() - copied);
  m_out += '"';
}

void
JsonWriter::escaped_by_nlohmann(std::string_view value)
{
  if (!m_serializer) {
    m_serializer.emplace(nlohmann::detail::output_adapter<char, std::string>(m_out), ' ',
                         Json::error_handler_t::replace);
  }
  m_serializer->dump(Json(std::string(value)), false, false, 0);
}

void
write_finding(JsonWriter& out, const Finding& finding)
{
  out.begin_object();
  out.string_field("code", finding.code);
  out.string_field("severity", to_string(finding.severity));
  out.string_field("message", finding.message);
  out.string_field("fix", finding.fix);
  if (!finding.detail.empty()) {
    out.string_field("detail", finding.detail);
  }
  out.end_object();
}

void
write_lookup(JsonWriter& out, const spf::LookupInfo& lookup)
{
  out.begin_object();
  out.string_field("name", lookup.name);
  out.string_field("type", dns::to_string(lookup.type));
  out.string_field("status", dns::to_string(lookup.status));
  out.number_field("records", lookup.record_count);
  if (!lookup.server.empty()) {
    out.string_field("server", lookup.server);
  }
  if (!lookup.detail.empty()) {
    out.string_field("detail", lookup.detail);
  }
  if (lookup.counted_void) {
    out.bool_field("void", true);
  }
  out.end_object();
}

void
write_trace(JsonWriter& out, const std::vector<spf::TraceStep>& trace)
{
  out.begin_array();
  for (const auto& step : trace) {
    out.begin_object();
    out.number_field("depth", step.depth);
    out.string_field("domain", step.domain);
    out.string_field("term", step.term);
    if (!step.target.empty()) {
      out.string_field("target", step.target);
    }
    out.bool_field("matched", step.matched);
    if (step.result) {
      out.string_field("result", spf::to_string(*step.result));
    }
    if (!step.note.empty()) {
      out.string_field("note", step.note);
    }
    out.key("lookups");
    out.begin_array();
    for (const auto& lookup : step.lookups) {
      write_lookup(out, lookup);
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
}

void
write_evaluation(JsonWriter& out, const IpResult& ip, const JsonOptions& options)
{
  const auto& evaluation = ip.evaluation;
  out.begin_object();
  out.string_field("ip", ip.ip.to_string());
  out.string_field("role", to_string(ip.role));
  out.string_field("result", spf::to_string(evaluation.result));
  out.key("decided_by");
  if (evaluation.deciding_term) {
    out.begin_object();
    out.string_field("term", evaluation.deciding_term->text);
    out.string_field("domain", evaluation.deciding_domain);
    out.end_object();
  } else {
    out.null();
  }
  out.number_field("dns_terms", evaluation.dns_terms);
  out.number_field("void_lookups", evaluation.void_lookups);
  if (!evaluation.error_code.empty()) {
    out.string_field("error_code", evaluation.error_code);
  }
  if (!evaluation.reason.empty()) {
    out.string_field("reason", evaluation.reason);
  }
  if (!evaluation.explanation.empty()) {
    out.string_field("explanation", evaluation.explanation);
  }
  if (evaluation.dns_failure) {
    out.key("dns_failure");
    write_lookup(out, *evaluation.dns_failure);
  }
  if (options.include_trace) {
    out.key("trace");
    write_trace(out, evaluation.trace);
  }
  out.end_object();
}

void
write_cost_node(JsonWriter& out, const spf::CostNode& node)
{
  out.begin_object();
  out.string_field("domain", node.domain);
  if (!node.via.empty()) {
    out.string_field("via", node.via);
  }
  out.string_field("record", node.record);
  out.number_field("own_terms", node.own_terms);
  out.number_field("subtree_terms", node.subtree_terms);
  out.number_field("own_void_lookups", node.own_void_lookups);
  if (node.mx_host_lookups != 0) {
    out.number_field("mx_host_lookups", node.mx_host_lookups);
  }
  if (node.loop) {
    out.bool_field("loop", true);
  }
  if (!node.errors.empty()) {
    out.strings_field("errors", node.errors);
  }
  out.key("children");
  out.begin_array();
  for (const auto& child : node.children) {
    write_cost_node(out, child);
  }
  out.end_array();
  out.end_object();
}

void
write_records(JsonWriter& out, const std::vector<dns::TxtRecord>& records)
{
  out.begin_array();
  for (const auto& record : records) {
    out.begin_object();
    out.string_field("text", record.joined());
    out.strings_field("strings", record.strings);
    out.end_object();
  }
  out.end_array();
}

void
write_spf(JsonWriter& out, const DomainReport& report, const JsonOptions& options)
{
  out.begin_object();
  out.key("records");
  write_records(out, report.spf_records);
  out.string_or_null_field("record", report.record);
  out.bool_field("candidate", report.record_is_candidate);
  out.key("lookup");
  out.begin_object();
  out.string_field("status", dns::to_string(report.txt_status));
  out.string_field("server", report.txt_server);
  out.end_object();
  if (report.cost) {
    out.key("dns_lookups");
    out.begin_object();
    out.number_field("count", report.cost->total_terms);
    out.number_field("limit", report.cost->limits.dns_terms);
    out.number_field("void", report.cost->void_lookups);
    out.number_field("void_limit", report.cost->limits.void_lookups);
    out.number_field("mx_host_lookups", report.cost->mx_host_lookups);
    out.end_object();
    out.key("cost");
    write_cost_node(out, report.cost->root);
  } else {
    out.null_field("dns_lookups");
    out.null_field("cost");
  }
  out.key("results");
  out.begin_array();
  for (const auto& ip : report.ips) {
    write_evaluation(out, ip, options);
  }
  out.end_array();
  out.end_object();
}

void
write_dkim(JsonWriter& out, const dkim::DkimReport& dkim)
{
  out.begin_object();
  out.string_field("name", dkim.name);
  out.string_field("status", dkim::to_string(dkim.status));
  out.string_or_null_field("found_at", dkim.found_at);
  out.key("records");
  write_records(out, dkim.records);
  out.key("key");
  if (dkim.key) {
    out.begin_object();
    out.string_field("type", dkim::to_string(dkim.key->type));
    out.number_field("bits", dkim.key->bits);
    out.string_field("spki_sha256", dkim.key->spki_sha256);
    out.end_object();
  } else {
    out.null();
  }
  out.bool_field("testing", dkim.testing);
  out.string_field("reference", dkim.reference_domain);
  out.string_field("comparison", dkim::to_string(dkim.comparison));
  out.end_object();
}

void
write_dmarc(JsonWriter& out, const dmarc::DmarcReport& dmarc)
{
  out.begin_object();
  out.string_field("status", dmarc::to_string(dmarc.status));
  out.string_field("source", dmarc::to_string(dmarc.source));
  out.string_or_null_field("record_name", dmarc.record_name);
  out.key("record");
  if (dmarc.records.empty()) {
    out.null();
  } else {
    out.string(dmarc.records.front());
  }
  out.key("policy");
  if (dmarc.policy) {
    out.string(dmarc::to_string(*dmarc.policy));
  } else {
    out.null();
  }
  out.string_field("adkim", dmarc::to_string(dmarc.adkim));
  out.string_field("aspf", dmarc::to_string(dmarc.aspf));
  out.string_field("organizational_domain", dmarc.organizational_domain);
  out.end_object();
}

void
write_verdict(JsonWriter& out, const Verdict& verdict)
{
  out.begin_object();
  out.string_field("overall", to_string(verdict.overall));
  out.string_field("summary", verdict.summary);
  out.key("streams");
  out.begin_array();
  for (const auto& stream : verdict.streams) {
    out.begin_object();
    out.string_field("role", to_string(stream.role));
    out.string_field("outcome", to_string(stream.outcome));
    out.number_field("passing", stream.passing);
    out.number_field("total", stream.total);
    out.string_field("reason", stream.reason);
    out.string_field("fix", stream.fix);
    out.end_object();
  }
  out.end_array();
  out.end_object();
}

void
write_suggestion(JsonWriter& out, const std::string& domain, const suggest::Suggestion& suggestion)
{
  out.begin_object();
  out.string_field("status", suggest::to_string(suggestion.status));
  out.string_or_null_field("record", suggestion.record);
  out.key("zone_line");
  if (suggestion.record.empty()) {
    out.null();
  } else {
    out.string(suggest::zone_file_line(domain, suggestion.record));
  }
  out.key("changes");
  out.begin_array();
  for (const auto& change : suggestion.changes) {
    out.begin_object();
    out.string_field("code", change.code);
    out.string_field("message", change.message);
    out.end_object();
  }
  out.end_array();
  out.strings_field("warnings", suggestion.warnings);
  if (!suggestion.failure.empty()) {
    out.string_field("failure", suggestion.failure);
  }
  out.key("verification");
  out.begin_object();
  out.bool_field("ran", suggestion.verification.ran);
  out.bool_field("passed", suggestion.verification.passed);
  out.number_field("dns_lookups", suggestion.verification.total_dns_terms);
  out.number_field("void_lookups", suggestion.verification.total_void_lookups);
  out.end_object();
  out.end_object();
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

void
write_domain_json(std::string& out, const DomainReport& report, const JsonOptions& options)
{
  // Field for field what domain_to_json builds, in the same order (test_json_writer compares the two).
  out.reserve(out.size() + 8192); // a typical domain's object is 4-8 KB: grow once
  out.append("    ");
  JsonWriter json(out, 4);
  json.begin_object();
  json.string_field("domain", report.domain);
  if (report.unicode != report.domain) {
    json.string_field("domain_unicode", report.unicode);
  }
  if (!report.note.empty()) {
    json.string_field("note", report.note);
  }
  json.string_field("status", to_string(report.status));
  json.number_field("exit_code", exit_code(report.status));
  json.key("spf");
  write_spf(json, report, options);
  json.key("sending_host");
  json.begin_object();
  json.string_field("name", report.sending_host.name);
  json.string_field("status", dns::to_string(report.sending_host.status));
  json.key("addresses");
  json.begin_array();
  for (const auto& address : report.sending_host.addresses) {
    json.string(address.to_string());
  }
  json.end_array();
  json.end_object();
  json.key("dkim");
  write_dkim(json, report.dkim);
  json.key("dmarc");
  write_dmarc(json, report.dmarc);
  json.key("findings");
  json.begin_array();
  for (const auto& finding : report.findings) {
    write_finding(json, finding);
  }
  json.end_array();
  json.key("verdict");
  write_verdict(json, report.verdict);
  if (report.suggestion) {
    json.key("suggestion");
    write_suggestion(json, report.domain, *report.suggestion);
  }
  json.end_object();
}

std::string
indented_json(const Json& json, unsigned indent)
{
  std::string out(indent, ' ');
  nlohmann::detail::serializer<Json> serializer(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
                                                Json::error_handler_t::replace);
  serializer.dump(json, true, false, 2, indent);
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
