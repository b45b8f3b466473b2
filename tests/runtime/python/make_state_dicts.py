# Writes reference state dicts with PyTorch's own torch.save (Debian's python3-torch), for the runtime's weight
# import tests: a small model's state_dict(), a zoo of dtypes and storage layouts, nested and non-plain files,
# a TorchScript archive and a legacy-format file. Usage: make_state_dicts.py OUT_DIR
import collections
import os
import sys

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.mean(dim=(2, 3)))


m = Small()
m(torch.randn(2, 3, 8, 8))  # train-mode step: running statistics and num_batches_tracked become non-trivial
sd = m.state_dict()
torch.save(sd, os.path.join(out, "small.pt"))

base = torch.randn(4, 6)
shared = torch.arange(12, dtype=torch.float32)
zoo = collections.OrderedDict()
zoo["f32"] = torch.randn(2, 3)
zoo["f64"] = torch.randn(3).double()
zoo["f16"] = torch.randn(5).half()
zoo["bf16"] = torch.randn(5).bfloat16()
zoo["i64"] = torch.tensor([-(2**40), 7, 0])
zoo["i32"] = torch.tensor([-5, 6], dtype=torch.int32)
zoo["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
zoo["i8"] = torch.tensor([-7, 8], dtype=torch.int8)
zoo["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
zoo["bool"] = torch.tensor([True, False, True])
zoo["scalar"] = torch.tensor(3.5)
zoo["empty"] = torch.zeros(0, 3)
zoo["transposed"] = base.t()  # non-contiguous: strides (1, 6)
zoo["view_a"] = shared[2:6]  # two views of one storage, with offsets
zoo["view_b"] = shared.view(3, 4)[1:, ::2]
torch.save(zoo, os.path.join(out, "zoo.pt"))

torch.save({"model": sd}, os.path.join(out, "nested.pt"))
torch.save({"epoch": 3, "model": sd}, os.path.join(out, "with_int.pt"))
torch.save(sd, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
torch.jit.script(m).save(os.path.join(out, "script.pt"))

# Expected values for the C++ side: contiguous bytes per tensor (bfloat16 through its int16 bits).
for name, group in (("small", sd), ("zoo", zoo)):
    d = os.path.join(out, "expect_" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "manifest.txt"), "w") as f:
        for k, t in group.items():
            t = t.contiguous()
            raw = t.view(torch.int16) if t.dtype == torch.bfloat16 else t
            raw.numpy().tofile(os.path.join(d, k + ".bin"))
            f.write("%s %s %s\n" % (k, str(t.dtype).replace("torch.", ""), ",".join(str(s) for s in t.shape)))
print("ok")
