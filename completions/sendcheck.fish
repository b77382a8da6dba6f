# fish completion for sendcheck(1). Installed as share/fish/vendor_completions.d/sendcheck.fish.

complete -c sendcheck -f
complete -c sendcheck -s h -l help -d 'Show the help and exit'
complete -c sendcheck -l version -d 'Show the version and the library versions, then exit'

# Input
complete -c sendcheck -s f -l file -r -F -d 'Read domains from FILE, one a line (- for stdin)'

# Output
complete -c sendcheck -l suggest -d 'Print the SPF record to publish'
# The mode is only given after '=' (--suggest=zone); a separate word would be a domain.
complete -c sendcheck -n 'string match -q -- "--suggest=*" (commandline -ct)' -a '--suggest=record --suggest=zone' -d 'What --suggest prints'
complete -c sendcheck -l json -d 'Write one JSON document'
# The form is only given after '=' (--json=lines); a separate word would be a domain.
complete -c sendcheck -n 'string match -q -- "--json=*" (commandline -ct)' -a '--json=indented --json=lines' -d 'How --json lays the document out'
complete -c sendcheck -l color -x -a 'auto always never' -d 'Colour the text report'
complete -c sendcheck -s q -l quiet -d 'Print only the verdict line (or only the record)'
complete -c sendcheck -s v -l verbose -d 'Show the full SPF evaluation trace'

# Checks
complete -c sendcheck -l ip-style -x -a 'auto a ip4' -d 'Form of the sender terms in a suggestion'
complete -c sendcheck -l selector -x -d 'DKIM selector (default: directo)'
complete -c sendcheck -l dkim-reference -x -d 'Domain publishing the reference DKIM key'
complete -c sendcheck -l no-bulk -d 'Leave out the bulk-mail address'
complete -c sendcheck -l only -x -a 'spf spf,dkim spf,dmarc spf,dkim,dmarc' -d 'Run only these checks (SPF always)'
complete -c sendcheck -l record -x -d 'Check this SPF record as if it were published'

# DNS
complete -c sendcheck -l server -x -d 'DNS server to ask, IP[:PORT] or [IPv6]:PORT'
complete -c sendcheck -l zone -r -F -d 'Answer names in this zone file from it'
complete -c sendcheck -l offline -d 'Use no network: only --zone files and --record'
complete -c sendcheck -l timeout -x -d 'Time to wait for one DNS answer (ms)'
complete -c sendcheck -l tries -x -d 'Attempts per DNS query'
complete -c sendcheck -l concurrency -x -d 'Domains checked at once'
complete -c sendcheck -s j -l jobs -x -d 'Threads checking domains'

# Sender profile and allowlist
complete -c sendcheck -l profile -r -F -d 'Use the sender profile in this JSON file'
complete -c sendcheck -l show-profile -d 'Print the sender profile in effect'
complete -c sendcheck -l allowlist -d 'Print the addresses an SMTP server must accept'
complete -c sendcheck -l format -x -a 'plain cidr postfix nftables json' -d 'Allowlist output format'
complete -c sendcheck -l check -d 'With --allowlist, compare the profile with live DNS'
