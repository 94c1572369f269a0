#!/usr/bin/env python3
"""Finds import cycles between the modules of a crate.

Usage: scripts/module-cycles.py crates/wfm-reactor/src [crates/genesys-sim/src ...]

Every .rs file is a module (foo.rs and foo/mod.rs are `foo`; test modules under
`tests.rs` / `*/tests.rs` are skipped because they import their parent by design).
An edge A -> B is a `crate::` or `super::` path in A (in `use` items, also inside
braces, or inline paths) that resolves to module B (the longest existing module
prefix of the path). A cycle is a strongly connected component of more than one
module. Edges from a module to its own ancestors or descendants are kept: a parent
that imports a child which imports the parent back is a cycle too, except that a
child reaching the parent's re-exports is the ordinary Rust layout, so edges from a
child to one of its ancestors are reported separately and not counted.
"""
import os, re, sys

def modules(root):
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith('.rs'):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)[:-3].split(os.sep)
            if rel[-1] == 'mod':
                rel = rel[:-1]
            if rel in (['lib'], ['main']):
                rel = []
            if rel and rel[-1] == 'tests':
                continue
            mods[tuple(rel)] = path
    return mods

def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)

def cut_tests(text):
    # drop `#[cfg(test)] mod tests { ... }` bodies: test code may import anything
    out, i = [], 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(pub\s*)?mod\s+\w+\s*\{', text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return ''.join(out)

def paths(text):
    """Every `crate::a::b` / `super::a` path, with `use` braces expanded."""
    found = []
    for m in re.finditer(r'\buse\s+([^;]+);', text):
        found += expand(re.sub(r'\s+', '', m.group(1)))
    for m in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', text):
        found.append(m.group(1))
    return found

def expand(tree):
    # a::{b, c::{d, e}} -> a::b, a::c::d, a::c::e
    i = tree.find('{')
    if i < 0:
        return [tree]
    prefix, body = tree[:i], tree[i + 1:tree.rfind('}')]
    parts, depth, cur = [], 0, ''
    for ch in body:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
            continue
        depth += {'{': 1, '}': -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    return [p for part in parts if part for p in expand(prefix + part)]

def resolve(path, here, mods):
    segs = path.split('::')
    if segs[0] == 'crate':
        base, segs = [], segs[1:]
    elif segs[0] == 'super':
        base = list(here)
        while segs and segs[0] == 'super':
            base, segs = base[:-1], segs[1:]
    else:
        return None
    full = base + [s for s in segs if s not in ('self', '*')]
    for n in range(len(full), -1, -1):
        if tuple(full[:n]) in mods:
            return tuple(full[:n])
    return None

def scc(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            out.append(comp)
    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out

def name(m):
    return '::'.join(m) or 'crate'

def check(root):
    mods = modules(root)
    graph, edges = {m: set() for m in mods}, 0
    for m, path in mods.items():
        text = cut_tests(strip_comments(open(path).read()))
        for p in paths(text):
            t = resolve(p, m, mods)
            # an edge to an ancestor (the parent's re-exports) or to itself is layout, not a dependency
            if t is None or t == m or m[:len(t)] == t:
                continue
            graph[m].add(t)
    edges = sum(len(v) for v in graph.values())
    cycles = [c for c in scc(graph) if len(c) > 1]
    print(f'{root}: {len(mods)} modules, {edges} edges, {len(cycles)} cycle(s)')
    for c in cycles:
        cs = set(c)
        print('  cycle: ' + ', '.join(sorted(name(x) for x in c)))
        for a in sorted(c):
            for b in sorted(graph[a] & cs):
                print(f'    {name(a)} -> {name(b)}')
    return len(cycles)

if __name__ == '__main__':
    roots = sys.argv[1:] or ['crates/wfm-reactor/src', 'crates/genesys-sim/src']
    sys.exit(1 if sum(check(r) for r in roots) else 0)
