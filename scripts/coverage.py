#!/usr/bin/env python3
"""coverage.py -- line and branch coverage per module from gcovr's JSON
report, and the gate of `make coverage` (docs/testing.md, "Coverage").

    coverage.py REPORT.json LIB_GATE STORAGE_GATE

Modules are the folders of src/ (files directly in src/ count as "leaf");
"library" is every module but the shell.  Exits 1 when the library's
branch coverage is below LIB_GATE % or pager's, btree's or kv's below
STORAGE_GATE %."""
import json
import sys

STORAGE = ('pager', 'btree', 'kv')


def module(path):
    parts = path.split('/')
    return parts[1] if len(parts) > 2 else 'leaf'


def pct(hit, total):
    return 100.0 * hit / total if total else 100.0


def main():
    report, lib_gate, st_gate = sys.argv[1], float(sys.argv[2]), \
        float(sys.argv[3])
    sums = {}
    for f in json.load(open(report))['files']:
        m = module(f['file'])
        s = sums.setdefault(m, [0, 0, 0, 0])
        for ln in f['lines']:
            if ln.get('gcovr/noncode'):
                continue
            s[0] += 1
            s[1] += ln['count'] > 0
            for br in ln.get('branches', []):
                s[2] += 1
                s[3] += br['count'] > 0
    lib = [sum(v[i] for m, v in sums.items() if m != 'shell')
           for i in range(4)]
    print(f"{'module':10} {'lines':>16} {'branches':>18}")
    rows = sorted(sums.items()) + [('library', lib)]
    for m, (nl, hl, nb, hb) in rows:
        print(f'{m:10} {hl:6}/{nl:6} {pct(hl, nl):5.1f}% '
              f'{hb:6}/{nb:6} {pct(hb, nb):5.1f}%')
    bad = []
    if pct(lib[3], lib[2]) < lib_gate:
        bad.append(f'library branches {pct(lib[3], lib[2]):.1f}% < '
                   f'{lib_gate:g}%')
    for m in STORAGE:
        if m in sums and pct(sums[m][3], sums[m][2]) < st_gate:
            bad.append(f'{m} branches {pct(sums[m][3], sums[m][2]):.1f}% '
                       f'< {st_gate:g}%')
    for b in bad:
        print(f'coverage gate: {b}')
    if not bad:
        print('coverage gate: ok')
    return 1 if bad else 0


sys.exit(main())
