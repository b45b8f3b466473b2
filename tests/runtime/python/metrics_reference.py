# Reference values for the runtime's metrics, from sklearn (Debian's python3-sklearn) and numpy. Writes a plain
# text file the C++ test parses: each case gives its inputs and sklearn's outputs.
# Usage: metrics_reference.py OUT_DIR (writes OUT_DIR/ref.txt)
import sys

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import (accuracy_score, average_precision_score, balanced_accuracy_score,
                             brier_score_loss, f1_score, multilabel_confusion_matrix, precision_score,
                             recall_score, roc_auc_score, roc_curve)

rng = np.random.default_rng(20261127)
out = open(sys.argv[1] + "/ref.txt", "w")


def nums(v):
    return " ".join(repr(float(x)) for x in v)


def ece(y, p):
    # 10 equal-width bins [k/10, (k+1)/10), a probability of 1 in the last: sklearn has no ECE function.
    b = np.clip(np.floor(p * 10).astype(int), 0, 9)
    return float(sum(abs(y[b == k].sum() - p[b == k].sum()) for k in range(10)) / len(y))


def at_threshold(Y, P):
    """Per-column ppv, npv, f1, balanced accuracy from sklearn's confusion matrices; NaN where undefined
    (sklearn's zero_division gives 0 there), then their nan-means (macro) and the pooled (micro) values."""
    cm = multilabel_confusion_matrix(Y, P)  # [k] = [[tn, fp], [fn, tp]]
    tn, fp, fn, tp = (cm[:, 0, 0].astype(float), cm[:, 0, 1].astype(float), cm[:, 1, 0].astype(float),
                      cm[:, 1, 1].astype(float))
    div = lambda a, b: np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
    ppv, npv, f1 = div(tp, tp + fp), div(tn, tn + fn), div(2 * tp, 2 * tp + fp + fn)
    sens, spec = div(tp, tp + fn), div(tn, tn + fp)
    # sklearn's own per-class values agree where defined.
    z = dict(average=None, zero_division=0)
    assert np.allclose(np.nan_to_num(ppv), precision_score(Y, P, **z))
    assert np.allclose(np.nan_to_num(f1), f1_score(Y, P, **z))
    assert np.allclose(np.nan_to_num(sens), recall_score(Y, P, **z))
    T, F, N, Pz = tp.sum(), fp.sum(), fn.sum(), tn.sum()
    micro = dict(ppv=T / (T + F) if T + F else np.nan, npv=Pz / (Pz + N) if Pz + N else np.nan,
                 f1=f1_score(Y, P, average="micro", zero_division=0) if 2 * T + F + N else np.nan)
    rows = []
    for k, v in (("ppv", ppv), ("npv", npv), ("f1", f1), ("balanced", (sens + spec) / 2)):
        rows.append("%s %s %r %r\n" % (k, nums(v), float(np.nanmean(v)), float(micro.get(k, np.nan))))
    return "".join(rows)


def binary_case(name, y, s):
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=np.float64)
    out.write("case %s %d\n%s\n%s\n" % (name, len(y), " ".join(str(int(v)) for v in y), nums(s)))
    # Average precision (NaN without positives), Brier, ECE, and at 0.5: ppv, npv, f1, balanced accuracy.
    ap = float(average_precision_score(y, s)) if y.max() == 1 else float("nan")
    pred = (s >= 0.5).astype(int)
    tp, fp = int((pred & y).sum()), int((pred & (1 - y)).sum())
    tn, fn = int(((1 - pred) & (1 - y)).sum()), int(((1 - pred) & y).sum())
    nan = float("nan")
    ppv = tp / (tp + fp) if tp + fp else nan
    npv = tn / (tn + fn) if tn + fn else nan
    f1 = float(f1_score(y, pred, zero_division=0)) if 2 * tp + fp + fn else nan
    bal = float(balanced_accuracy_score(y, pred)) if 0 < y.sum() < len(y) else nan
    prob = 0 <= s.min() and s.max() <= 1  # Brier and ECE need probabilities
    out.write("more %r %r %r %r %r %r %r\n" % (ap, float(brier_score_loss(y, s)) if prob else nan,
                                                 ece(y, s) if prob else nan, ppv, npv, f1, bal))
    if y.min() == y.max():
        out.write("auc nan\n")
        return
    out.write("auc %r\n" % float(roc_auc_score(y, s)))
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    fpr, tpr, thr = fpr[1:], tpr[1:], thr[1:]  # drop the artificial first point
    out.write("roc %d %s %s %s\n" % (len(thr), nums(thr), nums(fpr), nums(tpr)))
    i = int(np.argmin(np.abs(fpr - (1 - tpr))))
    t = thr[i]
    pred = s >= t
    out.write("eer %r %r %r\n" % (float(t), float((pred & (y == 1)).sum() / (y == 1).sum()),
                                  float((~pred & (y == 0)).sum() / (y == 0).sum())))
    pred = s >= 0.5
    out.write("at05 %r %r\n" % (float((pred & (y == 1)).sum() / (y == 1).sum()),
                                float((~pred & (y == 0)).sum() / (y == 0).sum())))
    # Percentile bootstrap with numpy's generator: a different random stream than the C++ side, so the two
    # intervals agree only up to Monte-Carlo error.
    # The AUC of each resample by the rank-sum formula (equal to roc_auc_score, ties as half; much faster).
    aucs = []
    while len(aucs) < 4000:
        idx = rng.integers(0, len(y), len(y))
        yy, ss = y[idx], s[idx]
        p = int(yy.sum())
        if 0 < p < len(yy):
            r = rankdata(ss)
            aucs.append((r[yy == 1].sum() - p * (p + 1) / 2) / (p * (len(yy) - p)))
    out.write("ci %r %r\n" % (float(np.quantile(aucs, 0.025)), float(np.quantile(aucs, 0.975))))


# Scores with many ties (one decimal), informative.
y = rng.integers(0, 2, 300)
binary_case("ties", y, np.round(np.clip(0.5 + 0.25 * (y - 0.5) + rng.normal(0, 0.25, 300), 0, 1), 1))
# Continuous scores, imbalanced.
y = (rng.random(500) < 0.15).astype(int)
binary_case("imbalanced", y, rng.normal(0, 1, 500) + 1.2 * y)
# Every score equal: AUC 0.5 exactly.
binary_case("alltied", [0, 1, 0, 1, 1], [0.3] * 5)
# Perfect and inverted rankings.
binary_case("perfect", [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
binary_case("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
binary_case("small", [0, 1, 1, 0, 1, 0, 1], [0.5, 0.5, 0.7, 0.2, 0.5, 0.9, 0.1])
binary_case("oneclass", [1, 1, 1], [0.2, 0.4, 0.6])

# Multi-label: 5 labels, the last one never positive.
n, c = 200, 5
Y = (rng.random((n, c)) < np.array([0.3, 0.1, 0.5, 0.2, 0.0])).astype(int)
S = np.round(1 / (1 + np.exp(-(rng.normal(0, 1, (n, c)) + 1.5 * Y))), 2)
out.write("multilabel %d %d\n" % (n, c))
for i in range(n):
    out.write(" ".join(str(v) for v in Y[i]) + " " + nums(S[i]) + "\n")
per = [roc_auc_score(Y[:, k], S[:, k]) if Y[:, k].min() != Y[:, k].max() else float("nan") for k in range(c)]
out.write("perclass %s\n" % nums(per))
out.write("mean %r\n" % float(np.nanmean(per)))
ap = [average_precision_score(Y[:, k], S[:, k]) if Y[:, k].max() == 1 else float("nan") for k in range(c)]
out.write("ap %s %r %r\n" % (nums(ap), float(np.nanmean(ap)), float(average_precision_score(Y.ravel(), S.ravel()))))
out.write("micro_auc %r\n" % float(roc_auc_score(Y.ravel(), S.ravel())))
out.write("brier %s\n" % nums([brier_score_loss(Y[:, k], S[:, k]) for k in range(c)]))
out.write("ece %s\n" % nums([ece(Y[:, k], S[:, k]) for k in range(c)]))
out.write(at_threshold(Y, (S >= 0.5).astype(int)))
out.write("accuracy %r\n" % float(((S >= 0.5) == (Y == 1)).mean()))

# Single-label, 4 classes, softmax scores: macro one-vs-rest AUC and argmax accuracy.
n, c = 150, 4
y = rng.integers(0, c, n)
logits = rng.normal(0, 1, (n, c))
logits[np.arange(n), y] += 1.0
P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
out.write("multiclass %d %d\n" % (n, c))
for i in range(n):
    out.write(str(y[i]) + " " + nums(P[i]) + "\n")
out.write("mean %r\n" % float(roc_auc_score(y, P, multi_class="ovr", average="macro")))
Yb = np.eye(c, dtype=int)[y]
ap = [average_precision_score(Yb[:, k], P[:, k]) for k in range(c)]
assert abs(np.mean(ap) - average_precision_score(Yb, P, average="macro")) < 1e-12
out.write("ap %s %r %r\n" % (nums(ap), float(np.mean(ap)), float(average_precision_score(Yb, P, average="micro"))))
out.write("micro_auc %r\n" % float(roc_auc_score(Yb, P, average="micro")))
out.write("brier %s\n" % nums([brier_score_loss(Yb[:, k], P[:, k]) for k in range(c)]))
out.write("ece %s\n" % nums([ece(Yb[:, k], P[:, k]) for k in range(c)]))
out.write(at_threshold(Yb, (P >= 0.5).astype(int)))
out.write("balanced_argmax %r\n" % float(balanced_accuracy_score(y, P.argmax(1))))
out.write("accuracy %r\n" % float(accuracy_score(y, P.argmax(1))))
out.close()
print("ok")
