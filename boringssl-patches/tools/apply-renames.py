#!/usr/bin/env python3
"""Writes PATCH with the renames of a delta's `renames` file applied to its diff lines (the
rules of xtask's `Rename`: FROM matched where it does not run on into an identifier, `\\n` in TO
starts a new line, a line a rename leaves blank is dropped, `PATCH[,PATCH]: FROM => TO` only in
those patches), hunk line counts recomputed. Usage:
    apply-renames.py RENAMES PATCH-NAME PATCH-FILE > OUT
The output is a starting point for the delta's copy (apply it with `patch -p1 -F3`, then
refresh with tools/export-series.sh); see the README, "BoringSSL at Chromium's revision"."""
import re
import sys


def load(path):
    renames = []
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if not line.strip() or line.startswith('#'):
            continue
        scope = None
        m = re.match(r'(\S+\.patch): (.*)$', line)
        if m:
            scope, line = m.group(1).split(','), m.group(2)
        if line.endswith(' =>'):
            a, b = line[:-3], ''
        else:
            a, b = line.split(' => ', 1)
        renames.append((scope, a, b.replace('\\n', '\n')))
    return renames


def ident(c):
    return c.isalnum() or c == '_'


def rename(text, a, b):
    out, i = '', 0
    while True:
        j = text.find(a, i)
        if j < 0:
            return out + text[i:]
        end = j + len(a)
        ok = (not ident(a[0]) or j == 0 or not ident(text[j - 1])) and \
             (not ident(a[-1]) or end == len(text) or not ident(text[end]))
        out += text[i:j] + (b if ok else a)
        i = end


def port(line, name, renames):
    new = line
    for scope, a, b in renames:
        if scope is None or name in scope:
            new = rename(new, a, b)
    if new != line and not new.strip():
        return []
    return new.split('\n')


def main():
    renames, name = load(sys.argv[1]), sys.argv[2]
    out, body = [], False
    for line in open(sys.argv[3], encoding='utf-8').read().split('\n'):
        if line.startswith('--- '):
            body = True
        if body and line[:1] in (' ', '-', '+') and not line.startswith(('--- ', '+++ ')):
            out += [line[0] + p for p in port(line[1:], name, renames)]
        else:
            out.append(line)
    res, i = [], 0
    while i < len(out):
        m = re.match(r'@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$', out[i])
        if not m:
            res.append(out[i])
            i += 1
            continue
        j, old, new = i + 1, 0, 0
        while j < len(out) and out[j][:1] in (' ', '-', '+', '\\') \
                and not out[j].startswith(('--- ', '+++ ', '@@')):
            old += out[j][0] in ' -'
            new += out[j][0] in ' +'
            j += 1
        res.append('@@ -%s,%d +%s,%d @@%s' % (m.group(1), old, m.group(2), new, m.group(3)))
        res.extend(out[i + 1:j])
        i = j
    sys.stdout.write('\n'.join(res))


main()
