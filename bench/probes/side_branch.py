# Probe 6: the morphed shape plus a side branch: body (fused 56x56/16 stem + ResNet-like body, random init, global
# average) + a full-resolution detector branch conv KxK (1->C, stride S) + ReLU + conv1x1 + ReLU + global max +
# linear whose weights start at zero, added to the logits. Adam, body lr LR, branch lr BLR, batch 16, flips.
# Usage: SEED=s side_branch.py EPOCHS LR BLR C K S; prints the test AUC per epoch. BODY=0 drops the body.
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, time, sys, os
from sklearn.metrics import roc_auc_score
torch.set_num_threads(int(os.environ.get('T','2'))); torch.manual_seed(int(os.environ.get('SEED','0')))
d = np.load(os.environ.get('DATA', '/tmp/mhr-probe/data.npz'))
Xtr = torch.tensor((d['Xtr'] - 0.115) / 0.105)[:, None]; Ytr = torch.tensor(d['Ytr'])
Xte = torch.tensor((d['Xte'] - 0.115) / 0.105)[:, None]; Yte = d['Yte']
epochs = int(sys.argv[1]); lr = float(sys.argv[2]); blr = float(sys.argv[3]); C = int(sys.argv[4]); K = int(sys.argv[5]); S = int(sys.argv[6])
body_on = os.environ.get('BODY', '1') == '1'
def blk(i, o, s): return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
body = nn.Sequential(nn.Conv2d(1, 16, 56, 16, 20, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
    blk(16, 16, 1), blk(16, 16, 1), blk(16, 32, 2), blk(32, 32, 1), blk(32, 64, 2), blk(64, 64, 1), blk(64, 128, 2), blk(128, 128, 1))
fc = nn.Linear(128, 2)
br = nn.Sequential(nn.Conv2d(1, C, K, S, (K - S) // 2), nn.ReLU(), nn.Conv2d(C, C, 1), nn.ReLU())
fcb = nn.Linear(C, 2); nn.init.zeros_(fcb.weight); nn.init.zeros_(fcb.bias)
groups = [{'params': list(br.parameters()) + list(fcb.parameters()), 'lr': blr}]
if body_on: groups.append({'params': list(body.parameters()) + list(fc.parameters()), 'lr': lr})
opt = torch.optim.Adam(groups, weight_decay=1e-4)
def fwd(x):
    out = fcb(br(x).amax((2, 3)))
    if body_on: out = out + fc(body(x).mean((2, 3)))
    return out
for ep in range(epochs):
    t = time.time(); perm = torch.randperm(len(Xtr)); body.train()
    for i in range(0, len(Xtr), 16):
        idx = perm[i:i+16]; x = Xtr[idx]
        if torch.rand(1) < .5: x = x.flip(3)
        if torch.rand(1) < .5: x = x.flip(2)
        loss = F.cross_entropy(fwd(x), Ytr[idx]); opt.zero_grad(); loss.backward(); opt.step()
    body.eval()
    with torch.no_grad(): p = torch.cat([fwd(Xte[i:i+32]).softmax(1)[:, 1] for i in range(0, len(Xte), 32)]).numpy()
    print(f'ep{ep} loss {loss.item():.3f} auc {roc_auc_score(Yte, p):.3f} {time.time()-t:.1f}s', flush=True)
