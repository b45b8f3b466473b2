#!/usr/bin/env python3
"""The study pipeline end to end, tiny (`study.py --quick`: 1 seed, arms a and d, a handful of images):
interrupted after 3 runs it continues from the tracker; it writes RESULTS.md, results.csv, results.html and
results.svg from `mhr runs aggregate`; its re-run check finds the same AUC; a second run takes every run from
the tracker and writes the same files. Usage: study_test.py MHR SOURCE_DIR WORK_DIR"""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

mhr, src, work = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), Path(sys.argv[3])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
res = work / "results"
cmd = [sys.executable, str(src / "experiments" / "study" / "study.py"), "--quick", "--mhr", str(mhr),
       "--out", str(work / "out"), "--data", str(work / "data"), "--results", str(res)]


def study(*extra, expect=0):
    r = subprocess.run(cmd + list(extra), text=True, capture_output=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    assert r.returncode == expect, f"study.py exited {r.returncode}, expected {expect}"
    return r.stdout


def progress(out):
    return [l for l in out.splitlines() if l.startswith("[")]


# 1. Interrupted after 3 new runs: 3 progress lines, nothing written yet.
out = study("--stop-after", "3", expect=3)
lines = progress(out)
assert len(lines) == 3 and all(l.startswith(f"[{i + 1}/8] ") for i, l in enumerate(lines)), lines
assert "stopped after 3 new run(s)" in out
assert not (res / "RESULTS.md").exists()

# 2. Continued: the first 3 come from the tracker, the other 5 run; the re-run check agrees.
out = study()
lines = progress(out)
assert len(lines) == 8, lines
assert all("(from the tracker)" in l for l in lines[:3]), lines
assert not any("(from the tracker)" in l for l in lines[3:]), lines
assert "(identical," in out, out

# 3. The files, from the tracker's numbers.
rows = list(csv.DictReader(open(res / "results.csv")))
assert list(rows[0].keys()) == ["arm", "target_size", "seed", "test_auc", "run_id"], rows[0].keys()
assert [(r["arm"], r["target_size"], r["seed"]) for r in rows] == [("a", "16", "1"), ("d", "16", "1")], rows
exported = json.loads(subprocess.run([str(mhr), "runs", "export", "--db", str(work / "out" / "study.sqlite"),
                                      "--format", "json", "--where", "tags.role = 'arm'"],
                                     text=True, capture_output=True, check=True).stdout)
by_id = {r["run_id"]: r["metrics"]["evaluate.net/auc"] for r in exported}
assert len(by_id) == 2
for r in rows:
    assert float(r["test_auc"]) == by_id[r["run_id"]], (r, by_id)
md = (res / "RESULTS.md").read_text()
for part in ("## Test AUC per arm", "Table 1.", "Table 2.", "## Decisions (the protocol's rule)", "| S1 |",
             "## Conclusion", "## Tuning", "## The parents", "**identical**", "![test AUC", "results.svg"):
    assert part in md, f"RESULTS.md lacks {part!r}"
svg = (res / "results.svg").read_text()
assert svg.startswith("<svg xmlns=") and svg.count("<circle") == 2, svg[:200]
assert (res / "results.html").read_text().count('class="dot"') == 2

# 4. Again: every run from the tracker, the same CSV and the same RESULTS.md but for the wall time.
before_csv, before_md = (res / "results.csv").read_text(), md
out = study()
assert all("(from the tracker)" in l for l in progress(out)), out
assert (res / "results.csv").read_text() == before_csv
same = lambda t: [l for l in t.splitlines() if "wall time" not in l]
assert same((res / "RESULTS.md").read_text()) == same(before_md), "RESULTS.md changed"
print("study pipeline: ok")
