#include <sendcheck/dkim/check.hpp>
#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/dkim/public_key.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include "../support/findings.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

using namespace sendcheck;
using namespace sendcheck::dkim;

namespace {

/// Test keys generated once per run with OpenSSL.
EVP_PKEY*
test_key(const std::string& kind)
{
  static std::map<std::string, EvpPkeyPtr> keys;
  auto it = keys.find(kind);
  if (it == keys.end()) {
    EVP_PKEY* key = nullptr;
    if (kind == "ed25519") {
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    } else {
      const size_t bits = std::stoul(kind.substr(3)); // "rsa2048", "rsa2048b"
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits);
    }
    REQUIRE(key != nullptr);
    it = keys.emplace(kind, EvpPkeyPtr(key)).first;
  }
  return it->second.get();
}

/// The base64 SubjectPublicKeyInfo of a test key.
std::string
spki_base64(const std::string& kind)
{
  EVP_PKEY* key = test_key(kind);
  const int size = i2d_PUBKEY(key, nullptr);
  std::vector<uint8_t> der(static_cast<size_t>(size));
  unsigned char* cursor = der.data();
  i2d_PUBKEY(key, &cursor);
  return encode_base64(der);
}

/// The base64 raw public key of the Ed25519 test key (the RFC 8463 form of p=).
std::string
ed25519_raw_base64()
{
  std::vector<uint8_t> raw(32);
  size_t size = raw.size();
  REQUIRE(EVP_PKEY_get_raw_public_key(test_key("ed25519"), raw.data(), &size) == 1);
  return encode_base64(raw);
}


using test::codes_of;
using test::find_code;

/// The damaged key of the vendor's Lithuanian help page (tests/zones/dkim/vendor-lt-damaged-key.txt), as lines.
std::string
vendor_damaged_value()
{
  std::ifstream in(std::string(SENDCHECK_SOURCE_DIR) + "/tests/zones/dkim/vendor-lt-damaged-key.txt");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// `text` cut into strings of at most 255 octets, as a DNS panel stores a long value.
std::vector<std::string>
chunks(const std::string& text, size_t size = 255)
{
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size(); i += size) {
    out.push_back(text.substr(i, size));
  }
  return out;
}

} // namespace

TEST_CASE("dkim::parse_key_record")
{
  SUBCASE("minimal record")
  {
    auto record = parse_key_record("k=rsa; p=MIIBIjAN");
    REQUIRE(record);
    CHECK(record->key_type == KeyType::rsa);
    CHECK(record->key_type_given);
    CHECK_FALSE(record->has_version);
    CHECK(record->public_key == "MIIBIjAN");
    CHECK(record->public_key_position == 9);
    CHECK_FALSE(record->revoked());
    CHECK(record->allows_email());
    CHECK(record->tags.size() == 2);
  }
  SUBCASE("defaults")
  {
    auto record = parse_key_record("p=AAAA");
    REQUIRE(record);
    CHECK(record->key_type == KeyType::rsa);
    CHECK_FALSE(record->key_type_given);
    CHECK(record->service_types == std::vector<std::string>{"*"});
    CHECK(record->hash_algorithms.empty());
  }
  SUBCASE("v=DKIM1 first")
  {
    auto record = parse_key_record("v=DKIM1; k=rsa; p=AAAA;");
    REQUIRE(record);
    CHECK(record->has_version);
  }
  SUBCASE("v= not first is an error")
  {
    auto record = parse_key_record("k=rsa; v=DKIM1; p=AAAA");
    REQUIRE_FALSE(record);
    CHECK(record.error().position == 7);
    CHECK(record.error().message == "'v=DKIM1' must be the first tag of the record (RFC 6376 §3.6.1)");
  }
  SUBCASE("other versions are an error")
  {
    auto record = parse_key_record("v=DKIM2; p=AAAA");
    REQUIRE_FALSE(record);
    CHECK(record.error().position == 2);
    CHECK(record.error().message == "'v=DKIM2' is not a DKIM key record version; it must be 'v=DKIM1'");
  }
  SUBCASE("key types")
  {
    CHECK(parse_key_record("k=ed25519; p=AAAA")->key_type == KeyType::ed25519);
    auto record = parse_key_record("k=dsa; p=AAAA");
    REQUIRE_FALSE(record);
    CHECK(record.error().position == 2);
    CHECK(record.error().message == "'k=dsa' is not a key type verifiers know; use 'k=rsa'");
  }
  SUBCASE("flags, hashes, services, notes")
  {
    auto record = parse_key_record("h=sha1:sha256; s=email; t=y:s:x; n=hello world; p=AAAA");
    REQUIRE(record);
    CHECK(record->hash_algorithms == std::vector<std::string>{"sha1", "sha256"});
    CHECK(record->service_types == std::vector<std::string>{"email"});
    CHECK(record->flags == std::vector<std::string>{"y", "s", "x"});
    CHECK(record->testing);
    CHECK(record->strict);
    CHECK(record->notes == "hello world");
    REQUIRE(record->notes_for_admin.size() == 1);
    CHECK(record->notes_for_admin[0].message == "'t=' has the unknown flag 'x'; it is ignored");
    CHECK_FALSE(parse_key_record("s=other; p=AAAA")->allows_email());
  }
  SUBCASE("empty p= means revoked")
  {
    auto record = parse_key_record("v=DKIM1; k=rsa; p=");
    REQUIRE(record);
    CHECK(record->revoked());
  }
  SUBCASE("missing p= is an error")
  {
    auto record = parse_key_record("v=DKIM1; k=rsa");
    REQUIRE_FALSE(record);
    CHECK(record.error().position == 14);
    CHECK(record.error().message == "the record has no 'p=' tag: the public key is missing (RFC 6376 §3.6.1)");
  }
  SUBCASE("duplicated tag is an error")
  {
    auto record = parse_key_record("k=rsa; p=AAAA; p=BBBB");
    REQUIRE_FALSE(record);
    CHECK(record.error().position == 15);
    CHECK(record.error().message == "the tag 'p' appears twice; a DKIM record must not repeat a tag");
  }
  SUBCASE("whitespace around tags and inside base64")
  {
    auto record = parse_key_record(" v = DKIM1 ;\r\n k = rsa ;\tp = MIIB IjAN\r\n\tBgkq ; ");
    REQUIRE(record);
    CHECK(record->has_version);
    CHECK(record->public_key == "MIIBIjANBgkq");
    CHECK(record->public_key_raw == "MIIB IjAN\r\n\tBgkq");
    CHECK(record->public_key_breaks == std::vector<size_t>{4, 8});
    CHECK(record->find("k")->value == "rsa");
  }
  SUBCASE("unknown tags are ignored and noted")
  {
    auto record = parse_key_record("k=rsa; foo=bar; p=AAAA");
    REQUIRE(record);
    REQUIRE(record->notes_for_admin.size() == 1);
    CHECK(record->notes_for_admin[0].position == 7);
    CHECK(record->notes_for_admin[0].message == "the tag 'foo' is not a DKIM key tag; verifiers ignore it");
  }
  SUBCASE("empty tag-spec is tolerated")
  {
    auto record = parse_key_record("k=rsa;; p=AAAA");
    REQUIRE(record);
    REQUIRE(record->notes_for_admin.size() == 1);
    CHECK(record->notes_for_admin[0].position == 6);
  }
  SUBCASE("grammar errors")
  {
    auto no_equals = parse_key_record("k=rsa; pAAAA");
    REQUIRE_FALSE(no_equals);
    CHECK(no_equals.error().position == 7);
    CHECK(no_equals.error().message == "'pAAAA' is not a tag: a tag is written name=value");

    auto bad_name = parse_key_record("1k=rsa; p=AAAA");
    REQUIRE_FALSE(bad_name);
    CHECK(bad_name.error().message == "the tag name '1k' must start with a letter");

    auto bad_char = parse_key_record("k=rsa; p=AA\xc3\xa4" "A");
    REQUIRE_FALSE(bad_char);
    CHECK(bad_char.error().position == 11);
    CHECK(bad_char.error().message
          == "the value of 'p' has the character '\\xC3' at offset 11, which is not allowed in a DKIM record (only "
             "printable ASCII)");

    auto empty = parse_key_record("  ");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message == "the record is empty");
  }
  SUBCASE("quotes are VALCHARs and parse")
  {
    auto record = parse_key_record("k=rsa; p=\"AAAA\"");
    REQUIRE(record);
    CHECK(record->public_key == "\"AAAA\"");
  }
}

TEST_CASE("dkim::PublicKey")
{
  SUBCASE("RSA sizes")
  {
    for (const int bits : {1024, 2048, 4096}) {
      const std::string kind = "rsa" + std::to_string(bits);
      auto key = PublicKey::from_base64(spki_base64(kind), KeyType::rsa);
      REQUIRE(key);
      CHECK(key->info().type == KeyType::rsa);
      CHECK(key->info().bits == bits);
      CHECK(key->info().der_size == rsa_spki_size(bits));
      CHECK(key->info().spki_sha256.size() == 64);
    }
    CHECK(rsa_spki_size(2048) == 294);
    CHECK(rsa_spki_size(1024) == 162);
  }
  SUBCASE("Ed25519 raw (RFC 8463) and SPKI forms are the same key")
  {
    auto raw = PublicKey::from_base64(ed25519_raw_base64(), KeyType::ed25519);
    REQUIRE(raw);
    CHECK(raw->info().type == KeyType::ed25519);
    CHECK(raw->info().bits == 256);
    auto spki = PublicKey::from_base64(spki_base64("ed25519"), KeyType::ed25519);
    REQUIRE(spki);
    CHECK(raw->same_key(*spki));
    CHECK(raw->info().spki_sha256 == spki->info().spki_sha256);
  }
  SUBCASE("key comparison")
  {
    auto a = PublicKey::from_base64(spki_base64("rsa2048"), KeyType::rsa);
    auto b = PublicKey::from_base64(spki_base64("rsa2048b"), KeyType::rsa);
    auto a2 = PublicKey::from_base64(spki_base64("rsa2048"), KeyType::rsa);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(a2);
    CHECK(a->same_key(*a2));
    CHECK_FALSE(a->same_key(*b));
    CHECK(a->info().spki_sha256 != b->info().spki_sha256);
  }
  SUBCASE("type mismatch")
  {
    auto key = PublicKey::from_base64(spki_base64("ed25519"), KeyType::rsa);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == KeyLoadErrorKind::type_mismatch);
    CHECK(key.error().message == "the key is an ed25519 key but the record says 'k=rsa'");
  }
  SUBCASE("bad base64 says where")
  {
    std::string text = spki_base64("rsa2048");
    text[100] = '"';
    auto key = PublicKey::from_base64(text, KeyType::rsa);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == KeyLoadErrorKind::bad_character);
    CHECK(key.error().position == 100);
    CHECK(key.error().message == "character 100 of the key is '\"' (a quote mark, not a base64 character)");

    auto short_text = PublicKey::from_base64(spki_base64("rsa2048").substr(0, 391), KeyType::rsa);
    REQUIRE_FALSE(short_text);
    CHECK(short_text.error().kind == KeyLoadErrorKind::bad_length);
    CHECK(short_text.error().message
          == "the key is 391 characters long, but base64 comes in groups of 4: 3 characters too many or 1 missing");

    auto padding = PublicKey::from_base64("AA==AAAA", KeyType::rsa);
    REQUIRE_FALSE(padding);
    CHECK(padding.error().kind == KeyLoadErrorKind::bad_padding);
  }
  SUBCASE("wrong size says the expected size")
  {
    auto key = PublicKey::from_base64(spki_base64("rsa2048").substr(0, 388), KeyType::rsa);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == KeyLoadErrorKind::not_a_key);
    CHECK(key.error().decoded_size == 291);
    CHECK(key.error().message == "the key is 291 bytes and is not a valid public key; a 2048-bit RSA key is 294 bytes");

    auto ed = PublicKey::from_base64("AAAA", KeyType::ed25519);
    REQUIRE_FALSE(ed);
    CHECK(ed.error().message == "the key is 3 bytes; an Ed25519 key is 32 bytes (RFC 8463)");
  }
  SUBCASE("empty")
  {
    auto key = PublicKey::from_base64("", KeyType::rsa);
    REQUIRE_FALSE(key);
    CHECK(key.error().kind == KeyLoadErrorKind::empty);
  }
}

TEST_CASE("dkim::find_repair")
{
  const std::string good = spki_base64("rsa2048");
  REQUIRE(good.substr(0, 44) == "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA");

  SUBCASE("an intact key needs no repair")
  {
    CHECK_FALSE(find_repair(good, KeyType::rsa));
  }
  SUBCASE("O read as Q in the header")
  {
    std::string damaged = good;
    damaged[26] = 'Q';
    auto repair = find_repair(damaged, KeyType::rsa);
    REQUIRE(repair);
    REQUIRE(repair->edits.size() == 1);
    CHECK(repair->edits[0].kind == KeyEdit::Kind::header);
    CHECK(repair->edits[0].position == 26);
    CHECK(repair->edits[0].original == "Q");
    CHECK(repair->edits[0].replacement == "O");
    CHECK(repair->repaired == good);
    CHECK(repair->info.bits == 2048);
    CHECK(repair->explanation.find("looks like a key copied from a PDF") != std::string::npos);
    CHECK(repair->explanation.find("not make it the right key") != std::string::npos);
  }
  SUBCASE("I read as l in the exponent's tag")
  {
    std::string damaged = good;
    REQUIRE(damaged.substr(damaged.size() - 6) == "IDAQAB");
    damaged[damaged.size() - 6] = 'l';
    auto repair = find_repair(damaged, KeyType::rsa);
    REQUIRE(repair);
    REQUIRE(repair->edits.size() == 1);
    CHECK(repair->edits[0].kind == KeyEdit::Kind::substitution);
    CHECK(repair->edits[0].position == good.size() - 6);
    CHECK(repair->edits[0].original == "l");
    CHECK(repair->edits[0].replacement == "I");
    CHECK(repair->candidates == 1);
    CHECK(repair->repaired == good);
  }
  SUBCASE("a lost character")
  {
    std::string damaged = good;
    damaged.erase(200, 1);
    auto repair = find_repair(damaged, KeyType::rsa);
    REQUIRE(repair);
    REQUIRE(repair->edits.size() == 1);
    CHECK(repair->edits[0].kind == KeyEdit::Kind::insertion);
    CHECK(repair->candidates > 1);
    CHECK(PublicKey::from_base64(repair->repaired, KeyType::rsa));
  }
  SUBCASE("an extra character")
  {
    std::string damaged = good;
    damaged.insert(390, "A");
    auto repair = find_repair(damaged, KeyType::rsa);
    REQUIRE(repair);
    CHECK(repair->edits.back().kind == KeyEdit::Kind::deletion);
    CHECK(PublicKey::from_base64(repair->repaired, KeyType::rsa));
  }
  SUBCASE("the vendor's damaged copy (Lithuanian help page)")
  {
    auto record = parse_key_record("k=rsa; " + vendor_damaged_value());
    REQUIRE(record);
    CHECK(record->public_key.size() == 392);
    CHECK(record->public_key_breaks == std::vector<size_t>{76, 152, 229, 306, 383});
    auto key = PublicKey::from_base64(record->public_key, KeyType::rsa);
    REQUIRE_FALSE(key);
    CHECK(key.error().message
          == "the key is 294 bytes, the size of a 2048-bit RSA key, but its bytes are not a valid public key");

    auto repair = find_repair(record->public_key, KeyType::rsa, record->public_key_breaks);
    REQUIRE(repair);
    REQUIRE(repair->edits.size() == 2);
    CHECK(repair->edits[0].kind == KeyEdit::Kind::header);
    CHECK(repair->edits[0].position == 26);
    CHECK(repair->edits[0].original == "AQ");
    CHECK(repair->edits[0].replacement == "O");
    REQUIRE(repair->short_line);
    CHECK(*repair->short_line == std::pair<size_t, size_t>{76, 152});
    CHECK(repair->edits[1].kind == KeyEdit::Kind::insertion);
    CHECK(repair->edits[1].position >= 75);
    CHECK(repair->edits[1].position <= 151);
    CHECK(repair->info.bits == 2048);
  }
}

TEST_CASE("dkim::check_dkim")
{
  const std::string reference = spki_base64("rsa2048");
  dns::ZoneResolver zone("test data");
  zone.add_txt("directo._domainkey.directo.ee", chunks("k=rsa; p=" + reference));

  const auto check = [&](const std::string& domain) {
    return dns::run_sync(zone, check_dkim(zone, domain, "directo", "directo.ee"));
  };

  SUBCASE("valid key, the reference key, split over strings")
  {
    zone.add_txt("directo._domainkey.good.ee", chunks("v=DKIM1; k=rsa; p=" + reference));
    const auto report = check("Good.EE.");
    CHECK(report.name == "directo._domainkey.good.ee");
    CHECK(report.status == DkimStatus::valid);
    CHECK(report.found_at == "directo._domainkey.good.ee");
    REQUIRE(report.key);
    CHECK(report.key->bits == 2048);
    CHECK(report.comparison == Comparison::same_key);
    CHECK(report.reference_key->spki_sha256 == report.key->spki_sha256);
    CHECK(codes_of(report.findings) == "dkim.split_strings,dkim.key_ok,dkim.key_match");
    CHECK(find_code(report.findings, "dkim.split_strings")->message
          == "The record at directo._domainkey.good.ee is split into 2 strings of 255, 155 octets; verifiers join "
             "them without spaces, which is fine");
    CHECK(worst(report.findings) == Severity::info);
  }
  SUBCASE("no record: the sender signs as its own domain")
  {
    const auto report = check("nokey.ee");
    CHECK(report.status == DkimStatus::no_record);
    CHECK(report.found_at.empty());
    REQUIRE(codes_of(report.findings) == "dkim.no_record");
    CHECK(report.findings[0].severity == Severity::warning);
    CHECK(report.findings[0].message
          == "No DKIM key is published at directo._domainkey.nokey.ee. Directo then signs as directo.ee, which is "
             "not aligned with nokey.ee, so DMARC depends on SPF alone");
  }
  SUBCASE("revoked")
  {
    zone.add_txt("directo._domainkey.revoked.ee", {"v=DKIM1; k=rsa; p="});
    const auto report = check("revoked.ee");
    CHECK(report.status == DkimStatus::revoked);
    CHECK(codes_of(report.findings) == "dkim.revoked");
    CHECK(report.comparison == Comparison::not_done);
  }
  SUBCASE("testing flag")
  {
    zone.add_txt("directo._domainkey.testing.ee", chunks("k=rsa; t=y; p=" + reference));
    const auto report = check("testing.ee");
    CHECK(report.status == DkimStatus::valid);
    CHECK(report.testing);
    CHECK(codes_of(report.findings) == "dkim.split_strings,dkim.testing,dkim.key_ok,dkim.key_match");
  }
  SUBCASE("doubled name")
  {
    zone.add_txt("directo._domainkey.doubled.ee.doubled.ee", chunks("k=rsa; p=" + reference));
    const auto report = check("doubled.ee");
    CHECK(report.status == DkimStatus::no_record);
    CHECK(report.found_at == "directo._domainkey.doubled.ee.doubled.ee");
    const auto* doubled = find_code(report.findings, "dkim.doubled_name");
    REQUIRE(doubled);
    CHECK(doubled->severity == Severity::error);
    CHECK(doubled->message
          == "The DKIM record is published at directo._domainkey.doubled.ee.doubled.ee instead of "
             "directo._domainkey.doubled.ee: the DNS panel appended the domain a second time, so verifiers find "
             "nothing");
    CHECK(doubled->fix == "Rename the record to 'directo._domainkey' (the panel adds '.doubled.ee' itself).");
    CHECK(report.comparison == Comparison::same_key);
  }
  SUBCASE("damaged PDF copy: O/Q substitution")
  {
    std::string damaged = reference;
    damaged[26] = 'Q';
    zone.add_txt("directo._domainkey.pdf.ee", chunks("k=rsa; p=" + damaged));
    const auto report = check("pdf.ee");
    CHECK(report.status == DkimStatus::invalid);
    CHECK(codes_of(report.findings) == "dkim.split_strings,dkim.key_invalid,dkim.key_damaged");
    REQUIRE(report.repair);
    CHECK(report.repair->repaired == reference);
    CHECK(find_code(report.findings, "dkim.key_damaged")->message.rfind("This looks like a key copied from a PDF", 0)
          == 0);
  }
  SUBCASE("damaged PDF copy: the vendor's page, O/Q and a lost character")
  {
    zone.add_txt("directo._domainkey.vendor.ee", chunks("k=rsa; " + vendor_damaged_value()));
    const auto report = check("vendor.ee");
    CHECK(report.status == DkimStatus::invalid);
    CHECK(codes_of(report.findings) == "dkim.split_strings,dkim.key_invalid,dkim.key_damaged");
    REQUIRE(report.key_error);
    CHECK(report.key_error->decoded_size == 294);
    REQUIRE(report.repair);
    CHECK(report.repair->edits.size() == 2);
  }
  SUBCASE("a different key than the reference")
  {
    zone.add_txt("directo._domainkey.other.ee", chunks("k=rsa; p=" + spki_base64("rsa2048b")));
    const auto report = check("other.ee");
    CHECK(report.status == DkimStatus::valid);
    CHECK(report.comparison == Comparison::different_key);
    const auto* mismatch = find_code(report.findings, "dkim.key_mismatch");
    REQUIRE(mismatch);
    CHECK(mismatch->severity == Severity::error);
    CHECK(mismatch->message
          == "The key at directo._domainkey.other.ee is not Directo's key: signatures made by Directo will not "
             "verify");
  }
  SUBCASE("quotes inside the value")
  {
    zone.add_txt("directo._domainkey.quoted.ee", chunks("\"k=rsa; p=" + reference + "\""));
    const auto report = check("quoted.ee");
    CHECK(report.status == DkimStatus::invalid);
    const auto* quotes = find_code(report.findings, "dkim.quotes_in_value");
    REQUIRE(quotes);
    CHECK(quotes->message
          == "The record at directo._domainkey.quoted.ee contains a literal quote mark at offset 0: the quotes or "
             "escapes typed into the DNS panel became part of the value");
  }
  SUBCASE("syntax errors: duplicated tag, missing p=, v= not first")
  {
    zone.add_txt("directo._domainkey.dup.ee", chunks("k=rsa; k=rsa; p=" + reference));
    zone.add_txt("directo._domainkey.nop.ee", {"v=DKIM1; k=rsa"});
    zone.add_txt("directo._domainkey.vlate.ee", chunks("k=rsa; v=DKIM1; p=" + reference));
    for (const auto& [domain, message] : std::vector<std::pair<std::string, std::string>>{
           {"dup.ee", "the tag 'k' appears twice; a DKIM record must not repeat a tag (offset 7)"},
           {"nop.ee", "the record has no 'p=' tag: the public key is missing (RFC 6376 §3.6.1) (offset 14)"},
           {"vlate.ee", "'v=DKIM1' must be the first tag of the record (RFC 6376 §3.6.1) (offset 7)"}}) {
      CAPTURE(domain);
      const auto report = check(domain);
      CHECK(report.status == DkimStatus::invalid);
      REQUIRE(codes_of(report.findings) == (domain == "nop.ee" ? "dkim.syntax" : "dkim.split_strings,dkim.syntax"));
      CHECK(find_code(report.findings, "dkim.syntax")->message
            == "The DKIM record at directo._domainkey." + domain + " is not valid: " + message);
    }
  }
  SUBCASE("several records")
  {
    zone.add_txt("directo._domainkey.two.ee", chunks("k=rsa; p=" + reference));
    zone.add_txt("directo._domainkey.two.ee", chunks("k=rsa; p=" + spki_base64("rsa2048b")));
    const auto report = check("two.ee");
    CHECK(report.status == DkimStatus::invalid);
    CHECK(report.records.size() == 2);
    CHECK(codes_of(report.findings) == "dkim.multiple_records,dkim.split_strings,dkim.split_strings");
  }
  SUBCASE("one string over 255 octets")
  {
    zone.add_txt("directo._domainkey.long.ee", {"k=rsa; p=" + reference});
    const auto report = check("long.ee");
    const auto* too_long = find_code(report.findings, "dkim.string_too_long");
    REQUIRE(too_long);
    CHECK(too_long->message
          == "String 1 of the record at directo._domainkey.long.ee is 401 octets; a TXT string can hold at most 255");
  }
  SUBCASE("DNS failure names the server")
  {
    zone.add_failure("directo._domainkey.broken.ee", dns::Status::servfail);
    const auto report = check("broken.ee");
    CHECK(report.status == DkimStatus::temperror);
    REQUIRE(codes_of(report.findings) == "dkim.temperror");
    CHECK(report.findings[0].message.find("(servfail from test data") != std::string::npos);
  }
  SUBCASE("key sizes and types")
  {
    zone.add_txt("directo._domainkey.k512.ee", {"k=rsa; p=" + spki_base64("rsa512")});
    zone.add_txt("directo._domainkey.k1024.ee", chunks("k=rsa; p=" + spki_base64("rsa1024")));
    zone.add_txt("directo._domainkey.k4096.ee", chunks("k=rsa; p=" + spki_base64("rsa4096")));
    zone.add_txt("directo._domainkey.ed.ee", {"v=DKIM1; k=ed25519; p=" + ed25519_raw_base64()});

    const auto weak = check("k512.ee");
    CHECK(weak.status == DkimStatus::invalid);
    CHECK(find_code(weak.findings, "dkim.key_weak")->message
          == "The key at directo._domainkey.k512.ee is a 512-bit RSA key; verifiers reject keys under 1024 bits (RFC "
             "8301)");

    const auto k1024 = check("k1024.ee");
    CHECK(k1024.status == DkimStatus::valid);
    CHECK(find_code(k1024.findings, "dkim.key_1024")->severity == Severity::warning);
    CHECK(k1024.comparison == Comparison::different_key);

    const auto k4096 = check("k4096.ee");
    CHECK(k4096.status == DkimStatus::valid);
    CHECK(k4096.key->bits == 4096);
    CHECK(find_code(k4096.findings, "dkim.key_ok"));

    const auto ed = check("ed.ee");
    CHECK(ed.status == DkimStatus::valid);
    CHECK(ed.key->type == KeyType::ed25519);
    CHECK(ed.comparison == Comparison::different_key);
    CHECK_FALSE(find_code(ed.findings, "dkim.ed25519_spki"));

    // The SubjectPublicKeyInfo form loads, but RFC 8463 verifiers expect the bare 32-byte key: a warning.
    zone.add_txt("directo._domainkey.edspki.ee", {"v=DKIM1; k=ed25519; p=" + spki_base64("ed25519")});
    const auto ed_spki = check("edspki.ee");
    CHECK(ed_spki.status == DkimStatus::valid);
    REQUIRE(find_code(ed_spki.findings, "dkim.ed25519_spki"));
    CHECK(find_code(ed_spki.findings, "dkim.ed25519_spki")->severity == Severity::warning);
  }
  SUBCASE("reference not reachable: comparison skipped")
  {
    dns::ZoneResolver lonely("test data");
    lonely.add_txt("directo._domainkey.alone.ee", chunks("k=rsa; p=" + reference));
    const auto report = dns::run_sync(lonely, check_dkim(lonely, "alone.ee", "directo", "directo.ee"));
    CHECK(report.status == DkimStatus::valid);
    CHECK(report.comparison == Comparison::skipped);
    const auto* skipped = find_code(report.findings, "dkim.reference_unavailable");
    REQUIRE(skipped);
    CHECK(skipped->severity == Severity::info);
    CHECK(skipped->message
          == "The key was not compared with Directo's own key: the lookup of directo._domainkey.directo.ee gave "
             "nxdomain from test data");
  }
  SUBCASE("CNAME to the vendor's record")
  {
    zone.add_cname("directo._domainkey.alias.ee", "directo._domainkey.directo.ee");
    const auto report = check("alias.ee");
    CHECK(report.status == DkimStatus::valid);
    CHECK(report.comparison == Comparison::same_key);
    CHECK(codes_of(report.findings) == "dkim.cname,dkim.split_strings,dkim.key_ok,dkim.key_match");
  }
}
