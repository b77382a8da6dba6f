"""The hostile scenario used by test_hostile_cli.py and test_robust_cares.cpp: one case per name under
hostile.example (see the comments), plus Directo's sending host so that a check can run to the end."""

Z = 'hostile.example'
DIRECTO = 'ip4:90.190.150.0/24'


def txt(*strings):
    """A TXT record; a string over 255 octets is split into 255-octet character-strings, as on the wire."""
    pieces = []
    for string in strings:
        pieces += [string[i:i + 255] for i in range(0, len(string), 255)] or ['']
    return ('TXT', pieces)


def big_record():
    """An SPF record of exactly 255 strings of 255 octets (65,025 octets): only fits in a TCP answer."""
    text = f'v=spf1 {DIRECTO}'
    text += ' ' * (255 * 255 - len(text) - len(' -all')) + ' -all'
    return [text[i:i + 255] for i in range(0, len(text), 255)]


records = {
    'directo.gate.ee': [('A', '90.190.150.212')],
    # include / redirect loops and a self-include
    f'loop-a.{Z}': [txt(f'v=spf1 include:loop-b.{Z} -all')],
    f'loop-b.{Z}': [txt(f'v=spf1 include:loop-a.{Z} -all')],
    f'redir-a.{Z}': [txt(f'v=spf1 redirect=redir-b.{Z}')],
    f'redir-b.{Z}': [txt(f'v=spf1 redirect=redir-a.{Z}')],
    f'self.{Z}': [txt(f'v=spf1 include:self.{Z} -all')],
    # CNAME chain to a working record, and a CNAME loop
    f'cname-chain.{Z}': [('CNAME', f'c1.{Z}')],
    f'c1.{Z}': [('CNAME', f'c2.{Z}')],
    f'c2.{Z}': [('CNAME', f'c3.{Z}')],
    f'c3.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    f'cname-loop.{Z}': [('CNAME', f'cl2.{Z}')],
    f'cl2.{Z}': [('CNAME', f'cname-loop.{Z}')],
    # 64 KB TXT (TCP only)
    f'big-txt.{Z}': [txt(*big_record())],
    # 10,000 MX records (as many as fit in one message are sent) and 10,000 A records on an `a` target
    f'mx-many.{Z}': [txt('v=spf1 mx -all')] + [('MX', (i, f'mx.{Z}')) for i in range(10000)],
    f'mx.{Z}': [('A', '192.0.2.1')],
    f'a-many.{Z}': [txt(f'v=spf1 a:many-a.{Z} -all')],
    f'many-a.{Z}': [('A', '90.190.150.210')] + [('A', f'10.{i // 250}.{i % 250}.1') for i in range(9999)],
    # macro expansion making names longer than 253 octets
    f'macro-long.{Z}': [txt('v=spf1 exists:' + '.'.join(['%{d}'] * 12) + f' {DIRECTO} -all')],
    # control bytes, NUL and non-ASCII inside records
    f'ctrl.{Z}': [txt(f'v=spf1 {DIRECTO}\x00 \x1b[31m\x07 -all'), txt('\xff\xfe\x01 other text')],
    f'directo._domainkey.ctrl.{Z}': [txt('v=DKIM1; k=rsa; p=MIIB\x1b[2J\x00AAA')],
    f'_dmarc.ctrl.{Z}': [txt('v=DMARC1; p=reject\x0d\x0a; rua=mailto:\xc3\xa4@x')],
    # failures
    f'servfail.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    f'refused.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    # over 1232 octets (sendcheck's EDNS payload size), so truncated over UDP
    f'tc-notcp.{Z}': [txt(f'v=spf1 {DIRECTO} -all'), txt('x' * 255, 'y' * 255, 'z' * 255, 'w' * 255, 'v' * 200)],
    f'wrong-id.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    f'wrong-name.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    f'late.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    f'silent.{Z}': [txt(f'v=spf1 {DIRECTO} -all')],
    # void lookups: exactly 2, then 3
    f'void2.{Z}': [txt(f'v=spf1 a:nx1.{Z} a:nx2.{Z} {DIRECTO} -all')],
    f'void3.{Z}': [txt(f'v=spf1 a:nx1.{Z} a:nx2.{Z} a:nx3.{Z} {DIRECTO} -all')],
    # DNS-querying terms: exactly 10, then 11
    f'lim10.{Z}': [txt('v=spf1 ' + ' '.join(f'a:h{i}.{Z}' for i in range(10)) + f' {DIRECTO} -all')],
    f'lim11.{Z}': [txt('v=spf1 ' + ' '.join(f'a:h{i}.{Z}' for i in range(11)) + f' {DIRECTO} -all')],
    # for the C++ test: %{l}, %{i}, %{ir} targets are answered by wildcard-like names below
    f'macro-l.{Z}': [txt('v=spf1 exists:%{l}.l.' + Z + ' -all')],
    f'macro-i.{Z}': [txt('v=spf1 exists:%{ir}.%{i}.i.' + Z + ' -all')],
}
for i in range(11):
    records[f'h{i}.{Z}'] = [('A', '192.0.2.1')]

rules = {
    f'servfail.{Z}': {'rcode': 'SERVFAIL'},
    f'refused.{Z}': {'rcode': 'REFUSED'},
    f'tc-notcp.{Z}': {'no_tcp': True},
    f'wrong-id.{Z}': {'wrong_id': True},
    f'wrong-name.{Z}': {'wrong_name': True},
    f'late.{Z}/TXT': {'delay_ms': 1500},
    f'silent.{Z}/TXT': {'drop': True},
}

SCENARIO = {'records': records, 'rules': rules}
