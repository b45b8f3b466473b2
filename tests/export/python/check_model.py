# Runs generated model.py files for tests/export/export_test.cpp and writes what they compute; the C++ test
# compares. Subcommands (every CASE folder holds a model.py):
#   logits builtin|package CASE...   load(CASE) with the built-in safetensors reader or the package, the
#                                    logits of CASE/input.safetensors -> CASE/out.bin (float32) and, with
#                                    model and input in float64, CASE/out64.bin; probabilities() and
#                                    predicted() -> CASE/scores.bin, decisions.bin; the state_dict keys ->
#                                    CASE/keys.txt, torch's version -> CASE/torch.txt. Exit 3: `package`
#                                    without safetensors.
#   preprocess CASE...               preprocess() of CASE/codes.bin with CASE/case.json's dtype, shape and
#                                    keyword arguments -> CASE/out.bin, or the ValueError -> CASE/error.txt
#   reader FILE OUT                  read_safetensors(FILE, builtin_reader=True) -> OUT (JSON: dtype, shape,
#                                    values as float64 per tensor); the model.py is FILE's folder's
#   files CASE...                    CASE/case.json names a DICOM (pydicom + dicom_kwargs) or PNG (cv2) ->
#                                    CASE/out.bin. Exit 3 when pydicom or cv2 is missing.
import importlib.util
import json
import os
import sys

import numpy as np
import torch


def module(case):
    spec = importlib.util.spec_from_file_location("model_" + str(abs(hash(case))), os.path.join(case, "model.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def write(path, tensor, dtype="<f4"):
    tensor.detach().contiguous().numpy().astype(dtype).tofile(path)


def logits(mode, cases):
    calls = []
    if mode == "package":
        try:
            import safetensors.torch
        except ImportError:
            print("no safetensors package")
            return 3
        # Counted, so that the test knows the package (not the built-in reader) loaded the weights.
        package_load = safetensors.torch.load_file
        safetensors.torch.load_file = lambda *args, **kwargs: calls.append(args) or package_load(*args, **kwargs)
    else:
        # The built-in reader must work where the package is missing: make it missing.
        sys.modules["safetensors"] = None
        sys.modules["safetensors.torch"] = None
    for case in cases:
        m = module(case)
        model = m.load(case, builtin_reader=mode == "builtin")
        if mode == "package" and not calls:
            print(f"{case}: load() did not use the safetensors package")
            return 1
        if model.training or any(sub.training for sub in model.modules()):
            print(f"{case}: load() did not put every module in eval mode")
            return 1
        x = m.read_safetensors(os.path.join(case, "input.safetensors"), builtin_reader=True)["input"]
        with open(os.path.join(case, "keys.txt"), "w") as f:
            f.write("".join(k + "\n" for k in model.state_dict().keys()))
        with torch.no_grad():
            write(os.path.join(case, "out.bin"), model(x))
            p = m.probabilities(model, x)
            write(os.path.join(case, "scores.bin"), p)
            write(os.path.join(case, "decisions.bin"), m.predicted(p).float())
            write(os.path.join(case, "out64.bin"), model.double()(x.double()), "<f8")
        with open(os.path.join(case, "torch.txt"), "w") as f:
            f.write(torch.__version__)
    return 0


def preprocess(cases):
    for case in cases:
        m = module(case)
        with open(os.path.join(case, "case.json")) as f:
            c = json.load(f)
        codes = np.fromfile(os.path.join(case, "codes.bin"), dtype=np.dtype(c["dtype"]).newbyteorder("<"))
        codes = codes.astype(c["dtype"]).reshape(c["shape"])
        kwargs = c["kwargs"]
        if "voi_window" in kwargs:
            kwargs["voi_window"] = tuple(kwargs["voi_window"])
        if "voi_lut" in kwargs:
            first, bits, table = kwargs["voi_lut"]
            kwargs["voi_lut"] = (first, bits, np.array(table, np.uint16))
        try:
            x = m.preprocess(codes, **kwargs)
        except ValueError as e:
            with open(os.path.join(case, "error.txt"), "w") as f:
                f.write(str(e))
            continue
        if x.dtype != torch.float32 or list(x.shape) != [1, m.IN_CHANNELS, *m.RESOLUTION]:
            print(f"{case}: preprocess() gave {x.dtype} {list(x.shape)}")
            return 1
        write(os.path.join(case, "out.bin"), x)
    return 0


def reader(path, out):
    m = module(os.path.dirname(path))
    tensors = m.read_safetensors(path, builtin_reader=True)
    result = {}
    for name, t in tensors.items():
        result[name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                        "values": t.to(torch.float64).flatten().tolist()}
    with open(out, "w") as f:
        json.dump(result, f)
    return 0


def files(cases):
    try:
        import cv2
        import pydicom
    except ImportError as e:
        print(f"missing: {e}")
        return 3
    for case in cases:
        m = module(case)
        with open(os.path.join(case, "case.json")) as f:
            c = json.load(f)
        if c["kind"] == "dicom":
            ds = pydicom.dcmread(c["path"])
            x = m.preprocess(ds.pixel_array, **m.dicom_kwargs(ds))
        else:
            x = m.preprocess(cv2.imread(c["path"], cv2.IMREAD_UNCHANGED))
        write(os.path.join(case, "out.bin"), x)
    return 0


def main(argv):
    torch.set_num_threads(1)
    command = argv[1]
    if command == "logits":
        return logits(argv[2], argv[3:])
    if command == "preprocess":
        return preprocess(argv[2:])
    if command == "reader":
        return reader(argv[2], argv[3])
    if command == "files":
        return files(argv[2:])
    print(f"unknown command {command}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
