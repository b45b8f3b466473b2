# Probe 3/5: Otsu threshold + largest component + flip + aspect-preserving resize (like mhr's breast_crop, plus
# masking the other components) -> /tmp/mhr-probe/data_crop.npz; prints the plain high-pass maximum's AUC.
import numpy as np, cv2
from sklearn.metrics import roc_auc_score
import torch, torch.nn.functional as F
d = dict(np.load('/tmp/mhr-probe/data.npz'))
def crop(a):
    u8 = (a / a.max() * 255).astype(np.uint8)
    t, m = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n, lab, st, _ = cv2.connectedComponentsWithStats(m)
    k = 1 + np.argmax(st[1:, cv2.CC_STAT_AREA])
    x, y, w, h = st[k, :4]
    c = a[y:y+h, x:x+w] * (lab[y:y+h, x:x+w] == k)  # only the breast component
    if c[:, :w//2].sum() < c[:, w//2:].sum(): c = c[:, ::-1]
    s = min(512 / h, 416 / w); nh, nw = int(round(h * s)), int(round(w * s))
    r = cv2.resize(np.ascontiguousarray(c), (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((512, 416), np.float32); out[:nh, :nw] = r
    return out
for k in ['Xtr', 'Xte']: d[k] = np.stack([crop(a) for a in d[k]])
np.savez('/tmp/mhr-probe/data_crop.npz', **d)
for name in ['tr', 'te']:
    X = torch.tensor(d['X'+name])[:, None]; Y = d['Y'+name]
    for k in [3, 5]:
        hp = X - F.avg_pool2d(X, k, 1, k//2, count_include_pad=False)
        hp = hp * (F.max_pool2d(-(X <= 0).float(), 9, 1, 4) > -0.5)  # away from the edge of the mask
        print(name, k, round(roc_auc_score(Y, hp.amax((1, 2, 3)).numpy()), 3))
cv2.imwrite('/tmp/mhr-probe/crop0.png', (d['Xtr'][3] / d['Xtr'][3].max() * 255).astype(np.uint8))
