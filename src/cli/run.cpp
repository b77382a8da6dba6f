#include <sendcheck/cli/run.hpp>

#include <sendcheck/cli/app.hpp>
#include <sendcheck/cli/domain_input.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/report/json.hpp>
#include <sendcheck/report/text.hpp>
#include <sendcheck/suggest/suggest.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

namespace sendcheck::cli {

namespace {

/// Thrown when standard output is gone (a closed pipe): the run stops quietly.
struct OutputClosed
{
};

/// Writes `text` to `stream`, or throws OutputClosed when the reader went away.
void
write_out(std::FILE* stream, std::string_view text)
{
  if (text.empty()) {
    return;
  }
  if (std::fwrite(text.data(), 1, text.size(), stream) != text.size()) {
    throw OutputClosed{};
  }
}

/// The domains to check: the arguments first, then the lines of `-f FILE` (read as needed, so a file of any size
/// is streamed).
class DomainSource
{
public:
  explicit DomainSource(const Options& options) : m_arguments(options.domains), m_path(options.domain_file) {}

  ~DomainSource()
  {
    if (m_file != nullptr && m_file != stdin) {
      std::fclose(m_file);
    }
  }

  DomainSource(const DomainSource&) = delete;
  DomainSource& operator=(const DomainSource&) = delete;

  /// Opens the file and reads up to its first domain; an error message when it cannot be used.
  std::string
  open()
  {
    if (m_path.empty()) {
      return {};
    }
    const std::string shown = m_path == "-" ? "standard input" : m_path;
    m_file = m_path == "-" ? stdin : std::fopen(m_path.c_str(), "rb");
    if (m_file == nullptr) {
      return fmt::format("-f: cannot read {}: {}", shown, std::strerror(errno));
    }
    m_pending = read_line();
    if (m_binary) {
      return fmt::format("-f: {} is not a text file (it contains NUL bytes); give a file with one domain a line",
                         shown);
    }
    if (m_read_error) {
      return fmt::format("-f: cannot read {}: {}", shown, std::strerror(m_read_errno));
    }
    if (!m_pending && m_arguments.empty()) {
      return fmt::format("-f: {} holds no domains (one domain a line; '#' starts a comment)", shown);
    }
    return {};
  }

  /// The next domain as written (and where it came from), or nullopt at the end.
  std::optional<std::pair<std::string, std::string>>
  next()
  {
    if (m_next_argument < m_arguments.size()) {
      return std::pair{m_arguments[m_next_argument++], std::string()};
    }
    if (!m_pending) {
      return std::nullopt;
    }
    auto current = std::move(*m_pending);
    m_pending = read_line();
    return current;
  }

private:
  /// The next non-blank, non-comment line with its location, or nullopt at the end of the file.
  std::optional<std::pair<std::string, std::string>>
  read_line()
  {
    if (m_file == nullptr) {
      return std::nullopt;
    }
    std::string line;
    while (true) {
      const int c = std::fgetc(m_file);
      if (c == EOF) {
        if (std::ferror(m_file)) {
          m_read_error = true;
          m_read_errno = errno;
        }
        if (line.empty()) {
          return std::nullopt;
        }
      } else if (c == '\0') {
        m_binary = m_binary || m_line_number < 2;
        line += '\0';
        continue;
      } else if (c != '\n') {
        line += static_cast<char>(c);
        continue;
      }
      ++m_line_number;
      if (const auto hash = line.find('#'); hash != std::string::npos) {
        line.erase(hash);
      }
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.pop_back();
      }
      const auto text = util::trim(line);
      if (!text.empty()) {
        const std::string where = fmt::format("{}:{}", m_path == "-" ? "stdin" : m_path, m_line_number);
        return std::pair{std::string(text), where};
      }
      line.clear();
      if (c == EOF) {
        return std::nullopt;
      }
    }
  }

  std::vector<std::string> m_arguments;
  size_t m_next_argument = 0;
  std::string m_path;
  std::FILE* m_file = nullptr;
  std::optional<std::pair<std::string, std::string>> m_pending;
  size_t m_line_number = 0;
  bool m_binary = false;
  bool m_read_error = false;
  int m_read_errno = 0;
};

/// Whether the text report is coloured.
report::Color
decide_color(const Options& options)
{
  if (options.color == ColorMode::always) {
    return report::Color::on;
  }
  if (options.color == ColorMode::never) {
    return report::Color::off;
  }
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::strcmp(term, "dumb") == 0;
  if ((no_color != nullptr && *no_color != '\0') || dumb || isatty(STDOUT_FILENO) == 0) {
    return report::Color::off;
  }
  return report::Color::on;
}

/// Precedence of exit codes across domains: usage (2) over problem (1) over DNS failure (3) over good (0).
int
combine_exit(int current, int next)
{
  auto rank = [](int code) {
    switch (code) {
    case 2:
      return 3;
    case 1:
      return 2;
    case 3:
      return 1;
    default:
      return 0;
    }
  };
  return rank(next) > rank(current) ? next : current;
}

/// One domain in the window of checks in flight.
struct Slot
{
  std::string input;
  std::string where; ///< "FILE:LINE" for file input.
  std::optional<DomainInput> domain;
  std::string error; ///< For input that is not a valid domain.
  std::optional<report::DomainReport> report;
  bool done = false;
};

/// Keeps up to `concurrency` checks in flight and writes finished reports in input order.
class Runner
{
public:
  Runner(const Options& options, ResolverStack& stack, DomainSource& source)
    : m_options(options), m_stack(stack), m_source(source), m_cache(std::make_shared<spf::RecordCache>())
  {
    m_check.profile = options.profile ? options.profile
                                      : std::shared_ptr<const SenderProfile>(&directo_profile(),
                                                                             [](const SenderProfile*) {});
    m_check.bulk = !options.no_bulk;
    m_check.checks = options.checks;
    m_check.selector = options.selector;
    m_check.dkim_reference = options.dkim_reference;
    m_check.cache = m_cache;
    m_check.memo = std::make_shared<spf::EvaluationMemo>(); // one per run: every check uses m_stack.top()
    m_check.keep_trace = options.verbose;
    if (options.suggest != SuggestMode::off) {
      suggest::SuggestOptions suggest_options;
      suggest_options.profile = m_check.profile;
      suggest_options.bulk = m_check.bulk;
      suggest_options.cache = m_cache;
      suggest_options.style = options.ip_style == IpStyle::host  ? suggest::IpStyle::host
                              : options.ip_style == IpStyle::ip4 ? suggest::IpStyle::ip4
                                                                 : suggest::IpStyle::automatic;
      m_check.suggest = suggest_options;
    }
    // With -f or several domains, each suggested record is prefixed by its domain so the lines can be told apart.
    m_prefix_suggestions = !options.domain_file.empty() || options.domains.size() > 1;
    m_text.color = decide_color(options);
    m_text.detail = options.quiet     ? report::Detail::quiet
                    : options.verbose ? report::Detail::verbose
                                      : report::Detail::normal;
    m_json.include_trace = options.verbose;
    m_progress = !options.quiet && isatty(STDERR_FILENO) != 0;
  }

  int
  run()
  {
    if (m_options.json) {
      write_out(stdout, report::json_document_start(*m_check.profile));
    }
    fill();
    while (!m_window.empty()) {
      m_stack.top().run();
      fill();
      if (!m_window.empty() && !m_window.front()->done) {
        throw std::logic_error("a check did not complete when DNS ran out of work");
      }
    }
    clear_progress();

    std::vector<std::string> notes = m_stack.notes;
    const auto& outside = m_stack.layered().outside_names();
    if (m_stack.layered().offline() && !outside.empty()) {
      std::string names;
      size_t shown = 0;
      for (const auto& name : outside) {
        if (shown++ == 5) {
          names += ", ...";
          break;
        }
        names += names.empty() ? name : ", " + name;
      }
      notes.push_back(fmt::format("{} name(s) outside the zone files were treated as absent: {}", outside.size(),
                                  names));
    }
    m_summary.exit_code = m_exit;
    if (m_options.json) {
      write_out(stdout, report::json_document_end(m_summary, notes));
    } else if (!m_options.quiet && (m_options.suggest == SuggestMode::off || m_options.verbose) && !notes.empty()
               && m_stack.layered().offline() && !outside.empty()) {
      std::fflush(stdout);
      for (const auto& note : notes) {
        write_out(stderr, fmt::format("note: {}\n", note));
      }
    }
    std::fflush(stdout);
    return m_exit;
  }

private:
  /// Writes every finished report at the front of the window, then starts checks until the window is full.
  void
  fill()
  {
    if (m_filling) {
      return; // A check finished synchronously inside start(); the loop below picks it up.
    }
    m_filling = true;
    while (true) {
      flush_ready();
      if (m_window.size() >= m_options.concurrency) {
        break;
      }
      auto next = m_source.next();
      if (!next) {
        break;
      }
      start(std::move(next->first), std::move(next->second));
    }
    m_filling = false;
  }

  void
  start(std::string input, std::string where)
  {
    auto slot = std::make_shared<Slot>();
    slot->input = std::move(input);
    slot->where = std::move(where);
    m_window.push_back(slot);
    auto domain = parse_domain_input(slot->input);
    if (!domain) {
      slot->error = slot->where.empty() ? domain.error() : fmt::format("{}: {}", slot->where, domain.error());
      slot->done = true;
      return;
    }
    slot->domain = std::move(*domain);
    util::spawn<report::DomainReport>(
      report::check_domain(m_stack.top(), slot->domain->ascii, m_check),
      [this, slot](report::DomainReport result) {
        result.unicode = slot->domain->unicode;
        result.note = slot->domain->note;
        slot->report = std::move(result);
        slot->done = true;
        fill();
      },
      [slot](std::exception_ptr error) { std::rethrow_exception(error); });
  }

  void
  flush_ready()
  {
    while (!m_window.empty() && m_window.front()->done) {
      write(*m_window.front());
      m_window.pop_front();
      ++m_finished;
      show_progress();
    }
  }

  void
  write(const Slot& slot)
  {
    ++m_summary.domains;
    if (!slot.report) {
      ++m_summary.invalid;
      m_exit = combine_exit(m_exit, static_cast<int>(ExitCode::usage));
      if (m_options.json) {
        write_separator();
        write_out(stdout, indented_dump(report::invalid_input_to_json(slot.input, slot.error)));
      } else {
        write_out(stderr, fmt::format("sendcheck: {}\n", util::terminal_safe(slot.error)));
      }
      return;
    }
    const auto& result = *slot.report;
    switch (result.status) {
    case report::DomainStatus::good:
      ++m_summary.good;
      break;
    case report::DomainStatus::problem:
      ++m_summary.problem;
      break;
    case report::DomainStatus::dns_error:
      ++m_summary.dns_error;
      break;
    case report::DomainStatus::not_found:
      ++m_summary.not_found;
      break;
    }
    m_exit = combine_exit(m_exit, result.suggestion ? suggestion_exit_code(*result.suggestion)
                                                    : report::exit_code(result.status));
    if (result.suggestion && !m_options.json) {
      write_suggestion(result, *result.suggestion);
    } else if (m_options.json) {
      write_separator();
      std::string json;
      report::write_domain_json(json, result, m_json);
      write_out(stdout, json);
    } else {
      if (m_written++ > 0 && m_text.detail != report::Detail::quiet) {
        write_out(stdout, "\n");
      }
      write_out(stdout, report::render_text(result, m_text));
    }
  }

  /// --suggest: the record (or zone-file line) alone on stdout, the explanation on stderr.
  void
  write_suggestion(const report::DomainReport& result, const suggest::Suggestion& suggestion)
  {
    const std::string name = util::escape_for_display(result.unicode);
    const bool printed = !suggestion.record.empty()
                         && (suggestion.status == suggest::SuggestStatus::changed
                             || suggestion.status == suggest::SuggestStatus::unchanged);
    if (!m_options.quiet) {
      std::string explanation;
      if (suggestion.status == suggest::SuggestStatus::unchanged) {
        explanation += fmt::format("{}: the published record is already right; it is printed unchanged.\n", name);
      }
      for (const auto& change : suggestion.changes) {
        explanation += fmt::format("{}: {}\n", name, util::escape_for_display(change.message));
      }
      for (const auto& warning : suggestion.warnings) {
        explanation += fmt::format("{}: warning: {}\n", name, util::escape_for_display(warning));
      }
      if (printed && suggestion.verification.ran) {
        explanation += fmt::format(
          "{}: verified: every {} address passes with this record; {}/10 DNS lookups, {}/2 void lookups.\n", name,
          m_check.profile->name, suggestion.verification.total_dns_terms,
          suggestion.verification.total_void_lookups);
      }
      if (!printed) {
        explanation += fmt::format("{}: no record printed: {}\n", name,
                                   util::escape_for_display(suggestion.failure.empty()
                                                              ? std::string("no correct record could be built")
                                                              : suggestion.failure));
      }
      std::fflush(stdout);
      write_out(stderr, explanation);
    }
    if (!printed) {
      return;
    }
    std::string line = m_options.suggest == SuggestMode::zone ? suggest::zone_file_line(result.domain, suggestion.record)
                                                              : suggestion.record;
    if (m_prefix_suggestions && m_options.suggest != SuggestMode::zone) {
      line = fmt::format("{}: {}", result.domain, line);
    }
    write_out(stdout, util::escape_for_display(line) + "\n");
  }

  /// The exit code of a --suggest run: 0 printed, 1 impossible, 3 DNS failure.
  static int
  suggestion_exit_code(const suggest::Suggestion& suggestion)
  {
    switch (suggestion.status) {
    case suggest::SuggestStatus::unchanged:
    case suggest::SuggestStatus::changed:
      return static_cast<int>(ExitCode::ok);
    case suggest::SuggestStatus::impossible:
      return static_cast<int>(ExitCode::problem);
    case suggest::SuggestStatus::dns_error:
      return static_cast<int>(ExitCode::dns_unavailable);
    }
    return static_cast<int>(ExitCode::problem);
  }

  void
  write_separator()
  {
    write_out(stdout, m_written++ == 0 ? "\n" : ",\n");
  }

  /// `json` pretty-printed (2-space steps) and indented by four spaces, to sit inside the "domains" array.
  static std::string
  indented_dump(const nlohmann::ordered_json& json)
  {
    // What ordered_json::dump(2, ' ', false, replace) does, but with the serializer starting at indentation 4: its
    // public dump() has no starting indentation, and re-indenting a copy line by line cost as much as the dump.
    std::string out = "    ";
    nlohmann::detail::serializer<nlohmann::ordered_json> serializer(
      nlohmann::detail::output_adapter<char, std::string>(out), ' ',
      nlohmann::ordered_json::error_handler_t::replace);
    serializer.dump(json, true, false, 2, 4);
    return out;
  }

  void
  show_progress()
  {
    if (!m_progress || m_finished % 10 != 0) {
      return;
    }
    std::fprintf(stderr, "\r%zu domains checked, %zu in flight ", m_finished, m_window.size());
    m_progress_shown = true;
  }

  void
  clear_progress()
  {
    if (m_progress_shown) {
      std::fputs("\r\x1b[K", stderr);
    }
  }

  const Options& m_options;
  ResolverStack& m_stack;
  DomainSource& m_source;
  std::shared_ptr<spf::RecordCache> m_cache;
  report::CheckOptions m_check;
  report::TextOptions m_text;
  report::JsonOptions m_json;
  std::deque<std::shared_ptr<Slot>> m_window;
  report::RunSummary m_summary;
  bool m_filling = false;
  bool m_prefix_suggestions = false;
  bool m_progress = false;
  bool m_progress_shown = false;
  size_t m_finished = 0;
  size_t m_written = 0;
  int m_exit = 0;
};

} // namespace

int
run_checks(const Options& options, ResolverStack& stack)
{
  DomainSource source(options);
  if (auto problem = source.open(); !problem.empty()) {
    std::fputs(fmt::format("sendcheck: {}\n", problem).c_str(), stderr);
    return static_cast<int>(ExitCode::usage);
  }
  for (const auto& record : options.records) {
    for (const auto& domain : options.domains) {
      if (auto checked = parse_domain_input(domain)) {
        stack.overlay().add_txt(checked->ascii, record);
      }
    }
  }
  try {
    Runner runner(options, stack, source);
    return runner.run();
  } catch (const OutputClosed&) {
    return static_cast<int>(ExitCode::ok);
  }
}

} // namespace sendcheck::cli
