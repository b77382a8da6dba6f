#include <sendcheck/cli/run.hpp>

#include <sendcheck/cli/app.hpp>
#include <sendcheck/cli/domain_input.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/report/json.hpp>
#include <sendcheck/report/text.hpp>
#include <sendcheck/suggest/suggest.hpp>
#include <sendcheck/util/strings.hpp>
#include <sendcheck/util/text_buffer.hpp>

#include <fmt/format.h>

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

namespace sendcheck::cli {

namespace {

/// Thrown when output cannot be written: the reader went away (EPIPE: `sendcheck -f big.txt | head -1`, the run
/// stops quietly) or the write failed (a full disk: the run stops with an error, never with a cut-off document and
/// exit 0).
struct OutputClosed
{
  int error = 0; ///< The errno of the failed write.
};

/// Writes `text` to `stream`, or throws OutputClosed when it cannot.
void
write_out(std::FILE* stream, std::string_view text)
{
  if (text.empty()) {
    return;
  }
  if (std::fwrite(text.data(), 1, text.size(), stream) != text.size()) {
    throw OutputClosed{errno};
  }
}

/// Flushes `stream`, or throws OutputClosed when it cannot.
void
flush_out(std::FILE* stream)
{
  if (std::fflush(stream) != 0) {
    throw OutputClosed{errno};
  }
}

/// A domain as written, and where it came from.
struct SourceDomain
{
  std::string text;
  std::string_view file; ///< "stdin" or the path of `-f`; empty for an argument.
  size_t line = 0;       ///< The line in `file`.
};

/// The domains to check: the arguments first, then the lines of `-f FILE` (read as needed, so a file of any size
/// is streamed).
class DomainSource
{
public:
  explicit DomainSource(const Options& options)
    : m_arguments(options.domains),
      m_path(options.domain_file),
      m_file_name(m_path == "-" ? "stdin" : m_path)
  {
  }

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
    m_reader.emplace(m_file);
    m_pending = m_reader->next();
    if (m_reader->binary()) {
      return fmt::format("-f: {} is not a text file (it contains NUL bytes); give a file with one domain a line",
                         shown);
    }
    if (const auto error = m_reader->read_error()) {
      return fmt::format("-f: cannot read {}: {}", shown, std::strerror(*error));
    }
    if (!m_pending && m_arguments.empty()) {
      return fmt::format("-f: {} holds no domains (one domain a line; '#' starts a comment)", shown);
    }
    return {};
  }

  /// The next domain, or nullopt at the end.
  std::optional<SourceDomain>
  next()
  {
    if (m_next_argument < m_arguments.size()) {
      return SourceDomain{m_arguments[m_next_argument++], {}, 0};
    }
    if (!m_pending) {
      return std::nullopt;
    }
    SourceDomain current{std::move(m_pending->text), m_file_name, m_pending->number};
    m_pending = m_reader->next();
    return current;
  }

private:
  std::vector<std::string> m_arguments;
  size_t m_next_argument = 0;
  std::string m_path;
  std::string m_file_name; ///< How error messages name the file.
  std::FILE* m_file = nullptr;
  std::optional<DomainFileReader> m_reader;
  std::optional<DomainLine> m_pending;
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

/// How the JSON document is laid out: --json=indented or --json=lines, else indented for a terminal and one line per
/// domain for a file or a pipe (a third smaller, and a script can read it a line at a time; `jq .` indents it).
report::JsonLayout
decide_json_layout(const Options& options)
{
  switch (options.json_form) {
  case JsonForm::indented:
    return report::JsonLayout::indented;
  case JsonForm::lines:
    return report::JsonLayout::lines;
  case JsonForm::automatic:
    break;
  }
  return isatty(STDOUT_FILENO) != 0 ? report::JsonLayout::indented : report::JsonLayout::lines;
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

/// One domain's output, rendered by the worker that checked it; the writer puts it out in input order.
struct Rendered
{
  std::string err;    ///< For standard error, written first (standard output is flushed before it).
  /// For standard output. An entry starts with what goes between it and the entry before (see `Renderer::separator`).
  util::TextBuffer out;
  bool entry = false; ///< A member of the JSON "domains" array or a text report: the writer separates entries.
  /// For an entry: how many bytes at the start of `out` are written only when an entry came before (the comma before
  /// a JSON member, the blank line before a text report); the writer leaves them out of the first entry.
  size_t only_after_entry = 0;
  std::optional<report::DomainStatus> status; ///< Nullopt for input that is not a valid domain.
  int exit_code = 0;
};

/// The buffers that domains' output is rendered into, handed back once written: a buffer taken from here has the
/// room of an earlier domain's output, so rendering into it neither allocates nor grows it (a new string for every
/// domain cost an allocation and a copy of the JSON into it). Bounded: it keeps at most `kept` buffers of at most
/// `k_kept_capacity` bytes. Thread-safe: the workers take, whichever of them writes gives back.
class OutputPool
{
public:
  /// A pool that keeps up to `kept` buffers.
  explicit OutputPool(size_t kept) : m_kept(kept) {}

  /// An empty buffer, with room when one was given back.
  util::TextBuffer
  take()
  {
    const std::lock_guard lock(m_mutex);
    if (m_free.empty()) {
      return {};
    }
    util::TextBuffer text = std::move(m_free.back());
    m_free.pop_back();
    return text;
  }

  /// Gives back buffers that have been written (and empties `buffers`); each is kept (emptied) for a later take()
  /// unless the pool is full or the buffer is larger than a domain's output usually is.
  void
  give_back(std::vector<util::TextBuffer>& buffers)
  {
    const std::lock_guard lock(m_mutex);
    for (auto& buffer : buffers) {
      if (m_free.size() < m_kept && buffer.capacity() <= k_kept_capacity) {
        buffer.clear();
        m_free.push_back(std::move(buffer));
      }
    }
    buffers.clear();
  }

private:
  /// A buffer larger than this (a domain with a huge record or trace) is freed, not kept.
  static constexpr size_t k_kept_capacity = size_t{1} << 16;

  size_t m_kept;
  std::mutex m_mutex;
  std::vector<util::TextBuffer> m_free;
};

/// Turns a finished check (or a rejected input line) into what is printed. Shared by every worker: it only reads.
class Renderer
{
public:
  explicit Renderer(const Options& options)
    : m_options(options),
      m_profile_name(options.profile ? options.profile->name : directo_profile().name),
      // With -f or several domains, each suggested record is prefixed by its domain so the lines can be told apart.
      m_prefix_suggestions(!options.domain_file.empty() || options.domains.size() > 1)
  {
    m_text.color = decide_color(options);
    m_text.detail = options.quiet     ? report::Detail::quiet
                    : options.verbose ? report::Detail::verbose
                                      : report::Detail::normal;
    m_json.include_trace = options.verbose;
    m_json.layout = decide_json_layout(options);
  }

  /// How the JSON document is laid out.
  report::JsonLayout json_layout() const { return m_json.layout; }

  /// Input that is not a valid domain: a JSON entry, or an error line on standard error.
  Rendered
  invalid(const std::string& input, const std::string& error) const
  {
    Rendered rendered;
    rendered.exit_code = static_cast<int>(ExitCode::usage);
    if (m_options.json) {
      start_entry(rendered);
      rendered.out.append(report::entry_json(report::invalid_input_to_json(input, error), m_json.layout));
    } else {
      rendered.err = fmt::format("sendcheck: {}\n", util::terminal_safe(error));
    }
    return rendered;
  }

  /// A finished check: the JSON entry, the text report, or the suggested record, rendered into `buffer` (empty, from
  /// the OutputPool).
  Rendered
  report(const report::DomainReport& result, util::TextBuffer buffer) const
  {
    Rendered rendered;
    rendered.out = std::move(buffer);
    rendered.status = result.status;
    rendered.exit_code = result.suggestion ? suggestion_exit_code(*result.suggestion)
                                           : report::exit_code(result.status);
    if (result.suggestion && !m_options.json) {
      write_suggestion(rendered, result, *result.suggestion);
    } else if (m_options.json) {
      start_entry(rendered);
      report::write_domain_json(rendered.out, result, m_json);
    } else {
      start_entry(rendered);
      rendered.out.append_with([&](std::string& text) { report::render_text(text, result, m_text); });
    }
    return rendered;
  }

private:
  /// Makes `rendered` an entry and starts its output with the separator (so that the writer writes an entry with
  /// one call): JSON array members are separated by commas (the first is preceded by a line end only), text reports
  /// by a blank line.
  void
  start_entry(Rendered& rendered) const
  {
    rendered.entry = true;
    if (m_options.json) {
      rendered.out.append(",\n");
      rendered.only_after_entry = 1;
    } else if (m_text.detail != report::Detail::quiet) {
      rendered.out.append("\n");
      rendered.only_after_entry = 1;
    }
  }

  /// --suggest: the record (or zone-file line) alone on stdout, the explanation on stderr.
  void
  write_suggestion(Rendered& rendered, const report::DomainReport& result,
                   const suggest::Suggestion& suggestion) const
  {
    const std::string name = util::escape_for_display(result.unicode);
    const bool printed = !suggestion.record.empty()
                         && (suggestion.status == suggest::SuggestStatus::changed
                             || suggestion.status == suggest::SuggestStatus::unchanged);
    if (!m_options.quiet) {
      std::string& explanation = rendered.err;
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
          m_profile_name, suggestion.verification.total_dns_terms, suggestion.verification.total_void_lookups);
      }
      if (!printed) {
        explanation += fmt::format("{}: no record printed: {}\n", name,
                                   util::escape_for_display(suggestion.failure.empty()
                                                              ? std::string("no correct record could be built")
                                                              : suggestion.failure));
      }
    }
    if (!printed) {
      return;
    }
    std::string line = m_options.suggest == SuggestMode::zone ? suggest::zone_file_line(result.domain, suggestion.record)
                                                              : suggestion.record;
    if (m_prefix_suggestions && m_options.suggest != SuggestMode::zone) {
      line = fmt::format("{}: {}", result.domain, line);
    }
    rendered.out.append(util::escape_for_display(line));
    rendered.out.append("\n");
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

  const Options& m_options;
  std::string m_profile_name;
  bool m_prefix_suggestions = false;
  report::TextOptions m_text;
  report::JsonOptions m_json;
};

/// A domain handed to a worker: its place in the input, the text as written and where it came from.
struct Taken
{
  size_t sequence = 0;
  SourceDomain domain;
};

/// Where the workers take domains from and hand their output back, and where the writer takes the output in input
/// order. At most `window` domains are taken and not yet written (in flight, or finished and waiting for an earlier
/// one), which bounds memory however long the input is; each worker also bounds its own checks in flight. Thread-safe.
class Exchange
{
public:
  Exchange(DomainSource& source, size_t window) : m_source(source), m_window(window) {}

  /// The next domain, or nullopt when the window is full, the input is done or the run is stopping.
  std::optional<Taken>
  take()
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping || m_input_done || m_taken - m_written >= m_window) {
      return std::nullopt;
    }
    auto next = m_source.next();
    if (!next) {
      m_input_done = true;
      m_room_changed.notify_all();
      return std::nullopt;
    }
    m_pending.emplace_back();
    return Taken{m_taken++, std::move(*next)};
  }

  /// Blocks until take() may give a domain (true) or never will (false: the input is done or the run is stopping).
  bool
  wait_for_room()
  {
    std::unique_lock lock(m_mutex);
    m_room_changed.wait(lock, [this] { return m_stopping || m_input_done || m_taken - m_written < m_window; });
    return !m_stopping && !m_input_done;
  }

  /// A worker's output for the domain taken as `sequence`. Returns whether it is the next to write: if not, the
  /// output of an earlier domain is missing, and nothing can be written until that one is delivered (whose
  /// deliverer then writes this one too).
  bool
  deliver(size_t sequence, Rendered&& rendered)
  {
    const std::lock_guard lock(m_mutex);
    m_pending[sequence - m_written] = std::move(rendered);
    return sequence == m_written;
  }

  /// The output of the next domain in input order if it is ready; nullopt if not (yet).
  std::optional<Rendered>
  next_ready()
  {
    const std::lock_guard lock(m_mutex);
    if (m_pending.empty() || !m_pending.front()) {
      return std::nullopt;
    }
    std::optional<Rendered> front = std::move(m_pending.front());
    m_pending.pop_front();
    ++m_written;
    m_room_changed.notify_all();
    return front;
  }

  /// Whether every domain taken has been written and the input is done.
  bool
  all_written()
  {
    const std::lock_guard lock(m_mutex);
    return m_input_done && m_written == m_taken;
  }

  /// Domains taken and not yet written.
  size_t
  outstanding()
  {
    const std::lock_guard lock(m_mutex);
    return m_taken - m_written;
  }

  /// A worker failed (a bug, or out of memory): the run stops, and run_workers rethrows `error` once every worker
  /// has ended.
  void
  fail(std::exception_ptr error)
  {
    const std::lock_guard lock(m_mutex);
    if (!m_failure) {
      m_failure = std::move(error);
    }
    m_stopping = true;
    m_room_changed.notify_all();
  }

  /// No more domains are handed out (the output is gone, or a worker failed); checks in flight still finish.
  void
  stop()
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_room_changed.notify_all();
  }

  /// What a worker failed with, if one did.
  std::exception_ptr
  failure()
  {
    const std::lock_guard lock(m_mutex);
    return m_failure;
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_room_changed;  ///< Idle workers wait here.
  DomainSource& m_source;
  size_t m_window;
  size_t m_taken = 0;   ///< Sequence number of the next domain taken.
  size_t m_written = 0; ///< Sequence number of the next domain to write.
  std::deque<std::optional<Rendered>> m_pending; ///< Taken and not written, from m_written on.
  bool m_input_done = false;
  bool m_stopping = false;
  std::exception_ptr m_failure;
};

/// How long written output may wait in standard output's buffer while a run goes on (when it is not a terminal):
/// a reader such as `tee` or a CI log sees the reports as they come, and the run makes one write(2) per 64 KiB
/// instead of one per 4 KiB (BUFSIZ) or per report.
constexpr auto k_flush_interval = std::chrono::milliseconds(100);

/// Writes the rendered domains in input order, counts them for the summary and shows the progress line. A worker
/// that delivers a report calls write_ready(): if another worker is writing, it does not wait for it (the writing
/// worker writes this report too before it leaves). It never throws into them: when standard output fails, the
/// writer stops the exchange and the run winds down (closed() tells). The strings written go back to `pool`.
class Writer
{
public:
  Writer(const Options& options, const Renderer& renderer, Exchange& exchange, OutputPool& pool)
    : m_options(options), m_renderer(renderer), m_exchange(exchange), m_pool(pool)
  {
    m_progress = !options.quiet && isatty(STDERR_FILENO) != 0;
  }

  /// Writes the output of every domain that is ready, in input order, unless another thread is writing: then that
  /// thread writes it (a request flag, checked after each round, makes sure nothing ready is left behind).
  void
  write_ready()
  {
    m_requested.store(true);
    while (m_requested.load()) {
      const std::unique_lock lock(m_mutex, std::try_to_lock);
      if (!lock.owns_lock()) {
        return; // The thread that holds it sees the request when its round ends.
      }
      m_requested.store(false);
      if (m_closed) {
        return;
      }
      try {
        bool wrote = false;
        while (auto rendered = m_exchange.next_ready()) {
          write(std::move(*rendered));
          wrote = true;
        }
        if (wrote && std::chrono::steady_clock::now() - m_last_flush >= k_flush_interval) {
          write_held();
          flush_out(stdout);
          m_last_flush = std::chrono::steady_clock::now();
        }
      } catch (const OutputClosed& closed) {
        m_closed = closed;
        m_exchange.stop();
      }
    }
  }

  /// Why standard output failed (a closed pipe: `sendcheck -f big.txt | head -1`), if it did.
  std::optional<OutputClosed>
  closed()
  {
    const std::lock_guard lock(m_mutex);
    return m_closed;
  }

  void
  start_document(const SenderProfile& profile)
  {
    write_held();
    if (m_options.json) {
      write_out(stdout, report::json_document_start(profile, m_renderer.json_layout()));
    }
  }

  /// The end of the run: the JSON summary, or the offline note on standard error. Returns the exit code.
  int
  finish(const std::vector<std::unique_ptr<ResolverStack>>& stacks)
  {
    clear_progress();
    const ResolverStack& first = *stacks.front();
    std::vector<std::string> notes = first.notes;
    std::set<std::string> outside;
    for (const auto& stack : stacks) {
      outside.insert(stack->layered().outside_names().begin(), stack->layered().outside_names().end());
    }
    const bool offline = first.layered().offline();
    if (offline && !outside.empty()) {
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
    write_held();
    if (m_options.json) {
      write_out(stdout, report::json_document_end(m_summary, notes, m_renderer.json_layout()));
    } else if (!m_options.quiet && (m_options.suggest == SuggestMode::off || m_options.verbose) && !notes.empty()
               && offline && !outside.empty()) {
      flush_out(stdout);
      for (const auto& note : notes) {
        write_out(stderr, fmt::format("note: {}\n", note));
      }
    }
    flush_out(stdout);
    return m_exit;
  }

private:
  /// Above this many bytes of held output, it is written (with the 64 KiB of standard output's own buffer, the size
  /// of the blocks written before).
  static constexpr size_t k_held_bytes = size_t{ 1 } << 16;

  /// One domain's output waiting for write_held: the rendered text, from `from` on.
  struct Held
  {
    util::TextBuffer text;
    size_t from = 0;
  };

  /// Writes the held outputs, after whatever standard output's own buffer holds, with writev(2): a domain's output is
  /// written from the string it was rendered into, not copied into stdio's buffer first (the copy was 2.5% of a
  /// 10,000-domain run's CPU time). Throws OutputClosed when standard output fails.
  void
  write_held()
  {
    if (m_held.empty()) {
      return;
    }
    flush_out(stdout);
    std::vector<iovec>& vectors = m_vectors;
    vectors.clear();
    for (auto& held : m_held) {
      vectors.push_back({ held.text.data() + held.from, held.text.size() - held.from });
    }
    size_t next = 0;
    while (next < vectors.size()) {
      const int count = static_cast<int>(std::min<size_t>(vectors.size() - next, IOV_MAX));
      const ssize_t written = ::writev(STDOUT_FILENO, vectors.data() + next, count);
      if (written < 0 && errno == EINTR) {
        continue;
      }
      if (written <= 0) {
        throw OutputClosed{ written < 0 ? errno : EIO };
      }
      // Past the vectors written whole, and into the one written in part.
      auto left = static_cast<size_t>(written);
      while (next < vectors.size() && left >= vectors[next].iov_len) {
        left -= vectors[next].iov_len;
        ++next;
      }
      if (left > 0) {
        vectors[next].iov_base = static_cast<char*>(vectors[next].iov_base) + left;
        vectors[next].iov_len -= left;
      }
    }
    for (auto& held : m_held) {
      m_written.push_back(std::move(held.text));
    }
    m_held.clear();
    m_pool.give_back(m_written);
    m_held_bytes = 0;
  }

  void
  write(Rendered&& rendered)
  {
    ++m_summary.domains;
    if (!rendered.status) {
      ++m_summary.invalid;
    } else {
      switch (*rendered.status) {
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
    }
    m_exit = combine_exit(m_exit, rendered.exit_code);
    if (!rendered.err.empty()) {
      write_held();
      flush_out(stdout);
      write_out(stderr, rendered.err);
    }
    size_t from = 0;
    if (rendered.entry && m_entries++ == 0) {
      from = rendered.only_after_entry;
    }
    if (m_hold && rendered.out.size() > from) {
      m_held_bytes += rendered.out.size() - from;
      m_held.push_back({ std::move(rendered.out), from });
      if (m_held_bytes >= k_held_bytes) {
        write_held();
      }
    } else {
      write_out(stdout, rendered.out.view().substr(from));
      m_written.push_back(std::move(rendered.out));
      m_pool.give_back(m_written);
    }
    ++m_finished;
    show_progress();
  }

  void
  show_progress()
  {
    if (!m_progress || m_finished % 10 != 0) {
      return;
    }
    std::fprintf(stderr, "\r%zu domains checked, %zu in flight ", m_finished, m_exchange.outstanding());
    m_progress_shown = true;
  }

  void
  clear_progress()
  {
    if (m_progress_shown) {
      std::fputs("\r\x1b[K", stderr);
    }
  }

  std::mutex m_mutex;
  std::atomic<bool> m_requested{false}; ///< Output was delivered since the writing thread last looked.
  const Options& m_options;
  const Renderer& m_renderer;
  Exchange& m_exchange;
  OutputPool& m_pool;
  report::RunSummary m_summary;
  bool m_progress = false;
  bool m_progress_shown = false;
  size_t m_finished = 0;
  size_t m_entries = 0;
  int m_exit = 0;
  /// Whether domains' output is held and written with writev (standard output is not a terminal, which gets each
  /// line at once through stdio).
  bool m_hold = isatty(STDOUT_FILENO) == 0;
  std::vector<Held> m_held;
  size_t m_held_bytes = 0;
  std::vector<iovec> m_vectors;             ///< write_held's, kept for the next.
  std::vector<util::TextBuffer> m_written; ///< Buffers written, on their way back to the pool.
  std::optional<OutputClosed> m_closed;
  std::chrono::steady_clock::time_point m_last_flush = std::chrono::steady_clock::now();
};

/// Checks domains on one resolver stack (one c-ares channel, one answer cache, one record cache and one evaluation
/// memo): it takes domains from the exchange while fewer than `max_in_flight` of its checks are running, and drives
/// its stack's event loop until the input is done. After each check it writes whatever output is ready (so no
/// thread is needed just to write).
class Worker
{
public:
  Worker(ResolverStack& stack, report::CheckOptions check, const Renderer& renderer, Exchange& exchange,
         Writer& writer, OutputPool& pool, size_t max_in_flight)
    : m_stack(stack),
      m_check(std::move(check)),
      m_renderer(renderer),
      m_exchange(exchange),
      m_writer(writer),
      m_pool(pool),
      m_max_in_flight(max_in_flight)
  {
  }

  void
  run()
  {
    while (true) {
      fill();
      if (m_in_flight == 0) {
        if (!m_exchange.wait_for_room()) {
          return;
        }
        continue;
      }
      m_stack.top().run();
      if (m_in_flight != 0) {
        throw std::logic_error("a check did not complete when DNS ran out of work");
      }
    }
  }

private:
  /// Starts checks until this worker has `max_in_flight` running or the exchange gives no more.
  void
  fill()
  {
    if (m_filling) {
      return; // A check finished synchronously inside start(); the loop below goes on.
    }
    m_filling = true;
    while (m_in_flight < m_max_in_flight) {
      auto taken = m_exchange.take();
      if (!taken) {
        break;
      }
      start(std::move(*taken));
    }
    m_filling = false;
  }

  void
  start(Taken&& taken)
  {
    const SourceDomain& input = taken.domain;
    auto domain = parse_domain_input(input.text);
    if (!domain) {
      const std::string error =
        input.file.empty() ? domain.error() : fmt::format("{}:{}: {}", input.file, input.line, domain.error());
      deliver(taken.sequence, m_renderer.invalid(input.text, error));
      return;
    }
    ++m_in_flight;
    // The names go along in the callback, which spawn keeps in the check's frame until the check ends.
    util::spawn<report::DomainReport>(
      report::check_domain(m_stack.top(), std::move(domain->ascii), m_check),
      [this, unicode = std::move(domain->unicode), note = std::move(domain->note),
       sequence = taken.sequence](report::DomainReport&& result) mutable {
        result.unicode = std::move(unicode);
        result.note = std::move(note);
        --m_in_flight;
        deliver(sequence, m_renderer.report(result, m_pool.take()));
        fill();
      },
      [](std::exception_ptr error) { std::rethrow_exception(error); });
  }

  void
  deliver(size_t sequence, Rendered&& rendered)
  {
    // Checks finish out of order: most outputs wait for an earlier one, and asking the writer would find nothing.
    if (m_exchange.deliver(sequence, std::move(rendered))) {
      m_writer.write_ready();
    }
  }

  ResolverStack& m_stack;
  report::CheckOptions m_check;
  const Renderer& m_renderer;
  Exchange& m_exchange;
  Writer& m_writer;
  OutputPool& m_pool;
  size_t m_max_in_flight;
  size_t m_in_flight = 0;
  bool m_filling = false;
};

/// The check options every worker starts from (each gets its own record cache and evaluation and cost memos).
report::CheckOptions
base_check_options(const Options& options)
{
  report::CheckOptions check;
  check.profile = options.profile ? options.profile
                                  : std::shared_ptr<const SenderProfile>(&directo_profile(),
                                                                         [](const SenderProfile*) {});
  check.bulk = !options.no_bulk;
  check.checks = options.checks;
  check.selector = options.selector;
  check.dkim_reference = options.dkim_reference;
  check.keep_trace = options.verbose;
  if (options.suggest != SuggestMode::off) {
    suggest::SuggestOptions suggest_options;
    suggest_options.profile = check.profile;
    suggest_options.bulk = check.bulk;
    suggest_options.style = options.ip_style == IpStyle::host  ? suggest::IpStyle::host
                            : options.ip_style == IpStyle::ip4 ? suggest::IpStyle::ip4
                                                               : suggest::IpStyle::automatic;
    check.suggest = suggest_options;
  }
  return check;
}

/// `base` with caches of its own, for one of `workers` workers: a record cache, an evaluation memo and a cost memo
/// (all tied to the worker's resolver stack, whose answers they remember), each a `workers`th of the usual size, so
/// that memory does not grow with --jobs.
report::CheckOptions
worker_check_options(const report::CheckOptions& base, size_t workers)
{
  report::CheckOptions check = base;
  check.cache = std::make_shared<spf::RecordCache>(worker_share(spf::RecordCache::k_default_capacity, workers));
  check.memo = std::make_shared<spf::EvaluationMemo>(worker_share(spf::EvaluationMemo::k_default_capacity, workers));
  check.cost_memo = std::make_shared<spf::CostMemo>(worker_share(spf::CostMemo::k_default_capacity, workers));
  if (check.suggest) {
    check.suggest->cache = check.cache;
  }
  return check;
}

/// How many finished reports, per domain in flight, may wait for an earlier one before no more domains are taken.
/// Checks take unequal times (an include chain, a TCP retry), so with a window only as large as the checks in flight
/// one slow domain stops every worker until it ends; four times as large kept two workers busy (10,000 domains
/// --only spf at --concurrency 256: 0.55 s -> 0.41 s) for about 7 KB of rendered JSON per waiting report.
constexpr size_t k_reorder_factor = 4;

/// Runs one worker per stack, the first on this thread and each other one on a thread of its own, and returns the
/// run's exit code.
int
run_workers(const Options& options, const std::vector<std::unique_ptr<ResolverStack>>& stacks, DomainSource& source)
{
  const Renderer renderer(options);
  const size_t window = k_reorder_factor * options.concurrency;
  Exchange exchange(source, window);
  // The writer holds 64 KiB of output at a time, some twenty domains' JSON: 64 buffers serve a steady run. While
  // a slow domain holds up those after it, more are in use (up to the window), and the extra ones are freed again:
  // keeping that many (window + 64) saved 0.2% of the instructions and cost 2 MB of peak memory (8%, 10,000
  // domains --json --only spf), keeping 64 about 0.5 MB.
  OutputPool pool(64);
  Writer writer(options, renderer, exchange, pool);
  const auto base = base_check_options(options);
  const size_t workers = stacks.size();
  const size_t per_worker = (options.concurrency + workers - 1) / workers;
  writer.start_document(*base.profile);

  // The other workers' threads, stopped and joined when this worker is done, and however this function is left (a
  // closed pipe, a failure). Stopping takes no domain from a worker: it only ends the taking of new ones.
  struct Threads
  {
    Exchange& exchange;
    std::vector<std::thread> threads;
    void
    join()
    {
      exchange.stop();
      for (auto& thread : threads) {
        thread.join();
      }
      threads.clear();
    }
    ~Threads() { join(); }
  } others{exchange, {}};
  others.threads.reserve(workers - 1);
  for (size_t index = 1; index < workers; ++index) {
    auto work = [&, check = worker_check_options(base, workers), stack = stacks[index].get()]() mutable {
      try {
        Worker(*stack, std::move(check), renderer, exchange, writer, pool, per_worker).run();
      } catch (...) {
        exchange.fail(std::current_exception()); // Rethrown on this thread once every worker has ended.
      }
    };
    others.threads.emplace_back(std::move(work));
  }
  Worker(*stacks.front(), worker_check_options(base, workers), renderer, exchange, writer, pool, per_worker).run();
  others.join();
  if (const auto failure = exchange.failure()) {
    std::rethrow_exception(failure);
  }
  if (const auto closed = writer.closed()) {
    throw *closed;
  }
  writer.write_ready();
  if (!exchange.all_written()) {
    throw std::logic_error("the workers ended with domains not written");
  }
  return writer.finish(stacks);
}

} // namespace

unsigned
worker_count(const Options& options)
{
  unsigned jobs = options.jobs;
  if (jobs == 0) {
    const bool several = !options.domain_file.empty() || options.domains.size() > 1;
    jobs = several ? std::clamp(std::thread::hardware_concurrency(), 1U, k_max_auto_jobs) : 1U;
  }
  return std::max(1U, std::min(jobs, options.concurrency));
}

int
run_checks(const Options& options, const std::vector<std::unique_ptr<ResolverStack>>& stacks)
{
  DomainSource source(options);
  if (auto problem = source.open(); !problem.empty()) {
    std::fputs(fmt::format("sendcheck: {}\n", problem).c_str(), stderr);
    return static_cast<int>(ExitCode::usage);
  }
  for (const auto& record : options.records) {
    for (const auto& domain : options.domains) {
      if (auto checked = parse_domain_input(domain)) {
        for (const auto& stack : stacks) {
          stack->overlay().add_txt(checked->ascii, record);
        }
      }
    }
  }
  // Standard output to a pipe or a file is written in 64 KiB blocks (the Writer flushes it every
  // k_flush_interval); to a terminal it stays line-buffered, so every line shows at once.
  static char output_buffer[1 << 16];
  if (isatty(STDOUT_FILENO) == 0) {
    std::setvbuf(stdout, output_buffer, _IOFBF, sizeof output_buffer);
  }
  try {
    return run_workers(options, stacks, source);
  } catch (const OutputClosed& closed) {
    if (closed.error == EPIPE) {
      return static_cast<int>(ExitCode::ok); // The reader has all it wanted.
    }
    std::fputs(fmt::format("sendcheck: cannot write the output: {}\n", std::strerror(closed.error)).c_str(), stderr);
    return static_cast<int>(ExitCode::problem);
  }
}

} // namespace sendcheck::cli
