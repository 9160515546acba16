#!/usr/bin/env python3
"""Where the bytes of a WebAssembly module go: code per crate and per function, data, and
the rest, from the module's own `name` section (no tool to install).

    scripts/wasm-size.py FILE.wasm [--top 30] [--crates 25] [--json]

Give it a module that still has its names: the one rustc links, before wasm-bindgen and
wasm-opt (`$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm`), or a
split module built with names. Sizes are raw bytes of function bodies; the gzip size of
the whole file is printed for scale (gzip -9). A function is charged to the crate of its
path (`core::fmt::write` -> core; `<alloc::string::String as core::fmt::Write>::write_str`
-> alloc, the implementing type's crate; generic code lands in the crate that defines
the function, not the one that used it).
"""
import gzip
import json
import re
import sys
from collections import defaultdict


def leb(buf, i):
    """An unsigned LEB128 at buf[i]: (value, next index)."""
    value, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def sections(buf):
    if buf[:4] != b"\0asm":
        raise SystemExit("not a WebAssembly module")
    i = 8
    while i < len(buf):
        sid = buf[i]
        size, j = leb(buf, i + 1)
        yield sid, buf[j : j + size], j - i + size
        i = j + size


def legacy_demangle(sym):
    """`_ZN4core3fmt5write17h0123456789abcdefE` -> `core::fmt::write` (hash dropped)."""
    m = re.match(r"_?_ZN(.*)E$", sym)
    if not m:
        return sym
    s, parts, i = m.group(1), [], 0
    while i < len(s):
        n = re.match(r"\d+", s[i:])
        if not n:
            break
        i += len(n.group(0))
        length = int(n.group(0))
        parts.append(s[i : i + length])
        i += length
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(parts)
    for code, ch in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("$BP$", "*"),
                     ("$C$", ","), ("$u7b$", "{"), ("$u7d$", "}"), ("$u5b$", "["), ("$u5d$", "]"),
                     ("$u27$", "'"), ("$LP$", "("), ("$RP$", ")"), ("..", "::")]:
        text = text.replace(code, ch)
    return text


def v0_idents(sym):
    """The identifiers of a v0-mangled symbol (`_RNvNtCs…_4core3fmt5write` -> core, fmt,
    write) and its crate (the first crate root). A reader of the grammar's tokens, not a
    full demangler: generic arguments and types come out as their bare identifiers."""
    idents, crate, i, n, root = [], None, 2, len(sym), False
    while i < n:
        c = sym[i]
        if c == "N" and i + 1 < n:  # a nested path: its namespace letter follows
            i += 2
            continue
        if c == "C":
            root = True
            i += 1
            continue
        if c in "sB":  # a disambiguator or a back-reference: `s<base62>_`, `B<base62>_`
            m = re.compile(r"[sB][0-9A-Za-z]*_").match(sym, i)
            if m:
                i = m.end()
                continue
        if c.isdigit():
            m = re.compile(r"(\d+)(_?)").match(sym, i)
            length = int(m.group(1))
            ident = sym[m.end() : m.end() + length]
            if root and crate is None:
                crate = ident
            root = False
            idents.append(ident)
            i = m.end() + length
            continue
        root = False
        i += 1
    return idents, crate


def demangle(sym):
    if sym.startswith("_R"):
        idents, crate = v0_idents(sym)
        return "::".join(idents), crate
    text = legacy_demangle(sym)
    return text, None


def crate_of(name):
    """The crate a (demangled) function name belongs to."""
    n = name.lstrip("<&*").strip()
    n = re.sub(r"^(mut |dyn |const )+", "", n)
    # `crate::…`, or `crate[0123456789abcdef]::…` (the v0 mangling's demangled form).
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::", n)
    if m:
        return m.group(1)
    if name.startswith("__wbg") or name.startswith("__wbindgen"):
        return "wasm-bindgen (glue)"
    for prefix in ("dlmalloc", "memcpy", "memset", "memmove", "memcmp", "__rust"):
        if name.startswith(prefix):
            return "runtime (alloc/mem)"
    return "(other)"


def analyse(path):
    buf = open(path, "rb").read()
    n_imported = 0
    bodies = []
    names = {}
    other = defaultdict(int)
    data = 0
    for sid, payload, total in sections(buf):
        if sid == 2:  # imports: they take function indices first
            count, i = leb(payload, 0)
            for _ in range(count):
                for _ in range(2):
                    length, i = leb(payload, i)
                    i += length
                kind = payload[i]
                i += 1
                if kind == 0:
                    n_imported += 1
                    _, i = leb(payload, i)
                elif kind == 1:
                    i += 1
                    flags, i = leb(payload, i)
                    _, i = leb(payload, i)
                    if flags & 1:
                        _, i = leb(payload, i)
                elif kind == 2:
                    flags, i = leb(payload, i)
                    _, i = leb(payload, i)
                    if flags & 1:
                        _, i = leb(payload, i)
                elif kind == 3:
                    i += 2
                elif kind == 4:
                    i += 1
                    _, i = leb(payload, i)
        elif sid == 10:
            count, i = leb(payload, 0)
            for _ in range(count):
                size, j = leb(payload, i)
                bodies.append(size + (j - i))
                i = j + size
        elif sid == 11:
            data += total
        elif sid == 0:
            nlen, i = leb(payload, 0)
            cname = payload[i : i + nlen].decode(errors="replace")
            i += nlen
            if cname == "name":
                while i < len(payload):
                    sub = payload[i]
                    size, j = leb(payload, i + 1)
                    if sub == 1:
                        count, k = leb(payload, j)
                        for _ in range(count):
                            idx, k = leb(payload, k)
                            length, k = leb(payload, k)
                            names[idx] = payload[k : k + length].decode(errors="replace")
                            k += length
                    i = j + size
            other[f"custom section {cname}"] += total
        else:
            other[f"section {sid}"] += total
    functions = []
    for n, size in enumerate(bodies):
        raw = names.get(n_imported + n, f"func[{n_imported + n}]")
        text, crate = demangle(raw)
        functions.append((size, text, crate or crate_of(text)))
    return buf, functions, data, other, bool(names)


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    top = int(args[args.index("--top") + 1]) if "--top" in args else 30
    ncrates = int(args[args.index("--crates") + 1]) if "--crates" in args else 25
    path = args[0]
    buf, functions, data, other, named = analyse(path)
    code = sum(f[0] for f in functions)
    by_crate = defaultdict(lambda: [0, 0])
    for size, name, crate in functions:
        c = by_crate[crate]
        c[0] += size
        c[1] += 1
    gz = len(gzip.compress(buf, 9))
    if "--json" in args:
        print(json.dumps({"file": path, "bytes": len(buf), "gzip": gz, "code": code, "data": data,
                          "functions": len(functions),
                          "crates": {k: v[0] for k, v in sorted(by_crate.items(), key=lambda kv: -kv[1][0])}}))
        return 0
    print(f"{path}: {len(buf):,} bytes ({gz:,} gzip -9); code {code:,} in {len(functions):,} functions, "
          f"data {data:,}" + ("" if named else "; NO NAME SECTION: build with names to attribute"))
    for k, v in sorted(other.items(), key=lambda kv: -kv[1]):
        print(f"  {k}: {v:,}")
    print(f"\ncode by crate (top {ncrates}):")
    for crate, (size, count) in sorted(by_crate.items(), key=lambda kv: -kv[1][0])[:ncrates]:
        print(f"  {size:>9,}  {100 * size / max(code, 1):5.1f} %  {count:>5} fns  {crate}")
    print(f"\nlargest functions (top {top}):")
    for size, name, crate in sorted(functions, reverse=True)[:top]:
        print(f"  {size:>8,}  {name[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
