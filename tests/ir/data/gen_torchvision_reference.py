#!/usr/bin/python3
# Regenerates the torchvision reference lists the stdlib tests compare against (tests/ir/stdlib_test.cpp).
# Run once with Debian's python3-torchvision (0.14): /usr/bin/python3 tests/ir/data/gen_torchvision_reference.py
# Output, one file per network: "<param|buffer> <state_dict key> <comma-separated shape>" in state_dict order,
# param_counts.txt: "<network> <number of parameters>" (sum of numel over model.parameters()), and
# macs_224.txt: "<network> <multiply-accumulates>" of conv and linear layers for one 3x224x224 image, counted
# with forward hooks (the quantity torchvision's docs call GFLOPS).
import os
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
KEYED = ["resnet18", "resnet50", "densenet121", "efficientnet_b0", "vgg11_bn"]
COUNTED = ["resnet18", "resnet34", "resnet50", "resnet101", "densenet121", "efficientnet_b0", "vgg11_bn", "vgg16_bn"]


def build(name):
    return getattr(torchvision.models, name)(weights=None)


def main():
    torch.manual_seed(0)
    for name in KEYED:
        model = build(name)
        params = {k for k, _ in model.named_parameters()}
        with open(os.path.join(HERE, f"{name}.keys"), "w") as f:
            f.write(f"# torchvision {torchvision.__version__} {name}(weights=None).state_dict()\n")
            for key, tensor in model.state_dict().items():
                kind = "param" if key in params else "buffer"
                f.write(f"{kind} {key} {','.join(str(d) for d in tensor.shape)}\n")
    with open(os.path.join(HERE, "param_counts.txt"), "w") as f:
        f.write(f"# torchvision {torchvision.__version__}: sum(p.numel() for p in model.parameters())\n")
        for name in COUNTED:
            model = build(name)
            f.write(f"{name} {sum(p.numel() for p in model.parameters())}\n")
    write_macs()


def macs(model, h=224, w=224):
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            total[0] += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, torch.nn.Linear):
            total[0] += mod.in_features * mod.out_features * out.shape[0]

    for m in model.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, h, w))
    return total[0]


def write_macs():
    with open(os.path.join(HERE, "macs_224.txt"), "w") as f:
        f.write(f"# torchvision {torchvision.__version__}: conv + linear multiply-accumulates, 1x3x224x224\n")
        for name in COUNTED:
            f.write(f"{name} {macs(build(name))}\n")


if __name__ == "__main__":
    main()
