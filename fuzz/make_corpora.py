#!/usr/bin/python3
"""Writes the seed corpora for the fuzz targets from the project's test data (no binary blobs in git).

Usage: make_corpora.py SOURCE_DIR OUT_DIR
Creates OUT_DIR/<target>/seed-NNNN for each target in fuzz/CMakeLists.txt:
  spf_record, spf_macro, spf_check_host   SPF strings of tests/conformance/rfc7208-tests.yml and the zone files
  dkim_key, dmarc_record                  DKIM/DMARC TXT values of the zone files, the damaged vendor key
  zone_file                               every zone file (tests/zones/*.zone, examples/demo.zone)
  json_report                             SPF strings and hostile bytes, one field per line
The YAML is read with a few regular expressions (only the record values are needed), so no YAML module is required.
"""

import pathlib
import re
import sys

ZONE_TXT = re.compile(r'\bTXT\s+((?:"(?:[^"\\]|\\.)*"\s*)+)', re.IGNORECASE)
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
YAML_RECORD = re.compile(r'^\s*- (?:SPF|TXT):\s*(.*?)\s*$')
YAML_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\']|\'\')*)\'')


def yaml_unescape(text):
    """Decodes a double-quoted YAML scalar's escapes (\\xHH, \\n, \\", \\\\) to bytes."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            n = text[i + 1]
            if n == 'x' and i + 3 < len(text):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {'n': b'\n', 't': b'\t', 'r': b'\r', '0': b'\0'}.get(n, n.encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def yaml_strings(path):
    """Every SPF/TXT value in the conformance suite, character-strings joined."""
    values = []
    for line in path.read_text(encoding='utf-8').splitlines():
        match = YAML_RECORD.match(line)
        if not match:
            continue
        value = match.group(1)
        if value.startswith('[') or value.startswith('"') or value.startswith("'"):
            parts = []
            for double, single in YAML_QUOTED.findall(value):
                parts.append(yaml_unescape(double) if double or not single else single.replace("''", "'").encode())
            values.append(b''.join(parts))
        elif value not in ('NONE', 'TIMEOUT'):
            values.append(value.encode())
    return values


def zone_txt_values(path):
    """The TXT values of a zone file (strings joined), read loosely."""
    values = []
    for match in ZONE_TXT.finditer(path.read_text(encoding='utf-8', errors='replace')):
        values.append(''.join(QUOTED.findall(match.group(1))).replace('\\"', '"').encode())
    return values


def write(out_dir, target, seeds):
    directory = out_dir / target
    directory.mkdir(parents=True, exist_ok=True)
    unique = list(dict.fromkeys(seeds))
    for i, seed in enumerate(unique):
        (directory / f'seed-{i:04d}').write_bytes(seed)
    return len(unique)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source = pathlib.Path(sys.argv[1])
    out_dir = pathlib.Path(sys.argv[2])
    zones = sorted((source / 'tests' / 'zones').glob('*.zone')) + [source / 'examples' / 'demo.zone']
    zones = [zone for zone in zones if zone.exists()]

    suite = yaml_strings(source / 'tests' / 'conformance' / 'rfc7208-tests.yml')
    zone_values = [value for zone in zones for value in zone_txt_values(zone)]
    spf = [v for v in suite + zone_values if v.lower().startswith(b'v=spf1')]
    dkim = [v for v in zone_values if b'p=' in v and b'DMARC' not in v]
    damaged = source / 'tests' / 'zones' / 'dkim' / 'vendor-lt-damaged-key.txt'
    if damaged.exists():
        dkim.append(b'v=DKIM1; k=rsa; ' + damaged.read_bytes())
    dkim += [b'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=', b'v=DKIM1; p=', b'k=rsa; t=y:s; p=MIIB']
    dmarc = [v for v in zone_values if v.upper().startswith(b'V=DMARC1')]
    dmarc += [b'v=DMARC1; p=reject; sp=none; np=quarantine; pct=50; adkim=s; aspf=r; rua=mailto:a@example.com,'
              b'mailto:b@example.com!10m; ruf=mailto:f@example.com; fo=1:d; ri=3600; psd=n; t=y']
    macros = [m.encode() for v in spf for m in re.findall(r'[:=]([^ ]*%[^ ]*)', v.decode('latin-1'))]
    macros += [b'%{ir}.%{v}._spf.%{d2}', b'%{l1r-}.%{o}', b'%{S}.%{L}.%{H}', b'%{c} %{r} %{t} %{p}']
    context = b'\nlocal.part\nexample.com\nexample.com\nmail.example.com\nvalidated.example.com'
    counts = {
        'spf_record': write(out_dir, 'spf_record', spf),
        'spf_macro': write(out_dir, 'spf_macro', [bytes([i % 4]) + m + context for i, m in enumerate(macros)]),
        'spf_check_host': write(out_dir, 'spf_check_host',
                                [bytes([i % 8]) + b'\n'.join(spf[i:i + 3]) for i in range(0, len(spf))]),
        'dkim_key': write(out_dir, 'dkim_key', dkim),
        'dmarc_record': write(out_dir, 'dmarc_record', dmarc),
        'zone_file': write(out_dir, 'zone_file', [zone.read_bytes() for zone in zones]),
        'json_report': write(out_dir, 'json_report',
                             [bytes([i % 8]) + b'\n'.join(spf[i:i + 24]) for i in range(0, len(spf), 8)]
                             + [b'\x07bell\x00nul\n\xff\xfe bad utf-8\n\x1b[31mred\n\xc3\xa4 \xe2\x82\xac']),
    }
    for target, count in counts.items():
        print(f'{target}: {count} seeds')
    return 0


if __name__ == '__main__':
    sys.exit(main())
