// Fuzzes the renderers with a DomainReport whose DNS-derived strings come from the input (split at '\n'):
// report::domain_to_json dumped with error_handler replace must always parse back as valid JSON,
// report::write_domain_json (what the CLI writes) must give the same bytes as the DOM, and
// report::render_text must never emit a raw control byte (everything from DNS is escaped).

#include "fuzz_common.hpp"

#include <sendcheck/report/domain_check.hpp>
#include <sendcheck/report/json.hpp>
#include <sendcheck/report/text.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

using namespace sendcheck;

namespace {

/// The i-th field, cycling, so every string gets some input.
const std::string&
field(const std::vector<std::string>& fields, size_t i)
{
  return fields[i % fields.size()];
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  if (size < 1 || size > 8192) {
    return 0;
  }
  const uint8_t selector = data[0];
  const auto f = fuzz::split_input(fuzz::as_text(data + 1, size - 1), '\n', 24);

  report::DomainReport report;
  report.domain = "example.com";
  report.unicode = "example.com";
  report.note = field(f, 0);
  report.txt_server = field(f, 1);
  auto txt = std::make_shared<dns::Answer>();
  txt->txt.push_back(dns::TxtRecord{{field(f, 2), field(f, 3)}});
  report.spf_records.push_back(&txt->txt.front());
  report.txt = std::move(txt);
  report.selection = spf::SelectionStatus::one;
  report.record = field(f, 2) + field(f, 3);
  report.record_is_candidate = (selector & 1) != 0;

  spf::Evaluation evaluation;
  evaluation.result = static_cast<spf::SpfResult>(selector % 7);
  evaluation.explanation = field(f, 4);
  evaluation.reason = field(f, 5);
  evaluation.error_code = "spf.syntax";
  evaluation.deciding_domain = field(f, 6);
  evaluation.deciding_record = std::make_shared<const std::string>(field(f, 7));
  spf::Term term;
  term.text = field(f, 8);
  evaluation.deciding_term = std::make_shared<const spf::Term>(term);
  spf::TraceStep step;
  step.domain = field(f, 9);
  step.term = field(f, 10);
  step.target = field(f, 11);
  step.note = field(f, 12);
  step.lookups.push_back(spf::LookupInfo{field(f, 13), dns::RRType::txt, dns::Status::servfail, 0, field(f, 14),
                                         field(f, 15), false});
  evaluation.trace.push_back(step);
  report.ips.emplace_back(*dns::IpAddress::parse("90.190.150.212"), report::IpRole::ordinary, std::move(evaluation));

  report.sending_host.name = "directo.gate.ee";
  report.sending_host.server = field(f, 14);
  report.dkim.domain = "example.com";
  report.dkim.name = field(f, 16);
  report.dkim.records.push_back(dns::TxtRecord{{field(f, 17)}});
  report.dkim.server = field(f, 14);
  report.dmarc.domain = "example.com";
  report.dmarc.record_name = field(f, 18);
  report.dmarc.records.push_back(field(f, 19));
  report.findings.push_back(
    Finding{"spf.syntax", static_cast<Severity>(selector % 3), field(f, 20), field(f, 21), field(f, 22)});
  report.verdict.summary = field(f, 23);
  report.verdict.streams.push_back(report::StreamVerdict{report::IpRole::ordinary, report::Delivery::spam, 0, 1,
                                                         report::SharedText(field(f, 5)),
                                                         report::SharedText(field(f, 21))});

  report::JsonOptions json_options;
  json_options.include_trace = (selector & 2) != 0;
  const auto json = report::domain_to_json(report, json_options);
  const std::string dumped = json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (!nlohmann::json::accept(dumped)) {
    fuzz::fail("the JSON dump does not parse back", dumped);
  }
  // The CLI writes with write_domain_json, which must give exactly the DOM's bytes.
  report.checks.dkim = (selector & 8) == 0;
  report.checks.dmarc = (selector & 16) == 0;
  std::string written;
  report::write_domain_json(written, report, json_options);
  if (written != report::indented_json(report::domain_to_json(report, json_options), 4)) {
    fuzz::fail("write_domain_json differs from domain_to_json", written);
  }

  report::TextOptions text_options;
  text_options.detail = (selector & 4) != 0 ? report::Detail::verbose : report::Detail::normal;
  const std::string text = report::render_text(report, text_options);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n') || byte == 0x7f) {
      fuzz::fail("the text report prints a raw control byte", text);
    }
  }
  return 0;
}
