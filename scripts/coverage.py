#!/usr/bin/env python3
"""coverage.py -- line and branch coverage per module from gcovr's JSON
report, and the gate of `make coverage` (docs/testing.md, "Coverage").

    coverage.py REPORT.json LIB_GATE STORAGE_GATE [--no-gate]
                [--module-gate MODULE=PCT...] [--files MODULE...]

Modules are the folders of src/ (files directly in src/ count as "leaf");
"library" is every module but the shell.  Exits 1 when the library's
branch coverage is below LIB_GATE % or pager's, btree's or kv's below
STORAGE_GATE %.  --files also prints each file of the named modules;
--no-gate prints the figures and never fails (a run of a few suites).
--module-gate btree=89.5 sets one storage module's gate apart from
STORAGE_GATE (a floor that CI holds while that module is below the
goal; docs/testing.md, "Coverage")."""
import json
import sys

STORAGE = ('pager', 'btree', 'kv')


def module(path):
    parts = path.split('/')
    return parts[1] if len(parts) > 2 else 'leaf'


def pct(hit, total):
    return 100.0 * hit / total if total else 100.0


def counts(f):
    """[lines, lines hit, branches, branches taken] of one gcovr file."""
    s = [0, 0, 0, 0]
    for ln in f['lines']:
        if ln.get('gcovr/noncode'):
            continue
        s[0] += 1
        s[1] += ln['count'] > 0
        for br in ln.get('branches', []):
            s[2] += 1
            s[3] += br['count'] > 0
    return s


def row(name, width, c):
    nl, hl, nb, hb = c
    print(f'{name:{width}} {hl:6}/{nl:6} {pct(hl, nl):5.1f}% '
          f'{hb:6}/{nb:6} {pct(hb, nb):5.1f}%')


def gate(sums, lib, lib_gate, st_gate, own):
    bad = []
    if pct(lib[3], lib[2]) < lib_gate:
        bad.append(f'library branches {pct(lib[3], lib[2]):.1f}% < '
                   f'{lib_gate:g}%')
    for m in STORAGE:
        g = own.get(m, st_gate)
        if m in sums and pct(sums[m][3], sums[m][2]) < g:
            bad.append(f'{m} branches {pct(sums[m][3], sums[m][2]):.1f}% '
                       f'< {g:g}%')
        elif m in sums and g < st_gate:
            print(f'coverage gate: {m} held at {g:g}% (goal {st_gate:g}%)')
    for b in bad:
        print(f'coverage gate: {b}')
    if not bad:
        print('coverage gate: ok')
    return 1 if bad else 0


def main():
    args = sys.argv[1:]
    no_gate = '--no-gate' in args
    args = [a for a in args if a != '--no-gate']
    own = {}
    while '--module-gate' in args:
        i = args.index('--module-gate')
        name, value = args[i + 1].split('=')
        own[name] = float(value)
        args = args[:i] + args[i + 2:]
    files = []
    if '--files' in args:
        i = args.index('--files')
        files, args = args[i + 1:], args[:i]
    report, lib_gate, st_gate = args[0], float(args[1]), float(args[2])
    sums = {}
    per_file = []
    for f in json.load(open(report))['files']:
        m = module(f['file'])
        c = counts(f)
        per_file.append((f['file'], m, c))
        s = sums.setdefault(m, [0, 0, 0, 0])
        for i in range(4):
            s[i] += c[i]
    lib = [sum(v[i] for m, v in sums.items() if m != 'shell')
           for i in range(4)]
    if files:
        print(f"{'file':26} {'lines':>16} {'branches':>18}")
        for name, m, c in sorted(per_file):
            if m in files:
                row(name, 26, c)
        print()
    print(f"{'module':10} {'lines':>16} {'branches':>18}")
    for m, c in sorted(sums.items()) + [('library', lib)]:
        row(m, 10, c)
    if no_gate:
        print('coverage gate: not applied (a run of some suites only)')
        return 0
    return gate(sums, lib, lib_gate, st_gate, own)


sys.exit(main())
