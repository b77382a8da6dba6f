#!/usr/bin/perl
# Mail::SPF (Debian libmail-spf-perl) on the benchmark job: for every domain, the result for each Directo IP.
# Usage: mailspf_peer.pl PORT DOMAINS_FILE OUT_TSV
# Net::DNS::Resolver is pointed at 127.0.0.1:PORT. Writes "domain<TAB>ip<TAB>result" per evaluation.
use strict;
use warnings;
use Mail::SPF;
use Net::DNS::Resolver;

my ($port, $domains_file, $out_file) = @ARGV;
die "usage: $0 PORT DOMAINS_FILE OUT_TSV\n" unless defined $out_file;
my @ips = qw(90.190.150.210 90.190.150.211 90.190.150.212 90.190.150.213 90.190.150.82);
my $resolver = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port, udp_timeout => 5, retry => 2);
my $server = Mail::SPF::Server->new(dns_resolver => $resolver);

open(my $in, '<', $domains_file) or die "$domains_file: $!\n";
open(my $out, '>', $out_file) or die "$out_file: $!\n";
while (my $domain = <$in>) {
    chomp $domain;
    next if $domain eq '';
    for my $ip (@ips) {
        my $request = Mail::SPF::Request->new(scope => 'mfrom', identity => "postmaster\@$domain",
                                              ip_address => $ip);
        my $result = $server->process($request);
        print $out "$domain\t$ip\t", $result->code, "\n";
    }
}
close($out) or die "$out_file: $!\n";
