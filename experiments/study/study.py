#!/usr/bin/env python3
"""The pre-registered MorphHR study (experiments/study/PROTOCOL.md), end to end: `make study`.

1. writes the synthetic data (`mhr synth`): the source set (chest X-rays) and the target pool (mammograms);
2. writes the target manifests from the pool's CBIS-DDSM description CSVs (fixed, patient-disjoint splits);
3. per seed, trains the parent on the source task (parent.mhr) once and exports its weights from the tracker;
4. per target size, seed and arm, runs the arm's spec from that seed's parent;
5. aggregates the tracker's runs with `mhr runs aggregate` into RESULTS.md, results.csv and results.html;
6. re-runs one arm/seed without the tracker and checks that it gives the same test AUC.

Resumable: a run that finished with the same study id (a hash of the specs, the data parameters and the
budget) is taken from the tracker, not run again; an interrupted one is run again from the start.
Only the Python standard library; every number comes from the mhr binary and its tracker.
"""
import argparse
import csv
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

ARMS = {
    "a": ("a_low.mhr", "fine-tune the parent at 64x52"),
    "b": ("b_naive_hr.mhr", "fine-tune the parent at 256x208, no morph"),
    "c": ("c_morphhr.mhr", "MorphHR: upscale stem + identity block + widen, 256x208"),
    "d": ("d_branch.mhr", "(c) + zero-joined full-resolution branch"),
    "e": ("e_scratch.mhr", "the architecture of (d) from random weights"),
}
COMPARISONS = ["c:a", "c:b", "c:e", "d:c", "d:a", "d:e"]
METRIC = "evaluate.net/auc"


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], text=True, capture_output=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"study: command failed ({r.returncode}): {' '.join(map(str, cmd))}")
    return r.stdout


# ------------------------------------------------------------------------------------------------ data
def synth(mhr, kind, out, args):
    stamp = out / ".study-synth"
    want = " ".join([kind] + args)
    if stamp.exists() and stamp.read_text() == want:
        return
    if out.exists():
        import shutil
        shutil.rmtree(out)
    log(f"synth {kind} -> {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {' '.join(args)}")
    run([mhr, "synth", kind, "--out", out] + args)
    stamp.write_text(want)


def read_cbis(pool, split):
    """image path (relative to the pool) -> (patient, label) over the mass and calc description CSVs of a
    CBIS-DDSM split ("train" or "test"); an image is malignant if any abnormality on it is."""
    rows = {}
    for kind in ("calc", "mass"):
        with open(pool / f"{kind}_case_description_{split}_set.csv", newline="") as f:
            for r in csv.DictReader(f):
                image = r["image file path"].strip()
                malignant = r["pathology"].strip().upper() == "MALIGNANT"
                prev = rows.get(image)
                rows[image] = (r["patient_id"].strip(),
                               "malignant" if malignant or (prev and prev[1] == "malignant") else "benign")
    return rows


def write_manifests(pool, sizes, n_val, seed):
    """target-N.csv per size: N training images, the same n_val validation and every test image."""
    train = read_cbis(pool, "train")
    test = read_cbis(pool, "test")
    patients = sorted({p for p, _ in train.values()})
    random.Random(seed).shuffle(patients)  # fixed by the protocol's data seed, not by a study seed
    by_patient = {}
    for image, (p, label) in sorted(train.items()):
        by_patient.setdefault(p, []).append((image, label))
    ordered = [img for p in patients for img in by_patient[p]]  # patient-contiguous
    val, rest = ordered[:n_val], ordered[n_val:]
    if len(rest) < max(sizes):
        raise SystemExit(f"study: the pool has {len(rest)} training images, the largest size needs {max(sizes)}")
    written = {}
    for n in sizes:
        path = pool / f"target-{n}.csv"
        lines = ["image,label,patient,split"]
        for split, images in (("train", rest[:n]), ("val", val)):
            for image, label in images:
                lines.append(f"{image},{label},{train[image][0]},{split}")
        for image, (p, label) in sorted(test.items()):
            lines.append(f"{image},{label},{p},test")
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written[n] = path
    return written


# ------------------------------------------------------------------------------------------------ tracker
def tracker_runs(mhr, db, where):
    """The finished runs matching a --where expression (dicts of `mhr runs export --format json`), newest first."""
    if not Path(db).exists():
        return []
    out = run([mhr, "runs", "export", "--db", db, "--format", "json", "--where",
               f"status = 'finished' and {where}", "--sort", "start_time desc"])
    return json.loads(out)


def study_id(settings):
    """A hash of everything a run's result depends on that the tracker's tags must pin: the specs, the data
    parameters and the budget. Another id means other runs; the old ones stay in the tracker."""
    h = hashlib.sha256()
    for f in sorted(HERE.glob("*.mhr")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:12]


def mhr_run(mhr, spec, db, sets, tags, threads, log_path, extra=()):
    cmd = [mhr, "run", spec, "--db", db, "--threads", str(threads), "--no-progress", "--no-report"]
    for s in sets:
        cmd += ["--set", s]
    for k, v in tags.items():
        cmd += ["--tag", f"{k}={v}"]
    cmd += list(extra)
    with open(log_path, "w") as f:
        r = subprocess.run([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stderr.write(Path(log_path).read_text()[-4000:])
        raise SystemExit(f"study: mhr run failed ({r.returncode}); log: {log_path}")


# ------------------------------------------------------------------------------------------------ settings
# The protocol's numbers (PROTOCOL.md); `--quick` is the tiny version `make test` runs (1 seed, 2 arms).
FULL = {
    "seeds": [1, 2, 3, 4, 5],
    "sizes": [200, 800],
    "arms": ["a", "b", "c", "d", "e"],
    "source": {"count": 6000, "size": "128x128", "seed": 101, "at": "64x64", "epochs": 8},
    "target": {"count": 1800, "size": "256x208", "spacing": 0.46875, "lesion": "mixed", "seed": 202,
               "val": 160, "split_seed": 5},
    "full": "256x208",
    "low": "64x52",
    "epochs": {"200": 30, "800": 15},
    "tune": {"seed": 0, "size": 200, "lrs": [3e-4, 1e-3, 3e-3]},
    "recheck": {"arm": "d", "size": 200, "seed": 1},
}
QUICK = {
    "seeds": [1],
    "sizes": [16],
    "arms": ["a", "d"],
    "source": {"count": 40, "size": "64x64", "seed": 101, "at": "32x32", "epochs": 1},
    "target": {"count": 48, "size": "128x104", "spacing": 0.46875, "lesion": "mixed", "seed": 202, "val": 12,
               "split_seed": 5},
    "full": "128x104",
    "low": "32x26",
    "epochs": {"16": 1},
    "tune": {"seed": 0, "size": 16, "lrs": [3e-4, 1e-3]},
    "recheck": {"arm": "d", "size": 16, "seed": 1},
}


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs"


def git_commit():
    r = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
                       text=True, capture_output=True)
    return r.stdout.strip() or "unknown"


def lr_text(lr):
    return f"{lr:g}"


# ------------------------------------------------------------------------------------------------ runs
class Study:
    def __init__(self, cfg, mhr, out, data, threads):
        self.cfg, self.mhr, self.out, self.data, self.threads = cfg, mhr, out, data, threads
        self.db = out / "study.sqlite"
        settings = {k: cfg[k] for k in ("source", "target", "full", "low", "epochs", "tune")}
        self.sid = study_id(settings)
        self.parents = {}  # seed -> (run id, exported weights)
        self.count, self.total = 0, 0
        self.new_runs, self.stop_after = 0, 0

    def progress(self, what, auc, split, r, how):
        self.count += 1
        log(f"[{self.count}/{self.total}] {what}: {split} AUC {auc:.4f}  run {r['run_id'][:8]} ({how})")

    def ensure(self, what, spec, where, sets, tags, key, split, log_name):
        """The finished run `where` selects, from the tracker, or run now."""
        t0 = time.time()
        where = f"tags.study = '{self.sid}' and {where}"
        done = tracker_runs(self.mhr, self.db, where)
        how = "from the tracker"
        if not done:
            mhr_run(self.mhr, spec, self.db, sets, dict(tags, study=self.sid), self.threads,
                    self.out / "logs" / log_name)
            done = tracker_runs(self.mhr, self.db, where)
            if not done:
                raise SystemExit(f"study: {what} finished but the tracker has no finished run for it")
            how = f"{time.time() - t0:.0f} s"
            self.new_runs += 1
        r = done[0]
        auc = r["metrics"][key]
        self.progress(what, auc, split, r, how)
        if self.stop_after and self.new_runs >= self.stop_after:
            # What an interrupted study looks like (tests use it): the next invocation continues from here.
            log(f"study: stopped after {self.new_runs} new run(s) (--stop-after); run it again to continue")
            raise SystemExit(3)
        return r, auc

    def parent(self, seed):
        if seed in self.parents:
            return self.parents[seed]
        src = self.cfg["source"]
        sets = [f"seed={seed}", f"dataset.source.root={self.data / 'source-cxr'}", f"train.parent.at={src['at']}",
                f"evaluate.parent.at={src['at']}", f"train.parent.epochs={src['epochs']}"]
        r, _ = self.ensure(f"parent, seed {seed}", HERE / "parent.mhr",
                           f"tags.role = 'parent' and tags.seed = '{seed}'", sets, {"role": "parent", "seed": seed},
                           "evaluate.parent/auc", "source test", f"parent-{seed}.log")
        export = self.out / "parents" / f"seed-{seed}"
        if not (export / "model.safetensors").exists():
            run([self.mhr, "export", r["run_id"], "--db", self.db, "--network", "parent", "--out", export])
        self.parents[seed] = (r["run_id"], export / "model.safetensors")
        return self.parents[seed]

    def arm_sets(self, arm, size, seed, lr, manifest, split):
        at = self.cfg["low"] if arm == "a" else self.cfg["full"]
        sets = [f"seed={seed}", f"dataset.target.csv={manifest}", f"train.net.at={at}", f"evaluate.net.at={at}",
                f"train.net.epochs={self.cfg['epochs'][str(size)]}", f"train.net.optimizer.lr={lr_text(lr)}"]
        if split != "test":
            sets.append(f"evaluate.net.on=target.{split}")
        tags = {}
        if arm != "e":
            parent_run, weights = self.parent(seed)
            sets.append(f"network.source.weights={weights}")
            tags["parent_run"] = parent_run
        return sets, tags

    def arm(self, role, arm, size, seed, lr, manifest):
        split = "val" if role == "tune" else "test"
        sets, tags = self.arm_sets(arm, size, seed, lr, manifest, split)
        tags.update({"role": role, "arm": arm, "target_size": size, "seed": seed, "lr": lr_text(lr)})
        where = (f"tags.role = '{role}' and tags.arm = '{arm}' and tags.target_size = '{size}' and "
                 f"tags.seed = '{seed}' and tags.lr = '{lr_text(lr)}'")
        what = f"{'tune' if role == 'tune' else 'arm'} {arm}, size {size}, seed {seed}, lr {lr_text(lr)}"
        return self.ensure(what, HERE / ARMS[arm][0], where, sets, tags, METRIC, split,
                           f"{role}-{arm}-{size}-{seed}-{lr_text(lr)}.log")


# ------------------------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mhr", default=str(ROOT / "build" / "mhr"), help="the mhr binary (default build/mhr)")
    ap.add_argument("--out", default=str(ROOT / "study-out"), help="tracker, parents, logs (default study-out/)")
    ap.add_argument("--data", default=str(ROOT / "data" / "study"), help="synthetic data (default data/study/)")
    ap.add_argument("--results", default=str(HERE), help="where RESULTS.md, results.csv, results.html go")
    ap.add_argument("--threads", type=int, default=2, help="LibTorch threads per run (default 2; results are "
                    "bit-identical for the same thread count)")
    ap.add_argument("--quick", action="store_true", help="the tiny version: 1 seed, 2 arms, a handful of images")
    ap.add_argument("--no-recheck", action="store_true", help="skip re-running one arm/seed")
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this many new runs (as if interrupted)")
    a = ap.parse_args()
    cfg = QUICK if a.quick else FULL
    mhr, out, data = Path(a.mhr).resolve(), Path(a.out).resolve(), Path(a.data).resolve()
    results = Path(a.results).resolve()
    for d in (out, data, results, out / "logs", out / "parents"):
        d.mkdir(parents=True, exist_ok=True)
    st = Study(cfg, mhr, out, data, a.threads)
    st.stop_after = a.stop_after
    started = time.time()
    log(f"study {st.sid}: seeds {cfg['seeds']}, target sizes {cfg['sizes']}, arms {cfg['arms']}, "
        f"{a.threads} threads; tracker {st.db}")

    src, tgt = cfg["source"], cfg["target"]
    synth(mhr, "cxr", data / "source-cxr",
          ["--count", str(src["count"]), "--size", src["size"], "--seed", str(src["seed"])])
    synth(mhr, "mammo", data / "target-pool",
          ["--count", str(tgt["count"]), "--size", tgt["size"], "--pixel-spacing", str(tgt["spacing"]),
           "--lesion", tgt["lesion"], "--seed", str(tgt["seed"])])
    manifests = write_manifests(data / "target-pool", cfg["sizes"], tgt["val"], tgt["split_seed"])

    tune = cfg["tune"]
    n_parents = len(set(cfg["seeds"]) | {tune["seed"]})
    st.total = n_parents + len(cfg["arms"]) * (len(tune["lrs"]) + len(cfg["seeds"]) * len(cfg["sizes"]))

    # 1. Tuning, on validation only: per arm, the learning rate with the best validation AUC (ties: the
    #    smaller) at the tuning size and seed, which is not a study seed.
    chosen = {}
    for arm in cfg["arms"]:
        scores = []
        for lr in tune["lrs"]:
            _, auc = st.arm("tune", arm, tune["size"], tune["seed"], lr, manifests[tune["size"]])
            scores.append((auc, -lr, lr))
        chosen[arm] = max(scores)[2]
        log(f"  arm {arm}: lr {lr_text(chosen[arm])} (validation AUC " +
            ", ".join(f"{lr_text(lr)}: {auc:.4f}" for auc, _, lr in scores) + ")")

    # 2. The study: every (size, seed, arm) with its chosen learning rate, evaluated on the test split.
    for size in cfg["sizes"]:
        for seed in cfg["seeds"]:
            for arm in cfg["arms"]:
                st.arm("arm", arm, size, seed, chosen[arm], manifests[size])
    runs_done = time.time()
    log(f"study runs done in {runs_done - started:.0f} s")

    recheck = None if a.no_recheck else rerun_check(st, cfg, chosen, manifests)
    write_results(st, cfg, chosen, results, recheck, runs_done - started)
    log(f"study finished in {time.time() - started:.0f} s: {results / 'RESULTS.md'}")


# ------------------------------------------------------------------------------------------------ checks
def rerun_check(st, cfg, chosen, manifests):
    """Re-run one arm/seed into a fresh tracker; its test AUC must equal the study's, bit for bit."""
    c = cfg["recheck"]
    arm, size, seed = c["arm"], c["size"], c["seed"]
    db = st.out / "recheck.sqlite"
    for f in st.out.glob("recheck.sqlite*"):
        f.unlink()
    where = (f"tags.study = '{st.sid}' and tags.role = 'arm' and tags.arm = '{arm}' and "
             f"tags.target_size = '{size}' and tags.seed = '{seed}'")
    original = tracker_runs(st.mhr, st.db, where)[0]
    sets, _ = st.arm_sets(arm, size, seed, chosen[arm], manifests[size], "test")
    t0 = time.time()
    mhr_run(st.mhr, HERE / ARMS[arm][0], db, sets, {"role": "recheck"}, st.threads, st.out / "logs" / "recheck.log")
    again = tracker_runs(st.mhr, db, "tags.role = 'recheck'")[0]
    a, b = original["metrics"][METRIC], again["metrics"][METRIC]
    same = a == b
    log(f"re-run check: arm {arm}, size {size}, seed {seed}: {a!r} in the study, {b!r} re-run "
        f"({'identical' if same else 'DIFFERENT'}, {time.time() - t0:.0f} s)")
    cmd = (f"mhr run experiments/study/{ARMS[arm][0]} --threads {st.threads} " +
           " ".join(f"--set {x}" for x in sets))
    return {"arm": arm, "size": size, "seed": seed, "study": a, "again": b, "same": same,
            "run": original["run_id"], "again_run": again["run_id"], "command": cmd,
            "version": again.get("source_version")}


# ------------------------------------------------------------------------------------------------ results
HYPOTHESES = [
    ("H1", "c", "a", "MorphHR (c) vs fine-tuning the parent at low resolution (a)"),
    ("H2", "c", "b", "MorphHR (c) vs fine-tuning the parent at full resolution with no morph (b)"),
    ("H3", "c", "e", "MorphHR (c) vs the high-resolution architecture from random weights (e)"),
    ("H4", "d", "c", "the zero-joined full-resolution branch (d) vs MorphHR without it (c)"),
    ("S1", "d", "a", "mhr's variant (d) vs low-resolution fine-tuning (a)"),
    ("S2", "d", "b", "mhr's variant (d) vs naive full-resolution fine-tuning (b)"),
    ("S3", "d", "e", "mhr's variant (d) vs its architecture from random weights (e)"),
]


def fmt_ci(lo, hi):
    return "[-, -]" if lo is None or hi is None else f"[{lo:+.4f}, {hi:+.4f}]"


def decide(comps, x, y, sizes):
    """supported / contradicted / not shown, by the protocol's rule over the target sizes."""
    verdicts = [comps[(str(n), x, y)]["verdict"] for n in sizes]
    if any(v == f"{y} higher" for v in verdicts):
        return "contradicted"
    if all(v == f"{x} higher" for v in verdicts):
        return "supported"
    return "not shown"


def write_results(st, cfg, chosen, results, recheck, wall):
    arms = [x for x in ARMS if x in cfg["arms"]]
    pairs = [(h, x, y, q) for h, x, y, q in HYPOTHESES if x in arms and y in arms]
    tmp = st.out / "aggregate"
    tmp.mkdir(exist_ok=True)
    out = run([st.mhr, "runs", "aggregate", "--db", st.db, "--where", f"tags.study = '{st.sid}' and tags.role = 'arm'",
               "--metric", METRIC, "--by", "arm", "--within", "target_size", "--pair", "seed",
               "--order", ",".join(arms), "--metric-column", "test_auc",
               "--title", "MorphHR study: test AUC per arm and target size",
               "--csv", results / "results.csv", "--html", results / "results.html",
               "--svg", results / "results.svg", "--markdown", tmp / "tables.md", "--json", tmp / "aggregate.json"]
              + (["--compare", ",".join(f"{x}:{y}" for _, x, y, _ in pairs)] if pairs else []))
    (tmp / "aggregate.txt").write_text(out)
    agg = json.loads((tmp / "aggregate.json").read_text())
    groups = {(g["within"], g["by"]): g for g in agg["groups"]}
    comps = {(c["within"], c["a"], c["b"]): c for c in agg["comparisons"]}
    sizes = cfg["sizes"]

    L = []
    L.append("# MorphHR study: results")
    L.append("")
    L.append("Generated by `make study` (`experiments/study/study.py`) from its tracker; do not edit by hand. The "
             "protocol, written and committed before these runs, is [PROTOCOL.md](PROTOCOL.md); every number "
             "below comes from `mhr runs aggregate` over the tracker's runs.")
    L.append("")
    every = tracker_runs(st.mhr, st.db, f"tags.study = '{st.sid}'")
    versions = sorted({r.get("source_version") or "?" for r in every})
    run_minutes = sum((r["end_time"] - r["start_time"]) for r in every if r.get("end_time")) / 60000.0
    L.append(f"- study id `{st.sid}`; runs made by mhr {', '.join(versions)}; this file written at commit "
             f"`{git_commit()}`")
    L.append(f"- machine: {machine()}; {st.threads} LibTorch threads per run (CPU results are bit-identical "
             f"for the same thread count); its {len(every)} runs took {run_minutes:.1f} min in all (the tracker's "
             "start and end times)")
    L.append(f"- {len(cfg['seeds'])} seeds ({', '.join(map(str, cfg['seeds']))}) x {len(sizes)} target sizes "
             f"({', '.join(map(str, sizes))} training images) x {len(arms)} arms; test split "
             f"{count_test(st)} images; budgets: " +
             ", ".join(f"{n} images: {cfg['epochs'][str(n)]} epochs ({n * cfg['epochs'][str(n)]} images seen)"
                       for n in sizes))
    L.append("")
    L.append("| arm | spec | what | learning rate (tuned on validation) |")
    L.append("|---|---|---|---|")
    for x in arms:
        L.append(f"| {x} | [{ARMS[x][0]}]({ARMS[x][0]}) | {ARMS[x][1]} | {lr_text(chosen[x])} |")
    L.append("")
    L.append("## Test AUC per arm")
    L.append("")
    L.append("![test AUC per arm and target size: each seed a dot, the mean with its 95% CI](results.svg)")
    L.append("")
    L.append("(The same plot with the tables: [results.html](results.html); one row per run: "
             "[results.csv](results.csv).)")
    L.append("")
    L.append((tmp / "tables.md").read_text().strip())
    L.append("")

    L.append("## Decisions (the protocol's rule)")
    L.append("")
    L.append("A comparison X − Y is \"X higher\" at a size when its paired 95% CI lies above 0; a hypothesis is "
             "*supported* when that holds at every target size, *contradicted* when Y is higher at any size, "
             "else *not shown*.")
    L.append("")
    L.append("| | comparison | " + " | ".join(f"size {n}: mean difference [95% CI], verdict" for n in sizes) +
             " | decision |")
    L.append("|---|---|" + "---|" * len(sizes) + "---|")
    decisions = {}
    for h, x, y, q in pairs:
        cells = []
        for n in sizes:
            c = comps[(str(n), x, y)]
            cells.append(f"{c['mean']:+.4f} {fmt_ci(c['ci_low'], c['ci_high'])}, {c['verdict']}"
                         if c["mean"] is not None else c["verdict"])
        decisions[h] = decide(comps, x, y, sizes)
        L.append(f"| {h} | {q} | " + " | ".join(cells) + f" | **{decisions[h]}** |")
    L.append("")

    L.append("## Validity of the target (protocol: no arm's mean above 0.97, none pinned at chance)")
    L.append("")
    problems = []
    for n in sizes:
        for x in arms:
            g = groups[(str(n), x)]
            if g["mean"] > 0.97:
                problems.append(f"arm {x} at size {n} is saturated (mean {g['mean']:.4f})")
            if g["mean"] < 0.55 and (g["ci_low"] is None or g["ci_low"] <= 0.5):
                problems.append(f"arm {x} at size {n} is at chance (mean {g['mean']:.4f})")
    L.append("Met: every arm's mean test AUC is between chance and 0.97." if not problems else
             "**Not met**: " + "; ".join(problems) + ". The protocol does not allow changing the design after "
             "seeing test results, so the comparisons involving these arms say little.")
    L.append("")

    L.append("## Conclusion")
    L.append("")
    if (HERE / "DISCUSSION.md").exists() and cfg is FULL:
        L.append("(Generated from the decisions alone; a reading of what the runs suggest, written after "
                 "seeing them, is in [DISCUSSION.md](DISCUSSION.md).)")
        L.append("")
    L.extend(conclusion(decisions, groups, comps, arms, sizes, len(cfg["seeds"]), count_test(st)))
    L.append("")

    L.append("## Tuning (validation split, seed 0, 200 training images)" if not cfg is QUICK else "## Tuning")
    L.append("")
    L.append("| arm | " + " | ".join(f"lr {lr_text(lr)}" for lr in cfg["tune"]["lrs"]) + " | chosen |")
    L.append("|---|" + "---|" * len(cfg["tune"]["lrs"]) + "---|")
    for x in arms:
        vals = []
        for lr in cfg["tune"]["lrs"]:
            r = tracker_runs(st.mhr, st.db, f"tags.study = '{st.sid}' and tags.role = 'tune' and tags.arm = '{x}' "
                                            f"and tags.lr = '{lr_text(lr)}'")[0]
            vals.append(f"{r['metrics'][METRIC]:.4f}")
        L.append(f"| {x} | " + " | ".join(vals) + f" | {lr_text(chosen[x])} |")
    L.append("")
    L.append("## The parents (source task: 14-label synthetic chest X-rays at "
             f"{cfg['source']['at']}, mean test AUC over the labels)")
    L.append("")
    L.append("| seed | source test AUC | run |")
    L.append("|---|---|---|")
    for seed in sorted(st.parents):
        rid = st.parents[seed][0]
        r = tracker_runs(st.mhr, st.db, f"run_id = '{rid}'")[0]
        L.append(f"| {seed}{' (tuning)' if seed == cfg['tune']['seed'] else ''} | "
                 f"{r['metrics']['evaluate.parent/auc']:.4f} | `{rid[:8]}` |")
    L.append("")
    L.append("## Reproducing a number")
    L.append("")
    L.append("Each run's `--set` overrides are in its tracker tag `mhr.overrides` (`mhr runs show RUN`); the run "
             "ids are in results.csv.")
    if recheck:
        L.append(f"The study re-ran arm {recheck['arm']}, size {recheck['size']}, seed {recheck['seed']} (run "
                 f"`{recheck['run'][:8]}`) into a fresh tracker with mhr {recheck['version']}: test AUC "
                 f"{recheck['study']!r} in the study, {recheck['again']!r} re-run: "
                 f"**{'identical' if recheck['same'] else 'DIFFERENT'}**. The command (with the parent "
                 "of seed 1 exported from the tracker to study-out/parents/):")
        L.append("")
        L.append("```")
        L.append(recheck["command"].replace(str(ROOT) + "/", ""))
        L.append("```")
    else:
        L.append("The re-run check was skipped (--no-recheck).")
    L.append("")
    (results / "RESULTS.md").write_text("\n".join(L) + "\n")


def count_test(st):
    """Test images in the manifests (the same in every one)."""
    path = next((st.data / "target-pool").glob("target-*.csv"))
    with open(path, newline="") as f:
        return sum(1 for r in csv.DictReader(f) if r["split"] == "test")


def conclusion(decisions, groups, comps, arms, sizes, n_seeds, n_test):
    """Plain language, from the decisions alone (the same numbers give the same words)."""
    out = []
    best = {n: max(arms, key=lambda x: groups[(str(n), x)]["mean"]) for n in sizes}
    for n in sizes:
        g = groups[(str(n), best[n])]
        out.append(f"- With {n} training images the best arm by mean test AUC is ({best[n]}) {ARMS[best[n]][1]}, "
                   f"{g['mean']:.4f} {fmt_ci(g['ci_low'], g['ci_high']).replace('+', '')}.")
    words = {"supported": "supported", "contradicted": "contradicted", "not shown": "not shown either way"}
    for h, x, y, q in HYPOTHESES:
        if h in decisions:
            out.append(f"- {h}, {q}: {words[decisions[h]]}.")
    if "H1" in decisions and "H3" in decisions:
        if decisions["H1"] != "supported" and decisions["H3"] != "supported":
            out.append("- By the protocol's rule, **MorphHR as the paper describes it (c) does not help here**: it "
                       "beats neither fine-tuning at low resolution nor training its architecture from scratch.")
        else:
            out.append("- By the protocol's rule, MorphHR (c) helps here on at least one of the two "
                       "comparisons that define it (H1, H3).")
    if "S1" in decisions and "S3" in decisions:
        if decisions["S1"] != "supported" and decisions["S3"] != "supported":
            out.append("- mhr's variant (d) does not help here by the same rule (d vs a and d vs e).")
        else:
            out.append("- mhr's variant (d) helps here on at least one of d vs a, d vs e.")
    out.append("- What this does not show: anything about real mammograms, ImageNet weights or other networks. "
               "This is one synthetic generator, one small ResNet-18 (width 0.25), a 4x resolution ratio, "
               f"{n_seeds} seeds, {n_test} test images and learning rates tuned on one seed; a difference the "
               "intervals cannot resolve may still exist.")
    return out


if __name__ == "__main__":
    main()
