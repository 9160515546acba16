"""Tests of scripts/prune-target.py (run by scripts/test.sh: python3 -m unittest)."""

import importlib.util
import os
import tempfile
import unittest

SPEC = importlib.util.spec_from_file_location(
    "prune_target", os.path.join(os.path.dirname(__file__), "prune-target.py")
)
prune = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(prune)

SINCE = 1_000_000


class Superseded(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.deps = os.path.join(self.dir.name, "debug", "deps")
        os.makedirs(self.deps)

    def tearDown(self):
        self.dir.cleanup()

    def output(self, name, mtime):
        path = os.path.join(self.deps, name)
        with open(path, "wb") as f:
            f.write(b"x" * 10)
        os.utime(path, (mtime, mtime))
        return name

    def remaining(self):
        prune.main(["prune-target.py", self.dir.name, str(SINCE)])
        return sorted(os.listdir(self.deps))

    def test_older_outputs_of_a_rebuilt_crate_go_and_the_rest_stay(self):
        old_rlib = self.output("libshop-0000000000000001.rlib", SINCE - 100)
        new_rlib = self.output("libshop-0000000000000002.rlib", SINCE + 5)
        old_test = self.output("app-0000000000000003", SINCE - 100)
        new_test = self.output("app-0000000000000004", SINCE + 5)
        old_dep = self.output("app-0000000000000003.d", SINCE - 100)
        # Nothing rebuilt these in this run: kept, however old.
        untouched = self.output("libtokio-00000000000000aa.rlib", SINCE - 10**6)
        other_form = self.output("libtokio-00000000000000bb.rlib", SINCE - 10)
        # Not cargo's naming: never touched.
        stray = self.output("notes.txt", SINCE - 100)
        left = self.remaining()
        for name in (new_rlib, new_test, untouched, other_form, stray):
            self.assertIn(name, left)
        for name in (old_rlib, old_test, old_dep):
            self.assertNotIn(name, left)

    def test_a_dry_run_deletes_nothing(self):
        self.output("libshop-0000000000000001.rlib", SINCE - 100)
        self.output("libshop-0000000000000002.rlib", SINCE + 5)
        prune.main(["prune-target.py", self.dir.name, str(SINCE), "--dry-run"])
        self.assertEqual(len(os.listdir(self.deps)), 2)

    def test_a_missing_target_directory_is_not_an_error(self):
        prune.main(["prune-target.py", os.path.join(self.dir.name, "none"), str(SINCE)])


if __name__ == "__main__":
    unittest.main()
