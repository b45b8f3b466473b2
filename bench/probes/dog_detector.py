# Probe 2/5: a hand-made calcification detector (difference of Gaussians, maximum inside the breast mask eroded
# by 12 px, i.e. away from the skin line and the film label) — how separable the task is at full resolution.
import numpy as np, cv2
from sklearn.metrics import roc_auc_score
d = np.load('/tmp/mhr-probe/data.npz')
for name in ['tr', 'te']:
    X = d['X'+name]; Y = d['Y'+name]; S = {}
    for i, a in enumerate(X):
        u8 = (a / a.max() * 255).astype(np.uint8)
        _, m = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        n, lab, st, _ = cv2.connectedComponentsWithStats(m); k = 1 + np.argmax(st[1:, cv2.CC_STAT_AREA])
        mask = cv2.erode((lab == k).astype(np.uint8), np.ones((25, 25), np.uint8))
        for s1, s2 in [(0.7, 2), (1, 3), (1.5, 4)]:
            dog = cv2.GaussianBlur(a, (0, 0), s1) - cv2.GaussianBlur(a, (0, 0), s2)
            dog = dog * mask
            S.setdefault((s1, s2, 'max'), []).append(dog.max())
            S.setdefault((s1, s2, 'top50'), []).append(np.sort(dog.ravel())[-50:].mean())
    for k, v in S.items(): print(name, k, round(roc_auc_score(Y, v), 3))
