#!/usr/bin/env python3
"""A git fast-import stream of a history made from a tree of files (deterministic).

  gen-history.py SRC EDITS PER [CHUNK]

The regular files of SRC (at most 1 MiB each, links left out) are added CHUNK at a time
(default 20), one commit each, in path order; then EDITS commits each append a line to PER
of them, chosen with a fixed seed: many commits, and many versions of the same files.
Pipe it into `git fast-import` in an empty repository; the branch is main.
"""
import os
import random
import sys


def main():
    src, edits, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    chunk = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    files = []
    for d, dirs, names in os.walk(src):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) > (1 << 20):
                continue
            files.append(os.path.relpath(p, src))
    out = sys.stdout.buffer
    state = {"time": 1700000000, "mark": 0}

    def commit(msg, ops):
        state["time"] += 60
        state["mark"] += 1
        mark = state["mark"]
        out.write(b"commit refs/heads/main\nmark :%d\n" % mark)
        out.write(b"committer Bench <bench@example.invalid> %d +0000\n" % state["time"])
        m = msg.encode()
        out.write(b"data %d\n%s\n" % (len(m), m))
        if mark > 1:
            out.write(b"from :%d\n" % (mark - 1))
        for path, data in ops:
            out.write(b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(data)))
            out.write(data + b"\n")

    content = {}
    for i in range(0, len(files), chunk):
        ops = []
        for f in files[i:i + chunk]:
            with open(os.path.join(src, f), "rb") as fh:
                content[f] = fh.read()
            ops.append((f, content[f]))
        commit("add %s" % files[i], ops)
    rnd = random.Random(1)
    for e in range(edits):
        ops = []
        for f in rnd.sample(files, per):
            content[f] += b"/* edit %d */\n" % e
            ops.append((f, content[f]))
        commit("edit %d" % e, ops)


if __name__ == "__main__":
    main()
