#!/usr/bin/env python3
"""The layering of docs/architecture.md, enforced: every `#include "..."` of the project's own headers in a
layer's folder must name a layer that folder may use. Usage: layering_test.py SOURCE_DIR. Exit 0 when every
include is allowed, 1 with one line per offending include (file:line: what it includes, and what is allowed).

Why a test: runtime/ and data/ read only the Plan (compiler/plan) and the IR it carries (compiler/ir); once
they include compiler internals, spec rules start to be re-checked (and to disagree) below the compiler.
"""
import pathlib
import re
import sys

# Allowed targets per folder, as path prefixes of the included file. A folder may always include itself.
ALLOWED = {
    "support": [],
    "grammar": [],
    "compiler": ["support/", "grammar/"],  # grammar/: compiler/parse only (checked below)
    "stdlib": ["support/", "compiler/ir/"],
    "data": ["support/", "compiler/plan/", "compiler/ir/"],
    # compiler/cost/ is the one exception, for execute.cpp only: activation checkpointing is planned against
    # the memory of the device the run actually got, known only at run time, with the same cost model the
    # compiler used to refuse stages that cannot fit (so the two never disagree about a stage's memory).
    "runtime": ["support/", "compiler/plan/", "compiler/ir/", "data/", "compiler/cost/"],
    # tracker implements the runtime's MetricsSink interface, a header with no Torch types.
    "tracker": ["support/", "runtime/metrics_sink.h"],
    "export": ["support/", "compiler/ir/", "compiler/plan/", "data/", "runtime/"],
}
# Narrower rules inside a folder: (file prefix, target prefix) pairs that are the only ones allowed.
ONLY_FROM = {
    "grammar/": ["compiler/parse/"],
    "compiler/cost/": ["compiler/", "runtime/execute.cpp"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel: str) -> str:
    return rel.split("/", 1)[0]


def check(root: pathlib.Path) -> tuple:
    problems = []
    checked = 0
    for folder, allowed in ALLOWED.items():
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".h", ".cpp", ".hpp") or "generated" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                if not (root / target).exists() or layer_of(target) not in ALLOWED.keys() | {"cli"}:
                    continue  # a generated header (cli/version.h) or a third-party one
                checked += 1
                if layer_of(target) == folder and not target.startswith(tuple(ONLY_FROM)):
                    continue
                ok = layer_of(target) == folder or any(target.startswith(p) for p in allowed)
                for prefix, users in ONLY_FROM.items():
                    if target.startswith(prefix) and not rel.startswith(tuple(users)):
                        ok = False
                if not ok:
                    problems.append(f"{rel}:{number}: includes {target}; {folder}/ may include "
                                    f"{', '.join(allowed) or 'nothing outside itself'}")
    return problems, checked


def self_test() -> None:
    """The check must catch what it exists for: a tree where data/ includes compiler internals and the
    tracker includes the runtime beyond its interface."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        files = {
            "compiler/sema/schema.h": "",
            "compiler/plan/plan.h": "",
            "compiler/cost/cost_model.h": "",
            "runtime/metrics_sink.h": "",
            "runtime/network.h": "",
            "data/dataset.cpp": '#include "compiler/plan/plan.h"\n#include "compiler/sema/schema.h"\n',
            "runtime/trainer.cpp": '#include "compiler/cost/cost_model.h"\n',
            "tracker/report.cpp": '#include "runtime/metrics_sink.h"\n#include "runtime/network.h"\n',
        }
        for name, text in files.items():
            (t / name).parent.mkdir(parents=True, exist_ok=True)
            (t / name).write_text(text)
        problems, _ = check(t)
        found = sorted(p.split(": includes ")[0] for p in problems)
        expected = ["data/dataset.cpp:2", "runtime/trainer.cpp:1", "tracker/report.cpp:2"]
        if found != expected:
            sys.exit(f"layering self-test: expected {expected}, found {found}")


def main() -> int:
    self_test()
    problems, checked = check(pathlib.Path(sys.argv[1]).resolve())
    for p in problems:
        print(p)
    print(f"layering: {checked} includes checked, {len(problems)} not allowed")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
