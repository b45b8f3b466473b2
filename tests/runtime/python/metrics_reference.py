# Reference values for the runtime's metrics, from sklearn (Debian's python3-sklearn) and numpy. Writes a plain
# text file the C++ test parses: each case gives its inputs and sklearn's outputs.
# Usage: metrics_reference.py OUT_DIR (writes OUT_DIR/ref.txt)
import sys

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import accuracy_score, roc_auc_score, roc_curve

rng = np.random.default_rng(20261127)
out = open(sys.argv[1] + "/ref.txt", "w")


def nums(v):
    return " ".join(repr(float(x)) for x in v)


def binary_case(name, y, s):
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=np.float64)
    out.write("case %s %d\n%s\n%s\n" % (name, len(y), " ".join(str(int(v)) for v in y), nums(s)))
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
out.write("accuracy %r\n" % float(accuracy_score(y, P.argmax(1))))
out.close()
print("ok")
