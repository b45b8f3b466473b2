# Probe 4/5: a shallow learned detector at full resolution: conv7x7(1->C) + ReLU + conv1x1 + ReLU + global pooling
# (max | lse | avg) + linear. Usage: tiny_detector.py EPOCHS LR C POOL; prints the test AUC per epoch.
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, time, sys, os
from sklearn.metrics import roc_auc_score
torch.set_num_threads(2); torch.manual_seed(0)
d = np.load(os.environ.get('DATA', '/tmp/mhr-probe/data_crop.npz'))
Xtr = torch.tensor((d['Xtr'] - 0.115) / 0.105)[:, None]; Ytr = torch.tensor(d['Ytr'])
Xte = torch.tensor((d['Xte'] - 0.115) / 0.105)[:, None]; Yte = d['Yte']
epochs = int(sys.argv[1]); lr = float(sys.argv[2]); C = int(sys.argv[3]); pool = sys.argv[4]
m = nn.Sequential(nn.Conv2d(1, C, 7, 1, 3), nn.ReLU(), nn.Conv2d(C, C, 1), nn.ReLU())
fc = nn.Linear(C, 2)
params = list(m.parameters()) + list(fc.parameters())
opt = torch.optim.Adam(params, lr)
def fwd(x):
    h = m(x)
    if pool == 'max': h = h.amax((2, 3))
    elif pool == 'lse': h = torch.logsumexp(h.flatten(2) * 5, 2) / 5
    else: h = h.mean((2, 3))
    return fc(h)
for ep in range(epochs):
    t = time.time(); perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 16):
        idx = perm[i:i+16]; x = Xtr[idx]
        loss = F.cross_entropy(fwd(x), Ytr[idx]); opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad(): p = torch.cat([fwd(Xte[i:i+32]).softmax(1)[:, 1] for i in range(0, len(Xte), 32)]).numpy()
    print(f'ep{ep} loss {loss.item():.3f} auc {roc_auc_score(Yte, p):.3f} {time.time()-t:.1f}s', flush=True)
