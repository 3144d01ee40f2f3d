#!/usr/bin/env python3
"""slt_seeds.py -- seed fuzz/corpus/sql from sqllogictest files: the SQL of
consecutive records (statements and queries), a few at a time, one small
file per group.  Usage: slt_seeds.py OUT_DIR MAX_FILES FILE.test..."""
import hashlib
import os
import sys


def records(path):
    sql, cur = [], None
    for line in open(path, encoding='utf-8', errors='replace'):
        line = line.rstrip('\n')
        if cur is None:
            if line.startswith(('statement', 'query')):
                cur = []
            continue
        if line == '' or line == '----':
            if cur:
                sql.append(' '.join(cur))
            cur = None if line == '' else None
            continue
        cur.append(line)
    if cur:
        sql.append(' '.join(cur))
    return sql


def main():
    out, limit, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    groups = []
    for f in files:
        recs = records(f)
        for i in range(0, len(recs), 6):
            groups.append(';\n'.join(recs[i:i + 6]) + ';\n')
    step = max(1, len(groups) // limit)
    os.makedirs(out, exist_ok=True)
    n = 0
    for g in groups[::step][:limit]:
        data = g.encode()
        if len(data) > 4000:
            continue
        name = 'slt-' + hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(out, name), 'wb') as fh:
            fh.write(data)
        n += 1
    print(f'{n} seeds in {out}')


main()
