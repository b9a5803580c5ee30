#!/usr/bin/env python3
"""Runs every example in README.md and docs/*.md (meson suite 'docs').

Usage: run_doc_blocks.py SOURCE_ROOT BUILD_DIR [FILE...]

Each fenced code block is judged by its info string:
  sh              run with bash (set -e) from SOURCE_ROOT; build/tools/closewire becomes
                  BUILD_DIR/tools/closewire; a non-zero exit fails
  sh norun ...    not run (the rest of the info string says why); listed in the summary
  yaml scenario   a complete scenario file: `closewire list FILE` must exit 0
  yaml fragment   part of a scenario or a syntax summary: not run, counted
  yaml expect     an expectation file: `closewire replay CAPTURE --expect FILE --quiet` must
                  exit 0 or 1 (1: it does not hold on that capture), not 2 (a bad file)
  text            output shown, not run
Anything else, or no info string, fails: an example nobody tests is a mistake.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

# The capture that `yaml expect` blocks are checked against (any capture would do).
EXPECT_CAPTURE = "captures/chromium-156/s4321__D_reset_0__chromium.pcap"
SH_TIMEOUT = 120  # seconds per shell block
FENCE = re.compile(r"^(\s*)(`{3,})(.*)$")


class Block:
    def __init__(self, path, line, info, text):
        self.path, self.line, self.info, self.text = path, line, info, text

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def blocks_of(root, rel):
    """Fenced blocks of one markdown file, with the line of the opening fence (1-based)."""
    lines = open(os.path.join(root, rel), encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, info = len(m.group(1)), m.group(2), m.group(3).strip()
        start, body = i + 1, []
        i += 1
        while i < len(lines):
            close = FENCE.match(lines[i])
            if close and len(close.group(2)) >= len(ticks) and not close.group(3).strip():
                break
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        else:
            raise SystemExit(f"{rel}:{start}: code block never closed")
        out.append(Block(rel, start, info, "\n".join(body) + "\n"))
        i += 1
    return out


def kind_of(info):
    if re.match(r"sh\s+norun\b", info):
        return "sh norun"
    if info in ("sh", "yaml scenario", "yaml fragment", "yaml expect", "text"):
        return info
    return None


def busy_ports(text):
    """Fixed ports a shell block listens on that something else holds already."""
    busy = []
    for port in sorted({int(p) for p in re.findall(r"--listen\s+[\w.:\[\]]*:(\d+)", text)}):
        if port == 0:
            continue
        with socket.socket() as s:
            # Like the listeners: connections of an earlier run in TIME_WAIT do not make it busy.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    return busy


def show(output, limit=60):
    lines = output.rstrip("\n").split("\n")
    if len(lines) > limit:
        lines = lines[:limit // 2] + [f"... ({len(lines) - limit} lines left out) ..."] + \
            lines[-limit // 2:]
    return "\n".join("    | " + l for l in lines)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, build = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    closewire = os.path.join(build, "tools", "closewire")
    if not os.access(closewire, os.X_OK):
        print(f"no closewire binary at {closewire}", file=sys.stderr)
        return 2
    if len(argv) > 3:
        files = argv[3:]
    else:
        files = ["README.md"] + sorted(
            os.path.join("docs", f) for f in os.listdir(os.path.join(root, "docs"))
            if f.endswith(".md"))

    if os.geteuid() != 0:
        # The live examples capture on lo (closewire exits 3 without the rights).
        print("skipped: the examples capture on lo; run as root")
        return 77
    blocks = [b for f in files for b in blocks_of(root, f)]
    failures, counts, norun = [], {}, []
    tmp = tempfile.mkdtemp(prefix="closewire-docs-")

    def fail(block, why, output=""):
        failures.append(block.where)
        print(f"FAIL  {block.where}  ({block.info or 'no info string'}): {why}")
        if output.strip():
            print(show(output))

    for n, b in enumerate(blocks):
        kind = kind_of(b.info)
        if kind is None:
            fail(b, f"unknown info string '{b.info}': use sh, sh norun REASON, yaml scenario, "
                 "yaml fragment, yaml expect or text" if b.info else
                 "a code block needs an info string (sh, sh norun REASON, yaml scenario, "
                 "yaml fragment, yaml expect or text)")
            continue
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "sh norun":
            norun.append(b)
            continue
        if kind in ("text", "yaml fragment"):
            continue
        t0 = time.monotonic()
        if kind == "sh":
            ports = busy_ports(b.text)
            if ports:
                fail(b, f"port(s) {', '.join(map(str, ports))} busy: cannot run this example")
                continue
            script = os.path.join(tmp, f"block{n}.sh")
            with open(script, "w") as f:
                f.write("set -e\n" + b.text.replace("build/tools/closewire", closewire))
            cmd, ok = ["bash", script], (0,)
        else:
            name = os.path.join(tmp, f"block{n}.yaml")
            with open(name, "w") as f:
                f.write(b.text)
            if kind == "yaml scenario":
                cmd, ok = [closewire, "list", name], (0,)
            else:
                cmd, ok = [closewire, "replay", EXPECT_CAPTURE, "--expect", name, "--quiet"], (0, 1)
        proc = subprocess.Popen(cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=SH_TIMEOUT)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        # Whatever the block left running in its own process group ends with it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if timed_out:
            out, _ = proc.communicate()
            fail(b, f"still running after {SH_TIMEOUT} s", out)
            continue
        secs = time.monotonic() - t0
        if proc.returncode not in ok:
            fail(b, f"exit status {proc.returncode}", out)
        else:
            print(f"ok    {b.where}  ({kind}, exit {proc.returncode}, {secs:.1f} s)")

    print()
    print("blocks: " + ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) +
          f"; {len(failures)} failed")
    if norun:
        print(f"not run ({len(norun)}):")
        for b in norun:
            reason = re.sub(r"^sh\s+norun\W*", "", b.info) or "(no reason given)"
            print(f"  {b.where}  {reason}")
    if failures:
        print("failed: " + " ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
