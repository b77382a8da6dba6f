#!/usr/bin/python3
"""The sendcheck binary against the hostile loopback responder (scenario.py), and with bad input.

Usage: test_hostile_cli.py SENDCHECK_BINARY [unittest arguments]
Each DNS case asserts the RFC result for Directo's addresses, the code or reason that says what was wrong, the exit
code, and that the run ends within a bound (queries use --timeout 500 --tries 1).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostile_dns  # noqa: E402

BINARY = None
Z = 'hostile.example'
BOUND_SECONDS = 15.0
ORDINARY = ['90.190.150.210', '90.190.150.211', '90.190.150.212', '90.190.150.213']
BULK = ['90.190.150.82']


def run_binary(args, stdin=None, timeout=60):
    start = time.monotonic()
    proc = subprocess.run([BINARY] + args, capture_output=True, timeout=timeout, stdin=stdin)
    return proc, time.monotonic() - start


class HostileDns(unittest.TestCase):
    server = None
    log = None

    @classmethod
    def setUpClass(cls):
        cls.log = tempfile.NamedTemporaryFile(prefix='hostile-', suffix='.log', delete=False).name
        cls.server = hostile_dns.Server(os.path.join(HERE, 'scenario.py'), cls.log)
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        os.unlink(cls.log)

    def check(self, label, *extra):
        """Runs sendcheck --json on `label`.hostile.example; returns (exit code, domain object, stderr)."""
        args = ['--server', self.server.address, '--timeout', '500', '--tries', '1', '--json', *extra, f'{label}.{Z}']
        proc, took = run_binary(args)
        self.assertLess(took, BOUND_SECONDS, f'{label}: took {took:.1f} s')
        self.assertEqual(proc.stderr, b'', f'{label}: unexpected stderr')
        document = json.loads(proc.stdout)
        self.assertEqual(len(document['domains']), 1)
        return proc.returncode, document['domains'][0]

    def results(self, domain):
        return {r['ip']: r for r in domain['spf']['results']}

    def assert_all(self, domain, result, error_code=None, reason=None):
        results = self.results(domain)
        self.assertEqual(sorted(results), sorted(ORDINARY + BULK))
        for ip, r in results.items():
            self.assertEqual(r['result'], result, f'{ip}: {r}')
            if error_code is not None:
                self.assertEqual(r.get('error_code'), error_code, f'{ip}: {r}')
            if reason is not None:
                self.assertIn(reason, r.get('reason', ''), f'{ip}: {r}')

    # --- include / redirect loops, CNAMEs -------------------------------------------------------------------------

    def test_include_loop(self):
        code, domain = self.check('loop-a')
        self.assert_all(domain, 'permerror', 'spf.too_many_lookups')
        self.assertEqual(code, 1)

    def test_redirect_loop(self):
        code, domain = self.check('redir-a')
        self.assert_all(domain, 'permerror', 'spf.too_many_lookups')
        self.assertEqual(code, 1)

    def test_self_include(self):
        code, domain = self.check('self')
        self.assert_all(domain, 'permerror', 'spf.too_many_lookups')
        self.assertEqual(code, 1)

    def test_cname_chain(self):
        code, domain = self.check('cname-chain')
        self.assert_all(domain, 'pass')

    def test_cname_loop(self):
        code, domain = self.check('cname-loop')
        self.assert_all(domain, 'temperror', 'spf.dns_failure')
        self.assertEqual(code, 3)

    # --- big answers ------------------------------------------------------------------------------------------------

    def test_64k_txt_over_tcp(self):
        code, domain = self.check('big-txt')
        self.assert_all(domain, 'pass')
        self.assertEqual(len(domain['spf']['records'][0]['strings']), 255)
        self.assertEqual(len(domain['spf']['record']), 255 * 255)

    def test_many_mx(self):
        code, domain = self.check('mx-many')
        self.assert_all(domain, 'permerror', 'spf.too_many_mx')
        self.assertEqual(code, 1)

    def test_many_a(self):
        code, domain = self.check('a-many')
        results = self.results(domain)
        self.assertEqual(results['90.190.150.210']['result'], 'pass')
        for ip in ['90.190.150.211', '90.190.150.212', '90.190.150.213', '90.190.150.82']:
            self.assertEqual(results[ip]['result'], 'fail')

    # --- macros -------------------------------------------------------------------------------------------------------

    def test_macro_longer_than_253(self):
        code, domain = self.check('macro-long')
        self.assert_all(domain, 'pass')
        with open(self.log, encoding='utf-8') as log:
            for line in log:
                self.assertLessEqual(len(line.split()[1]), 253, line)

    # --- bytes that must not be printed raw ----------------------------------------------------------------------------

    def test_control_bytes_json(self):
        code, domain = self.check('ctrl')
        self.assert_all(domain, 'permerror', 'spf.syntax')
        self.assertEqual(code, 1)

    def test_control_bytes_text(self):
        args = ['--server', self.server.address, '--timeout', '500', '--tries', '1', '--color', 'never', f'ctrl.{Z}']
        proc, took = run_binary(args)
        self.assertEqual(proc.returncode, 1)
        raw = [b for b in proc.stdout if (b < 0x20 and b != 0x0a) or b >= 0x7f]
        self.assertEqual(raw, [], proc.stdout.decode('latin-1'))
        self.assertIn(b'\\x00', proc.stdout)
        self.assertIn(b'\\x1b', proc.stdout.lower())
        self.assertIn(b'[spf.syntax]', proc.stdout)

    # --- failing servers ----------------------------------------------------------------------------------------------

    def assert_dns_failure(self, label, status):
        code, domain = self.check(label)
        self.assertEqual(domain['spf']['lookup']['status'], status)
        self.assert_all(domain, 'temperror', 'spf.dns_failure')
        for r in domain['spf']['results']:
            self.assertEqual(r['dns_failure']['status'], status)
            self.assertEqual(r['dns_failure']['name'], f'{label}.{Z}')
        self.assertEqual(domain['status'], 'dns_error')
        self.assertEqual(code, 3)

    def test_servfail(self):
        self.assert_dns_failure('servfail', 'servfail')

    def test_refused(self):
        self.assert_dns_failure('refused', 'refused')

    def test_truncated_without_tcp(self):
        self.assert_dns_failure('tc-notcp', 'error')

    def test_wrong_id(self):
        self.assert_dns_failure('wrong-id', 'timeout')

    def test_wrong_name(self):
        self.assert_dns_failure('wrong-name', 'timeout')

    def test_answer_after_timeout(self):
        self.assert_dns_failure('late', 'timeout')

    def test_never_answers(self):
        self.assert_dns_failure('silent', 'timeout')

    # --- limits ---------------------------------------------------------------------------------------------------------

    def test_void_lookups_at_limit(self):
        code, domain = self.check('void2')
        self.assert_all(domain, 'pass')
        for r in domain['spf']['results']:
            self.assertEqual(r['void_lookups'], 2)

    def test_void_lookups_over_limit(self):
        code, domain = self.check('void3')
        self.assert_all(domain, 'permerror', 'spf.void_lookups')
        self.assertEqual(code, 1)

    def test_lookups_at_limit(self):
        code, domain = self.check('lim10')
        self.assert_all(domain, 'pass')
        for r in domain['spf']['results']:
            self.assertEqual(r['dns_terms'], 10)

    def test_lookups_over_limit(self):
        code, domain = self.check('lim11')
        self.assert_all(domain, 'permerror', 'spf.too_many_lookups')
        self.assertEqual(code, 1)


class BadInput(unittest.TestCase):
    """Usage errors: a clear message naming the argument, exit 2, nothing on stdout."""

    def usage_error(self, args, *expected, stdin=None):
        proc, took = run_binary(args, stdin=stdin)
        message = proc.stderr.decode('utf-8', 'replace')
        self.assertEqual(proc.returncode, 2, f'{args}: {message}')
        self.assertEqual(proc.stdout, b'', args)
        for text in expected:
            self.assertIn(text, message, args)
        self.assertLess(len(message.splitlines()), 6, message)
        return message

    def test_wrong_option_values(self):
        cases = [
            (['--timeout', 'abc', 'example.com'], '--timeout'),
            (['--timeout', '0', 'example.com'], '--timeout'),
            (['--timeout', '-5', 'example.com'], '--timeout'),
            (['--tries', '0', 'example.com'], '--tries'),
            (['--tries', '99', 'example.com'], '--tries'),
            (['--concurrency', 'many', 'example.com'], '--concurrency'),
            (['--color', 'purple', 'example.com'], '--color'),
            (['--ip-style', 'ip6', 'example.com'], '--ip-style'),
            (['--suggest=json', 'example.com'], '--suggest'),
            (['--server', 'not-an-ip', 'example.com'], '--server'),
            (['--server', '127.0.0.1:99999', 'example.com'], '--server'),
            (['--server', '[::1', 'example.com'], '--server'),
            (['--selector', 'a b', 'example.com'], '--selector'),
            (['--zone', '/nonexistent/zone', 'example.com'], '--zone'),
            (['--timeout'], '--timeout'),
        ]
        for args, name in cases:
            with self.subTest(args=args):
                self.usage_error(args, name)

    def test_unknown_option(self):
        self.usage_error(['--frobnicate', 'example.com'], '--frobnicate')

    def test_no_domain(self):
        self.usage_error([], 'no domain')

    def test_long_domain(self):
        self.usage_error(['a' * 10000 + '.com'])

    def test_empty_file(self):
        with tempfile.NamedTemporaryFile() as empty:
            self.usage_error(['-f', empty.name], '-f')

    def test_unreadable_file(self):
        self.usage_error(['-f', '/nonexistent/domains.txt'], '-f', '/nonexistent/domains.txt')
        with tempfile.TemporaryDirectory() as directory:
            self.usage_error(['-f', directory], '-f')

    def test_binary_file(self):
        with tempfile.NamedTemporaryFile() as binary:
            binary.write(bytes(range(256)) * 4)
            binary.flush()
            proc, took = run_binary(['--offline', '--json', '-f', binary.name])
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertLess(took, BOUND_SECONDS)

    def test_zone_syntax_error(self):
        with tempfile.NamedTemporaryFile('w', suffix='.zone') as zone:
            zone.write('$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n'
                       'www IN A 300.1.2.3\n')
            zone.flush()
            message = self.usage_error(['--zone', zone.name, 'example.com'], zone.name, ':4')


def write_many(directory, origin, count):
    """A zone for `origin` with an SPF record at its apex, and a list of `count` names under it: (zone, list)."""
    zone = os.path.join(directory, 'many.zone')
    domains = os.path.join(directory, 'many.txt')
    with open(zone, 'w', encoding='utf-8') as out:
        out.write(f'$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n')
        out.write('@ IN TXT "v=spf1 a:directo.gate.ee -all"\n')
    with open(domains, 'w', encoding='utf-8') as out:
        out.writelines(f'd{i}.{origin}\n' for i in range(count))
    return zone, domains


class ClosedPipe(unittest.TestCase):
    def test_head_closes_the_pipe(self):
        with tempfile.TemporaryDirectory() as directory:
            zone, domains = write_many(directory, 'pipe.example', 3000)
            command = f"'{BINARY}' --offline --zone '{zone}' -f '{domains}' | head -1"
            proc = subprocess.run(['bash', '-c', f'set -o pipefail; {command}'], capture_output=True, timeout=120)
            self.assertEqual(len(proc.stdout.splitlines()), 1, proc.stdout)
            self.assertEqual(proc.stderr, b'')
            # the status of sendcheck itself: not a signal, not a crash
            self.assertNotIn(proc.returncode, (-signal.SIGSEGV, -signal.SIGABRT, 128 + signal.SIGSEGV,
                                               128 + signal.SIGABRT, 134, 139))


    def test_slow_reader_gets_everything_in_order(self):
        # Output is held and written in blocks with writev; through a pipe whose reader starts late (so the pipe
        # fills and each block waits for room), every byte arrives, in order: the same as written to a file.
        with tempfile.TemporaryDirectory() as directory:
            zone, domains = write_many(directory, 'slow.example', 3000)
            for args in (['--json', '-j', '2'], ['-j', '1']):
                base = [BINARY, '--offline', '--zone', zone, '-f', domains, *args]
                to_file = os.path.join(directory, 'out')
                with open(to_file, 'wb') as out:
                    subprocess.run(base, stdout=out, stderr=subprocess.DEVNULL, timeout=120)
                with open(to_file, 'rb') as written:
                    expected = written.read()
                self.assertGreater(len(expected), 200000)
                command = ' '.join(f"'{a}'" for a in base) + ' | (sleep 0.3; cat)'
                proc = subprocess.run(['bash', '-c', command], capture_output=True, timeout=120)
                self.assertEqual(proc.stdout, expected)


class FullDisk(unittest.TestCase):
    """A write that fails for another reason than a closed pipe (here ENOSPC from /dev/full) is an error: exit 1 and
    a message, never exit 0 with a cut-off document."""

    def run_into_full(self, args):
        with open('/dev/full', 'wb') as full:
            proc = subprocess.run([BINARY, *args], stdout=full, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stderr.decode(), 'sendcheck: cannot write the output: No space left on device\n')

    def test_one_domain(self):
        with tempfile.TemporaryDirectory() as directory:
            zone, _ = write_many(directory, 'full.example', 0)
            self.run_into_full(['--offline', '--zone', zone, 'full.example'])
            self.run_into_full(['--offline', '--zone', zone, '--json', 'full.example'])

    def test_many_domains(self):
        with tempfile.TemporaryDirectory() as directory:
            zone, domains = write_many(directory, 'full.example', 3000)
            for jobs in ('1', '3'):
                self.run_into_full(['--offline', '--zone', zone, '--json', '-j', jobs, '-f', domains])


if __name__ == '__main__':
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main()
