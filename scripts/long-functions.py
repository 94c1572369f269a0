#!/usr/bin/env python3
"""Lists functions longer than a limit (default 80 lines), tests excluded.

Usage: scripts/long-functions.py [--limit N] [--skip DIR ...] ROOT...

A function runs from its `fn` line to the line of its closing brace (braces in strings,
chars and comments are ignored). Files named tests.rs and `#[cfg(test)] mod` bodies are
skipped.
"""
import os, re, sys

def strip(text):
    # blank out comments, strings and char literals, keeping newlines
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif c == 'r' and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not text[i - 1].isalnum()):
            m = re.match(r'r(#*)"', text[i:]); end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0))); j = n if j < 0 else j + len(end)
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            out.append(re.sub(r'[^\n]', ' ', text[i:j + 1])); i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:]); out.append(' ' * len(m.group(0))); i += len(m.group(0))
        else:
            out.append(c); i += 1
    return ''.join(out)

def functions(path):
    text = strip(open(path).read())
    lines = text.split('\n')
    test_ranges = []
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(pub(\(\w+\))?\s*)?mod\s+\w+\s*\{', text):
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[j], 0); j += 1
        test_ranges.append((m.start(), j))
    for m in re.finditer(r'\bfn\s+(\w+)', text):
        if any(a <= m.start() < b for a, b in test_ranges):
            continue
        j = m.end()
        while j < len(text) and text[j] not in '{;':
            j += 1
        if j >= len(text) or text[j] == ';':
            continue
        depth, k = 1, j + 1
        while k < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[k], 0); k += 1
        start = text.count('\n', 0, m.start()) + 1
        end = text.count('\n', 0, k) + 1
        yield m.group(1), start, end - start + 1

def main(argv):
    limit, skip, roots = 80, [], []
    it = iter(argv)
    for a in it:
        if a == '--limit':
            limit = int(next(it))
        elif a == '--skip':
            skip.append(os.path.normpath(next(it)))
        else:
            roots.append(a)
    found = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            if any(os.path.normpath(dirpath).startswith(s) for s in skip):
                continue
            for f in sorted(files):
                if f.endswith('.rs') and f != 'tests.rs':
                    p = os.path.join(dirpath, f)
                    found += [(n, p, name, s) for name, s, n in functions(p) if n > limit]
    for n, p, name, s in sorted(found, reverse=True):
        print(f'{n:4} lines  {p}:{s}  {name}')
    print(f'{len(found)} function(s) over {limit} lines')

if __name__ == '__main__':
    main(sys.argv[1:])
