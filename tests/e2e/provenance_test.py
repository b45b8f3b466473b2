#!/usr/bin/env python3
# tests/e2e/provenance_test.py MHR_BINARY WORKDIR — data provenance end to end (issue 19, point 2), through the
# real binary on synthetic CBIS-DDSM folders:
#   - a relative `root` resolves against the spec's folder, not the working directory, even when the working
#     directory holds a data set of the same name (the trap a new user fell into: a different set, silently);
#   - each run records the absolute root, a fingerprint and the image count as params;
#   - `mhr runs compare` says when two runs read different data and when they read the same;
#   - `mhr check` warns (W0005) about a root that is not there, with a did-you-mean, and says when the path
#     exists under the working directory instead.
import os
import shutil
import sqlite3
import subprocess
import sys

mhr, work = os.path.realpath(sys.argv[1]), sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
exp, cwd = os.path.join(work, "exp"), os.path.join(work, "cwd")
os.makedirs(exp)
os.makedirs(cwd)
work = os.path.realpath(work)
exp, cwd = os.path.realpath(exp), os.path.realpath(cwd)
db = os.path.join(work, "runs.sqlite")


def sh(*args, expect=0, where=cwd):
    p = subprocess.run([mhr, *args], cwd=where, capture_output=True, text=True)
    if p.returncode != expect:
        sys.exit(f"mhr {' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr


def check(cond, what, text=""):
    if not cond:
        sys.exit(f"FAILED: {what}\n{text}")


sh("synth", "mammo", "--out", os.path.join(exp, "data"), "--count", "16", "--size", "64x52", "--seed", "3")
sh("synth", "mammo", "--out", os.path.join(exp, "data_b"), "--count", "16", "--size", "64x52", "--seed", "4")
# The trap: a folder of the same relative name under the working directory, with other images.
sh("synth", "mammo", "--out", os.path.join(cwd, "data"), "--count", "12", "--size", "64x52", "--seed", "5")
os.makedirs(os.path.join(cwd, "only_here"))

body = ('network base = resnet18(classes: 2, width: 0.125, in_channels: 1)\n'
        'evaluate base on m.test at 32x26 { metrics: [auc] }\n')


def spec(name, root):
    with open(os.path.join(exp, name), "w") as f:
        f.write(f'experiment "provenance"\nseed 1\ndataset m = cbis_ddsm(root: "{root}", val_fraction: 0.1)\n' +
                body)
    return os.path.join("..", "exp", name)  # as the user types it, from the working directory


a, b = spec("a.mhr", "data"), spec("b.mhr", "data_b")
out = sh("check", a)
check("W0005" not in out, "a root that exists next to the spec is not warned about", out)

common = ["--db", db, "--device", "cpu", "--threads", "1", "--cache-dir", os.path.join(work, "cache"),
          "--no-progress"]
for s in (a, a, b):
    sh("run", s, *common)

con = sqlite3.connect(db)
runs = [r[0] for r in con.execute("SELECT run_uuid FROM runs ORDER BY start_time, rowid")]
check(len(runs) == 3, "three runs recorded", str(runs))


def params(run):
    return dict(con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run,)))


p1, p2, p3 = (params(r) for r in runs)
check(p1.get("data.m.root") == os.path.join(exp, "data"),
      "the relative root resolved against the spec's folder, recorded absolute", str(p1))
check(p1.get("data.m.images") == "16", "the images of the spec's data set (16), not the working directory's (12)",
      str(p1))
check(len(p1.get("data.m.fingerprint", "")) == 64, "a SHA-256 fingerprint is recorded", str(p1))
check(p1["data.m.fingerprint"] == p2["data.m.fingerprint"], "the same data gives the same fingerprint")
check(p3.get("data.m.root") == os.path.join(exp, "data_b"), "the second data set's root", str(p3))
check(p3["data.m.fingerprint"] != p1["data.m.fingerprint"], "different data, different fingerprint")

same = sh("runs", "compare", runs[0], runs[1], "--db", db)
check("Data: the same in every run" in same, "compare of two runs on the same data says so", same)
diff = sh("runs", "compare", runs[0], runs[2], "--db", db)
check("Data: the runs read different data" in diff and "DIFFERENT DATA" in diff,
      "compare of two runs on different data says so", diff)
check(p1["data.m.fingerprint"][:12] in diff and p3["data.m.fingerprint"][:12] in diff,
      "compare shows both fingerprints", diff)
check(os.path.join(exp, "data_b") in diff, "compare shows where the data came from", diff)

# Moving the spec with its data keeps the fingerprint (paths are relative to the root, not absolute).
moved = os.path.join(work, "moved")
shutil.copytree(exp, moved)
sh("run", os.path.join(moved, "a.mhr"), *common)
p4 = params([r[0] for r in con.execute("SELECT run_uuid FROM runs ORDER BY start_time, rowid")][-1])
check(p4["data.m.root"] == os.path.join(moved, "data"), "the moved spec reads its own data", str(p4))
check(p4["data.m.fingerprint"] == p1["data.m.fingerprint"], "the same data moved keeps its fingerprint")

# mhr check: a root that is not there, a near name, and a path that exists only under the working directory.
out = sh("check", spec("typo.mhr", "dat"))
check("warning[W0005]" in out and "root: folder" in out and "does not exist" in out, "missing root warned", out)
check("did you mean 'data'?" in out, "did-you-mean for a near name next to the spec", out)
out = sh("check", spec("cwd.mhr", "only_here"))
check("warning[W0005]" in out and "exists under the working directory" in out, "working-directory note", out)
check('write "../cwd/only_here"' in out, "the note says how to write the path relative to the spec", out)
# `mhr run` of the missing root is a data error naming the folder it looked in, not a silent other data set.
out = sh("run", spec("typo.mhr", "dat"), *common, expect=1)
check(os.path.join(exp, "dat") in out and "does not exist" in out, "run names the missing folder", out)
print("provenance: ok")
