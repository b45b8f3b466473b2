#!/usr/bin/env python3
# tests/e2e/docs_test.py MHR_BINARY REPO_ROOT WORKDIR — the docs run as written (issue 19, point 6).
#
# In: README.md and docs/*.md of REPO_ROOT, the real binary. Out: exit 0, or a report of every block whose
# printed output differs from what the binary prints today (a unified diff per block) or whose command failed.
#
# Each Markdown file is a session of its own in an empty folder WORKDIR/<file>, in which `build/mhr` and `mhr`
# (on PATH) are the binary under test, so commands run exactly as the reader types them. In document order:
#   - a fenced block whose lines start with `$ ` shows commands and their output: each `$ ` line runs in bash
#     under a pseudo-terminal (so stdout and stderr interleave as a reader sees them) and what it prints must
#     equal the lines that follow it, after `normalise`;
#   - in a file marked `<!-- doc-test: commands -->`, a plain or bash block made only of `mhr`/`build/mhr`
#     command lines (with `\` continuations) runs line by line and each must exit 0: the tutorial runs as
#     written. RUN1, RUN2, ... in such a command stand for the ids of the runs this session's `mhr run`s
#     started, in order, and RUN for the latest one;
#   - markers, HTML comments the rendered page does not show, on the lines before a block:
#       <!-- doc-test: file NAME -->         the next block is saved as NAME (what "save this as" asks of a reader)
#       <!-- doc-test: setup COMMAND -->     COMMAND runs first and must exit 0 (data the page assumes, an edit
#                                            the prose asks for)
#       <!-- doc-test: no-compare REASON --> the next `$` block runs but its output is not compared
#       <!-- doc-test: skip REASON -->       the next block does not run
# Normalising: a line of expected output may use `...` for any text; a line that is only `...` stands for any
# number of lines. Run ids and other hex ids, times and durations, the session folder and trailing blanks
# are replaced by placeholders on both sides; nothing else is forgiven.
import difflib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time

mhr, repo, work = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2]), sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
work = os.path.realpath(work)
bindir = os.path.join(work, "bin")
os.makedirs(bindir)
os.symlink(mhr, os.path.join(bindir, "mhr"))

MARKER = re.compile(r"^<!--\s*doc-test:\s*(\w[\w-]*)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")
failures = []


def fail(where, what):
    failures.append(f"{where}: {what}")


def env():
    e = dict(os.environ)
    e["PATH"] = bindir + os.pathsep + e.get("PATH", "")
    e.pop("MHR_DB", None)
    e["COLUMNS"] = "200"
    return e


def run_tty(cmd, cwd, timeout=600):
    """Runs cmd in bash with stdout and stderr on one pseudo-terminal; returns (exit code, text)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env(), stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=slave, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.time() + timeout
    while True:
        r, _, _ = select.select([master], [], [], 1.0)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other side closed: the process is done
                data = b""
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
        if time.time() > deadline:
            p.kill()
            chunks.append(b"\n[doc-test: killed after timeout]\n")
            break
    os.close(master)
    rc = p.wait()
    return rc, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def normalise(text, session):
    out = []
    for line in text.split("\n"):
        line = line.replace(session + "/", "").replace(session, ".")
        line = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?Z?", "<time>", line)
        line = re.sub(r"\b\d+(\.\d+)?\s?(ms|s|min)\b", "<duration>", line)
        line = re.sub(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,64}\b", "<id>", line)
        out.append(line.rstrip())
    while out and out[-1] == "":
        out.pop()
    return out


def matches(expected, actual):
    """expected lines (with `...` wildcards) against actual lines."""
    def line_re(e):
        return re.compile("^" + ".*".join(re.escape(part) for part in e.split("...")) + "$")

    def go(i, j):
        if i == len(expected):
            return j == len(actual)
        if expected[i] == "...":
            return any(go(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_re(expected[i]).match(actual[j]) is not None and go(i + 1, j + 1)

    return go(0, 0)


def blocks(path):
    """(line number, info string, lines, markers) of each fenced block, and whether the page is marked `commands`."""
    lines = open(path, encoding="utf-8").read().split("\n")
    pending, commands, i = [], False, 0
    result = []
    while i < len(lines):
        m = MARKER.match(lines[i].strip())
        if m:
            if m.group(1) == "commands":
                commands = True
            else:
                pending.append((m.group(1), m.group(2), i + 1))
            i += 1
            continue
        f = FENCE.match(lines[i])
        if f:
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            result.append((start, f.group(1), body, pending))
            pending = []
        i += 1
    return result, commands


def command_lines(body):
    """A block of only mhr command lines (joined across `\\` continuations), or None."""
    cmds, cur = [], ""
    for line in body:
        if not line.strip() and not cur:
            continue
        cur += line.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        if not re.match(r"^(build/)?mhr\s", cur.strip()):
            return None
        cmds.append(cur.strip())
        cur = ""
    return cmds or None


def session(md):
    name = os.path.relpath(md, repo)
    folder = os.path.join(work, name.replace("/", "_").replace(".md", ""))
    os.makedirs(os.path.join(folder, "build"))
    os.symlink(mhr, os.path.join(folder, "build", "mhr"))
    found, run_all = blocks(md)
    runs, ran = [], 0

    def substitute(cmd):
        def one(m):
            k = m.group(1)
            if not runs:
                return m.group(0)
            return runs[-1] if k == "" else (runs[int(k) - 1] if int(k) <= len(runs) else m.group(0))
        return re.sub(r"\bRUN(\d*)\b", one, cmd)

    for start, info, body, markers in found:
        where = f"{name}:{start}"
        kinds = {k for k, _, _ in markers}
        if "skip" in kinds:
            continue
        for kind, arg, line in markers:
            if kind == "setup":
                rc, out = run_tty(arg, folder)
                if rc != 0:
                    fail(f"{name}:{line}", f"setup `{arg}` exited {rc}\n{out}")
            elif kind == "file":
                with open(os.path.join(folder, arg), "w") as f:
                    f.write("\n".join(body) + "\n")
            elif kind not in ("no-compare",):
                fail(f"{name}:{line}", f"unknown doc-test marker '{kind}'")
        if body and body[0].startswith("$ "):
            # A transcript: `$ command`, then what it prints, up to the next `$ `.
            steps, cur = [], None
            for line in body:
                if line.startswith("$ "):
                    cur = [line[2:], []]
                    steps.append(cur)
                else:
                    cur[1].append(line)
            for cmd, expected in steps:
                rc, out = run_tty(substitute(cmd), folder)
                ran += 1
                got = normalise(out, folder)
                want = normalise("\n".join(expected), folder)
                if "no-compare" not in kinds and not matches(want, got):
                    diff = "\n".join(difflib.unified_diff(want, got, "documented", "printed today", lineterm=""))
                    fail(where, f"`$ {cmd}` prints something else than the page shows (exit {rc}):\n{diff}")
        elif run_all and info in ("", "bash", "sh", "console"):
            cmds = command_lines(body)
            for cmd in cmds or []:
                rc, out = run_tty(substitute(cmd), folder)
                ran += 1
                if rc != 0:
                    fail(where, f"`{cmd}` exited {rc}:\n{out}")
                m = re.search(r"^run ([0-9a-f]{8,}) in ", out, re.M)
                if m and re.match(r"^(build/)?mhr\s+run\s", cmd):
                    runs.append(m.group(1))
    return ran


total = 0
for md in [os.path.join(repo, "README.md")] + sorted(
        os.path.join(repo, "docs", f) for f in os.listdir(os.path.join(repo, "docs")) if f.endswith(".md")):
    total += session(md)

# The test must not pass by finding nothing: the pages that carry transcripts today.
if total < 8:
    fail("docs", f"only {total} documented commands ran; the parser of this test lost track of the pages")
if failures:
    print(f"{len(failures)} documented block(s) differ from the tool:\n")
    print("\n\n".join(failures))
    sys.exit(1)
print(f"docs: {total} documented commands ran as written")
