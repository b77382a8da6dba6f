#pragma once

#include <sendcheck/dns/resolver.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sendcheck::dns {

/// How candidate TXT records combine with the records published at their name.
enum class OverlayMode : uint8_t
{
  /// The candidates are the only TXT records at the name.
  replace_all,
  /// Published records with the same version tag as a candidate ("v=spf1", "v=DMARC1", ... — the text before the
  /// first space or ';', when it starts with "v=") are replaced; other published TXT records stay. A candidate
  /// without a version tag is added beside the published records.
  replace_same_version,
};

/// A Resolver that puts candidate TXT records at a name over another resolver, so that a record is checked before
/// anyone publishes it (`--record 'v=spf1 ...'`, verifying a `--suggest` result). TXT queries for exactly that name
/// get the candidates; every other query goes to the underlying resolver unchanged.
class OverlayResolver : public Resolver
{
public:
  /// An overlay over `underlying`, which must outlive it. Until a candidate is added it hands every call to
  /// `underlying` unchanged (`answering()` is `underlying`'s).
  explicit OverlayResolver(Resolver& underlying, OverlayMode mode = OverlayMode::replace_same_version);

  /// Adds the candidate TXT record `text` at `name`, split into 255-octet character-strings when longer (one string
  /// otherwise), as a DNS provider would publish it.
  void add_txt(std::string_view name, std::string_view text);

  /// Adds the candidate TXT record `record` at `name`, its character-strings exactly as given.
  void add_txt_record(std::string_view name, TxtRecord record);

  /// Whether a candidate is held for `name`.
  bool has_candidate(std::string_view name) const;

  /// TXT at a candidate's name: the candidates (over the published records, per the mode); else the underlying answer.
  void query(std::string_view name, RRType type, Callback done) override;
  /// Runs the underlying resolver's event loop.
  void run() override;
  /// Passes the hint on, unless the candidates alone answer it.
  void prefetch(std::string_view name, RRType type) override;

private:
  AnswerPtr overlay(const std::string& name,
                    const std::vector<TxtRecord>& candidates,
                    const AnswerPtr& published) const;

  Resolver& m_underlying;
  OverlayMode m_mode;
  std::map<std::string, std::vector<TxtRecord>, std::less<>> m_candidates; ///< By normalized name.
};

/// `text` split into character-strings of at most 255 octets (one empty string for empty text).
std::vector<std::string> split_txt(std::string_view text);

} // namespace sendcheck::dns
