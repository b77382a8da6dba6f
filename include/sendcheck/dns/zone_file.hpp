#pragma once

#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/util/result.hpp>

#include <string>
#include <string_view>

// Loading RFC 1035 zone files (`--zone FILE`) into a ZoneResolver with Knot DNS's libzscanner.

namespace sendcheck::dns {

/// Loads the zone file at `path` into `zone`: A, AAAA, MX, TXT (each character-string kept separate), PTR and CNAME
/// records; a quoted TXT string over 255 octets is split by libzscanner
/// into 255-octet strings, as it would be on the wire; records of other types are counted in
/// `ZoneFileInfo::skipped_types` and ignored. `default_origin` is the origin for relative names before any `$ORIGIN`
/// (none: names must be absolute until a `$ORIGIN`).
///
/// The zone's origin is the owner of its first SOA record, else the origin in effect at its first record; it and
/// every SOA owner are given to `ZoneResolver::add_apex` (the root is never made an apex). Nothing is added to
/// `zone` unless the whole file parses: a syntax error or an unreadable file gives a `ZoneFileError` naming the
/// line (libzscanner reports no column, so `column` stays 0) with the problem and what was expected, in plain words.
util::Result<ZoneFileInfo, ZoneFileError> load_zone_file(ZoneResolver& zone,
                                                         const std::string& path,
                                                         std::string_view default_origin = {});

/// Like `load_zone_file`, but reads the zone from `text`; `source` names it in errors (tests, `--record`-like input).
util::Result<ZoneFileInfo, ZoneFileError> load_zone_text(ZoneResolver& zone,
                                                         std::string_view text,
                                                         const std::string& source,
                                                         std::string_view default_origin = {});

/// `error` as one line: "FILE:LINE:COLUMN: MESSAGE" (without the column when unknown, without LINE when 0).
std::string to_string(const ZoneFileError& error);

} // namespace sendcheck::dns
