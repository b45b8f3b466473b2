# bench/runtime/train_step.py — the anchor of train_step_bench.cpp: the same training step in PyTorch eager with
# torchvision's model (forward, cross-entropy, backward, torch.optim.SGD with momentum 0.9), random data,
# the same threads, warm-up and steps. Prints "key value" lines, the torch version and the peak resident memory.
#   train_step.py --arch resnet18 --res 256 [--batch 8] [--device cpu|cuda] [--precision fp32|bf16|fp16]
#                 [--channels-last] [--steps 10] [--warmup 3] [--threads N] [--classes 1000] [--compile]
#                 [--model-py FILE]
# --model-py: the network of a model.py that mhr generated from a spec's IR (mhr_bench_train_step --model-py,
# the same generator as `mhr export`): how a morphed network, which torchvision has no class for, runs in
# PyTorch; its input channels and classes are the module's.
# --compile: the model through torch.compile (PyTorch 2.x; inductor's default mode); the warm-up steps include
# the compilation, whose time is printed as compile_seconds and not counted in the step time.
import argparse
import contextlib
import resource
import time

import torch
import torchvision

ap = argparse.ArgumentParser()
ap.add_argument("--arch", default="resnet18")
ap.add_argument("--res", default="256")
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--device", default="cpu")
ap.add_argument("--precision", default="fp32")
ap.add_argument("--channels-last", action="store_true")
ap.add_argument("--steps", type=int, default=10)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--classes", type=int, default=1000)
ap.add_argument("--compile", action="store_true")
ap.add_argument("--model-py", default="")
a = ap.parse_args()
h, _, w = a.res.partition("x")
h = int(h)
w = int(w) if w else h
if a.threads > 0:
    torch.set_num_threads(a.threads)
dev = torch.device(a.device)
cuda = dev.type == "cuda"
torch.manual_seed(0)
channels = 3
if a.model_py:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_model", a.model_py)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    model = generated.Model().to(dev)
    channels, a.classes = generated.IN_CHANNELS, len(generated.CLASSES)
else:
    model = getattr(torchvision.models, a.arch)(weights=None, num_classes=a.classes).to(dev)
mf = torch.channels_last if (a.channels_last and cuda) else torch.contiguous_format
model = model.to(memory_format=mf)
if cuda:
    torch.backends.cudnn.benchmark = True
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
if a.compile:
    model = torch.compile(model)
x = torch.randn(a.batch, channels, h, w, device=dev).contiguous(memory_format=mf)
y = torch.randint(0, a.classes, (a.batch,), device=dev)
amp = cuda and a.precision != "fp32"
dtype = torch.float16 if a.precision == "fp16" else torch.bfloat16
scaler = torch.cuda.amp.GradScaler(enabled=cuda and a.precision == "fp16")


def autocast():
    return torch.autocast(device_type="cuda", dtype=dtype) if amp else contextlib.nullcontext()


def step():
    with autocast():
        loss = torch.nn.functional.cross_entropy(model(x).float(), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    opt.zero_grad()


c_start = time.perf_counter()
for _ in range(max(a.warmup, 1 if a.compile else 0)):
    step()
compile_seconds = time.perf_counter() - c_start
if cuda:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
t0 = time.perf_counter()
c0 = time.process_time()
for _ in range(a.steps):
    step()
if cuda:
    torch.cuda.synchronize()
s = time.perf_counter() - t0
cpu = time.process_time() - c0
print("arch", a.model_py or a.arch)
print("resolution %dx%d" % (h, w))
print("batch", a.batch)
print("threads", torch.get_num_threads())
print("ms_per_step %.3f" % (1000 * s / a.steps))
print("images_per_second %.3f" % (a.batch * a.steps / s))
print("cpu_seconds_per_step %.3f" % (cpu / a.steps))
print("peak_bytes", torch.cuda.max_memory_allocated() if cuda else -1)
print("torch", torch.__version__.split("+")[0])
print("torchvision", torchvision.__version__.split("+")[0])
print("peak_rss_bytes", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
if a.compile:
    print("compile_seconds %.1f" % compile_seconds)
