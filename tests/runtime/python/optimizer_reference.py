# Reference trajectories from torch.optim (Debian's python3-torch 1.13) for the runtime's optimizers and
# schedules: a fixed parameter, a fixed sequence of gradients, the parameter after every step; and the learning
# rates of OneCycleLR over a run. Written as a torch.save state dict the C++ test reads.
# Usage: optimizer_reference.py OUT_DIR (writes OUT_DIR/ref.pt)
import collections
import sys

import torch

torch.manual_seed(0)
out = collections.OrderedDict()
p0 = torch.randn(3, 4)
grads = [torch.randn(3, 4) for _ in range(6)]
out["p0"] = p0
for i, g in enumerate(grads):
    out["grad.%d" % i] = g

configs = {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
    "sgd_momentum_wd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=1e-2),
    "sgd_nesterov": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
    "adam": lambda p: torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2),
    "adamw": lambda p: torch.optim.AdamW([p], lr=1e-2, betas=(0.85, 0.995), eps=1e-6, weight_decay=0.05),
}
for name, make in configs.items():
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    for i, g in enumerate(grads):
        opt.zero_grad()
        p.grad = g.clone()
        opt.step()
        out["%s.step%d" % (name, i)] = p.detach().clone()

# OneCycleLR: 20 steps, max_lr 0.4, pct_start 0.3 (cosine, div 25, final div 1e4).
p = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.1)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.4, total_steps=20, pct_start=0.3)
lrs = []
for _ in range(20):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
out["onecycle"] = torch.tensor(lrs, dtype=torch.float64)
# CosineAnnealingLR with T_max = 12 over 12 steps to eta_min 0.001 (our cosine without warm-up over a 12-step stage).
opt = torch.optim.SGD([p], lr=0.1)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.001)
lrs = []
for _ in range(12):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
out["cosine"] = torch.tensor(lrs, dtype=torch.float64)
torch.save(out, sys.argv[1] + "/ref.pt")
print("ok")
