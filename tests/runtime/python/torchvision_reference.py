# Reference logits from torchvision (MHR_TEST_PYTHON's: Debian's 0.14, or 0.29 in the TORCH=pip venv) for the
# runtime's equivalence test.
# For each architecture: build it with a fixed seed, give batch norm non-trivial running statistics and affine
# parameters, save the state dict (torch.save), and save the input with the eval-mode logits; for TRAIN_ARCHS
# also the train-mode logits and the state dict after that step (running statistics updated). Where the
# `safetensors` package is installed, the same state dict is also written by it (ARCH.safetensors).
# Usage: torchvision_reference.py OUT_DIR ARCH...
import os
import sys

import torch
import torchvision

try:
    import safetensors.torch
except ImportError:
    safetensors = None

out = sys.argv[1]
archs = sys.argv[2:]
TRAIN_ARCHS = {"resnet18", "densenet121"}
torch.set_num_threads(1)

for arch in archs:
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    torch.save(model.state_dict(), os.path.join(out, arch + ".pt"))
    if safetensors is not None:
        sd = {k: v.contiguous() for k, v in model.state_dict().items()}
        safetensors.torch.save_file(sd, os.path.join(out, arch + ".safetensors"))
    x = torch.randn(2, 3, 64, 56)
    model.eval()
    with torch.no_grad():
        io = {"input": x, "eval_logits": model(x)}
    if arch in TRAIN_ARCHS:
        model.train()
        with torch.no_grad():
            io["train_logits"] = model(x)
        torch.save(model.state_dict(), os.path.join(out, arch + "_after_train.pt"))
    torch.save(io, os.path.join(out, arch + "_io.pt"))
print("ok")
