#include <sendcheck/profile.hpp>

namespace sendcheck {

namespace {

dns::IpAddress
ip(const char* text)
{
  return *dns::IpAddress::parse(text);
}

SenderProfile
make_directo_profile()
{
  SenderProfile profile;
  profile.name = "Directo";
  profile.ordinary_ips = {ip("90.190.150.210"), ip("90.190.150.211"), ip("90.190.150.212"), ip("90.190.150.213")};
  profile.bulk_ips = {ip("90.190.150.82")};
  profile.sending_host = "directo.gate.ee";
  profile.other_hosts = {"login.directo.ee"};
  profile.dkim_selector = "directo";
  profile.dkim_reference_domain = "directo.ee";
  profile.default_signing_domain = "directo.ee";
  profile.minimal_spf = "v=spf1 mx a:directo.gate.ee -all";
  profile.reply_to_sender = "<company>@event.data.directo.ee";
  profile.source = "built-in";
  return profile;
}

} // namespace

std::vector<dns::IpAddress>
SenderProfile::all_ips(bool with_bulk) const
{
  auto ips = ordinary_ips;
  if (with_bulk) {
    ips.insert(ips.end(), bulk_ips.begin(), bulk_ips.end());
  }
  return ips;
}

const SenderProfile&
directo_profile()
{
  static const SenderProfile profile = make_directo_profile();
  return profile;
}

} // namespace sendcheck
