#!/usr/bin/env python3
"""Deletes the build outputs in cargo's target directory that a newer build replaced.

    scripts/prune-target.py TARGET_DIR SINCE [--dry-run]

SINCE is a Unix time (the start of this run). In every `deps` directory under
TARGET_DIR, cargo names an output `<crate>-<hash><ext>` (`libshop-0123456789abcdef.rlib`,
a test binary `app-0123456789abcdef`, its `.d` file). Each change of a workspace crate
writes a new hash beside the old files and never deletes them: one set of rlibs and test
binaries (gigabytes in debug) per changed tree, until the disk is full (it filled twice,
here and in CI's cache, which outlives every clone). So: when a build since SINCE wrote
an output of some name, every file of that name's other hashes older than SINCE goes
(rlib, rmeta, binary and `.d` alike).

Outputs that nothing in this run rebuilt are kept, whatever their age: a crate that did
not change keeps its outputs, so no later build is slower. When a crate is rebuilt in one
form (features) but another form of it was not rebuilt in this run, the older form is
deleted too; cargo notices the missing file and rebuilds it when it is next needed.

Why not cargo-sweep: it is one more tool to compile on a fresh machine (minutes here),
for a rule this short.
"""

import os
import re
import sys
from collections import defaultdict

OUTPUT = re.compile(r"^(?P<name>.+)-(?P<hash>[0-9a-f]{16})(?P<ext>\.[A-Za-z0-9_.]+)?$")


def deps_dirs(target):
    """Every `deps` directory cargo keeps under `target` (profiles, targets, tools)."""
    for root, dirs, _files in os.walk(target):
        depth = root[len(target):].count(os.sep)
        if os.path.basename(root) == "deps":
            dirs[:] = []
            yield root
        elif depth >= 4:
            dirs[:] = []


def superseded(directory, since):
    """(path, bytes) of the outputs in `directory` a build since `since` replaced: every
    file of a hash none of whose files is newer than `since`, when another hash of the
    same name has one that is."""
    names = defaultdict(lambda: defaultdict(list))
    with os.scandir(directory) as entries:
        for entry in entries:
            match = OUTPUT.match(entry.name)
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
            names[match["name"]][match["hash"]].append((stat.st_mtime, entry.path, stat.st_size))
    for hashes in names.values():
        fresh = {h for h, files in hashes.items() if max(m for m, _, _ in files) >= since}
        if not fresh:
            continue
        for h, files in hashes.items():
            if h not in fresh:
                for _mtime, path, size in files:
                    yield path, size


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    target, since = argv[1], float(argv[2])
    dry_run = "--dry-run" in argv[3:]
    if not os.path.isdir(target):
        return
    count = freed = 0
    for directory in deps_dirs(os.path.abspath(target)):
        for path, size in superseded(directory, since):
            if not dry_run:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    continue
            count += 1
            freed += size
    verb = "would delete" if dry_run else "deleted"
    print(f"prune-target: {verb} {count} superseded outputs, {freed / 2**30:.1f} GiB")


if __name__ == "__main__":
    main(sys.argv)
