# Probe 5/5: the shape of the morphed network: a full-resolution front conv KxK (1->C) + PReLU, an 8x8 box
# downsampler, then a ResNet-like body on the 64x52 grid, global avg or max head.
# Usage: front_body.py EPOCHS LR C K rand|id avg|max; prints the test AUC per epoch.
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, time, sys, os
from sklearn.metrics import roc_auc_score
torch.set_num_threads(2); torch.manual_seed(0)
d = np.load(os.environ.get('DATA', '/tmp/mhr-probe/data_crop.npz'))
Xtr = torch.tensor((d['Xtr'] - 0.115) / 0.105)[:, None]; Ytr = torch.tensor(d['Ytr'])
Xte = torch.tensor((d['Xte'] - 0.115) / 0.105)[:, None]; Yte = d['Yte']
epochs = int(sys.argv[1]); lr = float(sys.argv[2]); C = int(sys.argv[3]); K = int(sys.argv[4]); init = sys.argv[5]; head = sys.argv[6]
def blk(i, o, s): return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
front = nn.Conv2d(1, C, K, 1, K // 2); act = nn.PReLU(C, init=1.0 if init == 'id' else 0.0)
if init == 'id':
    with torch.no_grad(): front.weight.zero_(); front.weight[:, 0, K//2, K//2] = 1; front.bias.zero_()
body = nn.Sequential(nn.Conv2d(C, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
    blk(16, 16, 1), blk(16, 16, 1), blk(16, 32, 2), blk(32, 32, 1), blk(32, 64, 2), blk(64, 64, 1), blk(64, 128, 2), blk(128, 128, 1))
fc = nn.Linear(128, 2)
ps = list(front.parameters()) + list(act.parameters()) + list(body.parameters()) + list(fc.parameters())
opt = torch.optim.Adam(ps, lr, weight_decay=1e-4)
def fwd(x):
    h = body(F.avg_pool2d(act(front(x)), 8))
    return fc(h.amax((2, 3)) if head == 'max' else h.mean((2, 3)))
for ep in range(epochs):
    t = time.time(); perm = torch.randperm(len(Xtr)); body.train()
    for i in range(0, len(Xtr), 16):
        idx = perm[i:i+16]; x = Xtr[idx]
        if torch.rand(1) < .5: x = x.flip(3)
        loss = F.cross_entropy(fwd(x), Ytr[idx]); opt.zero_grad(); loss.backward(); opt.step()
    body.eval()
    with torch.no_grad(): p = torch.cat([fwd(Xte[i:i+32]).softmax(1)[:, 1] for i in range(0, len(Xte), 32)]).numpy()
    print(f'ep{ep} loss {loss.item():.3f} auc {roc_auc_score(Yte, p):.3f} a={act.weight.mean().item():.2f} {time.time()-t:.1f}s', flush=True)
