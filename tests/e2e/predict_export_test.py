"""End-to-end test of `mhr predict` and `mhr export` on a real run (label e2e).

Runs tests/e2e/predict/trained.mhr on CBIS-DDSM-format DICOMs from `mhr synth`, then checks, against the
tracker and against PyTorch itself:
  * predict on the data set's own test CSVs gives every test image the score the run's evaluation logged
    (same preprocessing, same quantisation), labels at the run's equal-error threshold, Grad-CAM PNGs;
  * bad inputs (not an image, a colour PNG for a grey network, a truncated DICOM, a missing file) get an
    error row each, the good images are still predicted, the exit code is 1;
  * one clear line for an unknown run, a network the run did not evaluate, an ambiguous choice, a failed run;
  * export: model.py + model.safetensors reproduce predict's logits on the same inputs (max abs diff <= 1e-5),
    for the morphed network and for a plain ResNet-18; model.py's preprocess() equals mhr's inputs; the
    ResNet-18 state dict loads into torchvision.models.resnet18 with strict=True and gives the same logits;
  * a stdlib network exported and named as `weights:` in a new spec evaluates to the same predictions.
usage: predict_export_test.py MHR_BINARY SPEC_DIR WORK_DIR
"""
import csv
import importlib.util
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import zlib

import numpy as np
import torch

mhr, spec_dir, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
os.chdir(work)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def sh(*args, expect=0):
    p = subprocess.run([mhr, *args], capture_output=True, text=True)
    if expect is not None and p.returncode != expect:
        print(p.stdout, p.stderr, file=sys.stderr)
        raise SystemExit(f"mhr {' '.join(args)}: exit {p.returncode}, expected {expect}")
    return p


def read_safetensors(path):
    """A minimal safetensors reader (Debian's Python has no safetensors package)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "I64": "<i8"}[info["dtype"]]
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtype).reshape(info["shape"]).copy())
    return out


def load_module(folder):
    spec = importlib.util.spec_from_file_location("model_" + os.path.basename(folder), os.path.join(folder, "model.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


sh("synth", "mammo", "--out", "data", "--count", "40", "--size", "64x52", "--lesion", "calcification", "--seed", "3")
shutil.copy(os.path.join(spec_dir, "trained.mhr"), "trained.mhr")
common = ["--db", "runs.sqlite", "--device", "cpu", "--threads", "1", "--cache-dir", "cache"]
sh("run", "trained.mhr", *common)
db = sqlite3.connect("runs.sqlite")
run_id = db.execute("SELECT run_uuid FROM runs WHERE status = 'FINISHED' OR status = 'finished'").fetchone()[0]


def logged_scores(stage, run):
    rows = db.execute("SELECT sample_id, class, score FROM predictions WHERE run_uuid = ? AND stage = ?",
                      (run, stage)).fetchall()
    return {(s, c): v for s, c, v in rows}


# ---- one clear line each
p = sh("predict", "deadbeef", "data", "-o", "x.csv", "--db", "runs.sqlite", expect=1)
check(p.stderr.count("\n") == 1 and "deadbeef" in p.stderr, f"unknown run: {p.stderr!r}")
p = sh("predict", run_id[:8], "data", "-o", "x.csv", "--db", "runs.sqlite", expect=1)
check("evaluated 3 networks (base, hr, tv)" in p.stderr and "--network" in p.stderr, f"ambiguous: {p.stderr!r}")
p = sh("predict", run_id[:8], "--network", "nope", "data", "-o", "x.csv", "--db", "runs.sqlite", expect=1)
check("did not evaluate a network 'nope' (it evaluated: base, hr, tv)" in p.stderr, f"unknown network: {p.stderr!r}")
p = sh("export", run_id[:8], "--network", "nope", "-o", "x", "--db", "runs.sqlite", expect=1)
check("did not evaluate a network 'nope'" in p.stderr, f"export unknown network: {p.stderr!r}")
p = sh("predict", run_id[:8], "--network", "hr", "--stage", "evaluate.base", "data", "-o", "x.csv", "--db",
       "runs.sqlite", expect=1)
check("has no evaluate stage 'evaluate.base' of network 'hr'" in p.stderr, f"wrong stage: {p.stderr!r}")
failed = sh("run", "trained.mhr", *common, "--set", 'dataset.mammo.root="nowhere"', expect=1)
failed_id = db.execute("SELECT run_uuid FROM runs WHERE run_uuid != ? ORDER BY start_time DESC",
                       (run_id,)).fetchone()[0]
p = sh("predict", failed_id[:8], "data", "-o", "x.csv", "--db", "runs.sqlite", expect=1)
check("recorded no trained network" in p.stderr and p.stderr.count("\n") == 1, f"failed run: {p.stderr!r}")

# ---- predict on the data set's own CSVs: the evaluation's scores
test_csvs = ["data/calc_case_description_test_set.csv", "data/mass_case_description_test_set.csv"]
p = sh("predict", run_id[:8], "--network", "hr", *test_csvs, "-o", "hr.csv", "--logits", "--cam", "cams",
       "--inputs-out", "hr-inputs.safetensors", "--db", "runs.sqlite", "--device", "cpu")
rows = read_rows("hr.csv")
check(len(rows) > 0 and all(r["status"] == "ok" for r in rows), "every test image predicted")
check(list(rows[0].keys()) == ["path", "status", "p_benign", "p_malignant", "predicted", "cam", "logit_benign",
                               "logit_malignant"], f"columns {list(rows[0].keys())}")
scores = logged_scores("evaluate.hr", run_id)
threshold = db.execute("SELECT value FROM latest_metrics WHERE run_uuid = ? AND key = 'evaluate.hr/threshold'",
                       (run_id,)).fetchone()[0]
worst = 0.0
for r in rows:
    sample = os.path.relpath(r["path"], "data").split(os.sep)[0]
    worst = max(worst, abs(float(r["p_malignant"]) - scores[(sample, "malignant")]))
    # The equal-error threshold is one of the float32 scores; the CSV's 9 digits round-trip to that float32, not
    # to the double the tracker holds, so compare in float32 as mhr does (a score at the threshold is positive).
    p32 = struct.unpack("f", struct.pack("f", float(r["p_malignant"])))[0]
    want = "malignant" if p32 >= threshold else "benign"
    check(r["predicted"] == want, f"{r['path']}: predicted {r['predicted']} at threshold {threshold}")
check(worst <= 1e-5, f"predict vs the evaluation's logged scores: max abs diff {worst}")
print(f"predict = evaluation scores on {len(rows)} test images: max abs diff {worst:.2e}")
check("equal-error" in p.stderr, f"the threshold's origin is said: {p.stderr!r}")
cams = sorted(os.listdir("cams"))
check(len(cams) == len(rows) and sorted(os.path.basename(r["cam"]) for r in rows) == cams and all(
    open(os.path.join("cams", c), "rb").read(8) == b"\x89PNG\r\n\x1a\n" for c in cams), f"CAM PNGs: {cams}")

# ---- bad inputs: one error row each, the rest predicted, exit code 1
os.makedirs("bad/folder")
good = rows[0]["path"]
shutil.copy(good, "bad/folder/a.dcm")
shutil.copy(good, "bad/folder/b.dcm")
open("bad/folder/README.txt", "w").write("not an image\n")
open("bad/notes.txt", "w").write("not an image either\n")
blob = open(good, "rb").read()
open("bad/truncated.dcm", "wb").write(blob[: len(blob) // 3])


def png_rgb(path, w=8, h=8):
    """An 8-bit RGB PNG whose channels differ (a colour image), written with the standard library."""
    raw = b"".join(b"\x00" + b"".join(bytes([(x * 30) % 256, (y * 30) % 256, 128]) for x in range(w))
                   for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


png_rgb("bad/colour.png")
bad = ["bad/notes.txt", "bad/colour.png", "bad/truncated.dcm", "bad/missing.dcm", good, "bad/folder"]
p = sh("predict", run_id[:8], "--network", "base", *bad, "-o", "bad.csv", "--db", "runs.sqlite", expect=1)
brows = {r["path"]: r for r in read_rows("bad.csv")}
check(len(brows) == 7, f"one row per image: {list(brows)}")
for path in ["bad/notes.txt", "bad/colour.png", "bad/truncated.dcm", "bad/missing.dcm"]:
    check(brows.get(path, {}).get("status", "").startswith("error: "), f"{path}: {brows.get(path)}")
    check(path in p.stderr, f"{path} named on stderr")
check("colour" in brows["bad/colour.png"]["status"], f"colour: {brows['bad/colour.png']['status']}")
for path in [good, "bad/folder/a.dcm", "bad/folder/b.dcm"]:
    check(brows.get(path, {}).get("status") == "ok", f"{path} predicted despite the bad ones")
check("README.txt" in p.stderr and "not images" in p.stderr, "the folder's non-image file is said")

# ---- export: model.py reproduces predict's logits, for the morphed network and for a plain ResNet-18
p = sh("export", run_id[:8], "--network", "hr", "-o", "export-hr", "--db", "runs.sqlite")
check("no torchvision model has its shape" in p.stdout, f"hr export says it is not torchvision: {p.stdout!r}")
spec = json.load(open("export-hr/spec.json"))
check(spec["run_id"] == run_id and spec["network"] == "hr" and spec["classes"] == ["benign", "malignant"] and
      spec["resolution"] == [64, 52] and spec["torchvision"] is None and spec["graph"]["nodes"], "spec.json")
model_py = open("export-hr/model.py").read()
imports = {l.split()[1].split(".")[0] for l in model_py.splitlines() if l.startswith(("import ", "from "))}
check(imports <= {"torch", "numpy", "safetensors", "json", "struct", "os", "math", "typing", "__future__",
                  "collections", "functools"}, f"model.py imports {imports}")
mod = load_module(os.path.abspath("export-hr"))
model = mod.load(os.path.abspath("export-hr"))
inputs = read_safetensors("hr-inputs.safetensors")
worst = 0.0
with torch.no_grad():
    for i, r in enumerate(rows):
        want = torch.tensor([float(r["logit_benign"]), float(r["logit_malignant"])])
        got = model(inputs[str(i)])[0]
        worst = max(worst, (got - want).abs().max().item())
check(worst <= 1e-5, f"model.py vs mhr predict logits (morphed hr): max abs diff {worst}")
print(f"export hr: model.py logits = mhr predict's: max abs diff {worst:.2e}")
# preprocess(): the same inputs from the decoded pixel array (pydicom where present)
try:
    import pydicom
except ImportError:
    pydicom = None
if pydicom is not None:
    worst = 0.0
    for i, r in enumerate(rows[:4]):
        ds = pydicom.dcmread(r["path"])
        x = mod.preprocess(ds.pixel_array, rescale_slope=float(getattr(ds, "RescaleSlope", 1)),
                           rescale_intercept=float(getattr(ds, "RescaleIntercept", 0)),
                           monochrome1=ds.PhotometricInterpretation == "MONOCHROME1")
        worst = max(worst, (x - inputs[str(i)]).abs().max().item())
    check(worst <= 1e-5, f"model.py preprocess() vs mhr's inputs: max abs diff {worst}")
    print(f"export hr: preprocess() = mhr's inputs: max abs diff {worst:.2e}")
else:
    print("pydicom is not installed: preprocess() on DICOM not checked here (tests/export checks it on arrays)")

p = sh("export", run_id[:8], "--network", "tv", "-o", "export-tv", "--db", "runs.sqlite")
check("torchvision.models.resnet18(num_classes=2)" in p.stdout, f"tv export names torchvision: {p.stdout!r}")
check(json.load(open("export-tv/spec.json"))["torchvision"] == "resnet18", "spec.json torchvision")
tv_mod = load_module(os.path.abspath("export-tv"))
tv_model = tv_mod.load(os.path.abspath("export-tv"))
try:
    import torchvision
except ImportError:
    torchvision = None
p = sh("predict", run_id[:8], "--network", "tv", *test_csvs, "-o", "tv.csv", "--logits", "--inputs-out",
       "tv-inputs.safetensors", "--db", "runs.sqlite")
tv_rows, tv_inputs = read_rows("tv.csv"), read_safetensors("tv-inputs.safetensors")
worst, worst_tv = 0.0, 0.0
reference = None
if torchvision is not None:
    reference = torchvision.models.resnet18(num_classes=2)
    reference.load_state_dict(read_safetensors("export-tv/model.safetensors"), strict=True)
    reference.eval()
with torch.no_grad():
    for i, r in enumerate(tv_rows):
        want = torch.tensor([float(r["logit_benign"]), float(r["logit_malignant"])])
        x = tv_inputs[str(i)]
        check(tuple(x.shape) == (1, 3, 32, 32), f"tv input shape {tuple(x.shape)}")
        worst = max(worst, (tv_model(x)[0] - want).abs().max().item())
        if reference is not None:
            worst_tv = max(worst_tv, (reference(x)[0] - want).abs().max().item())
check(worst <= 1e-5, f"model.py vs mhr predict logits (resnet18): max abs diff {worst}")
check(worst_tv <= 1e-5, f"torchvision resnet18 (strict load) vs mhr predict: max abs diff {worst_tv}")
print(f"export tv: model.py {worst:.2e}, torchvision.models.resnet18 strict load {worst_tv:.2e}")

# ---- round trip: an exported stdlib network as `weights:` evaluates to the same predictions
sh("export", run_id[:8], "--network", "base", "-o", "export-base", "--db", "runs.sqlite")
with open("roundtrip.mhr", "w") as f:
    f.write('experiment "test/roundtrip"\nseed 5\n'
            'dataset mammo = cbis_ddsm(root: "data", val_fraction: 0.1) {\n'
            '  preprocess: [normalize(mean: 0.3, std: 0.2)]\n}\n'
            'network base = resnet18(classes: 2, width: 0.125, in_channels: 1, weights: '
            '"export-base/model.safetensors")\n'
            'evaluate base on mammo.test at 32x26 { metrics: [auc] }\n')
sh("run", "roundtrip.mhr", *common)
rt_id = db.execute("SELECT r.run_uuid FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id "
                   "WHERE e.name = 'test/roundtrip'").fetchone()[0]
before, after = logged_scores("evaluate.base", run_id), logged_scores("evaluate.base", rt_id)
worst = max(abs(before[k] - after[k]) for k in before) if before and before.keys() == after.keys() else float("inf")
check(worst <= 1e-6, f"export -> weights: round trip: max abs diff {worst}")
print(f"export base -> weights: -> evaluate: max abs diff {worst:.2e}")

# ---- multi-label (ChestX-ray14 PNGs), with test-time flip: predict on Data_Entry_2017.csv
sh("synth", "cxr", "--out", "cxr", "--count", "40", "--size", "64x64", "--seed", "3")
shutil.copy(os.path.join(spec_dir, "cxr.mhr"), "cxr.mhr")
sh("run", "cxr.mhr", *common)
cxr_id = db.execute("SELECT r.run_uuid FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id "
                    "WHERE e.name = 'test/predict-cxr'").fetchone()[0]
p = sh("predict", cxr_id[:8], "cxr/Data_Entry_2017.csv", "-o", "cxr.csv", "--inputs-out", "cxr-inputs.safetensors",
       "--db", "runs.sqlite")
crows = read_rows("cxr.csv")
labels = ["Effusion", "Mass", "Nodule"]
check(len(crows) == 40 and list(crows[0].keys()) == ["path", "status"] + ["p_" + c for c in labels] + ["predicted"],
      f"cxr columns {list(crows[0].keys())}")
scores = logged_scores("evaluate.net", cxr_id)
compared, worst = 0, 0.0
for r in crows:
    name = os.path.basename(r["path"])
    want = "|".join(c for c in labels if float(r["p_" + c]) >= 0.3)
    check(r["predicted"] == want, f"{name}: predicted {r['predicted']!r}, labels at 0.3 are {want!r}")
    for c in labels:
        if (name, c) in scores:
            compared += 1
            worst = max(worst, abs(float(r["p_" + c]) - scores[(name, c)]))
check(compared > 0 and worst <= 1e-5, f"multi-label predict vs evaluation: {compared} scores, max abs diff {worst}")
print(f"multi-label predict = evaluation scores ({compared} image x label, tta): max abs diff {worst:.2e}")
sh("export", cxr_id[:8], "-o", "export-cxr", "--db", "runs.sqlite")
cmod = load_module(os.path.abspath("export-cxr"))
cmodel = cmod.load(os.path.abspath("export-cxr"))
cinputs = read_safetensors("cxr-inputs.safetensors")
worst = 0.0
with torch.no_grad():
    for i, r in enumerate(crows):
        got = cmod.probabilities(cmodel, cinputs[str(i)])[0]
        want = torch.tensor([float(r["p_" + c]) for c in labels])
        worst = max(worst, (got - want).abs().max().item())
check(cmod.MULTI_LABEL and cmod.FLIP_TTA and worst <= 1e-5, f"model.py probabilities (sigmoid, flip) {worst}")
print(f"export multi-label: model.py probabilities = mhr predict's: max abs diff {worst:.2e}")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("predict/export: all checks passed")
