#!/usr/bin/env python3
"""Generate pipelines for the benchmarks (deterministic for a given seed).

  gen-pipeline.py noop N            N independent stages running `true`
  gen-pipeline.py dag N SEED        N stages, each needing up to 3 random earlier stages
  gen-pipeline.py sleepdag N SEED   like dag, each stage sleeping 50-300 ms; prints the
                                    critical path (seconds) on stderr
"""
import random
import sys


def noop(n):
    out = ["version: 1", "name: noop", "stages:"]
    for i in range(n):
        out.append(f"  s{i}: {{ run: \"true\" }}")
    return "\n".join(out) + "\n"


def dag(n, seed, sleep=False):
    rnd = random.Random(seed)
    out = ["version: 1", f"name: dag{n}", "stages:"]
    durations, finish = [], []
    for i in range(n):
        k = rnd.randint(0, min(3, i))
        needs = sorted(rnd.sample(range(i), k)) if k else []
        line = f"  s{i}:"
        if needs:
            line += "\n    needs: [" + ", ".join(f"s{j}" for j in needs) + "]"
        if sleep:
            d = rnd.randint(50, 300) / 1000.0
            durations.append(d)
            start = max((finish[j] for j in needs), default=0.0)
            finish.append(start + d)
            line += f"\n    run: sleep {d:.3f}"
        else:
            line += "\n    run: make -C src target" + str(i)
            line += "\n    timeout: 10m"
        out.append(line)
    if sleep:
        print(f"{max(finish):.3f}", file=sys.stderr)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    kind = sys.argv[1]
    n = int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if kind == "noop":
        sys.stdout.write(noop(n))
    elif kind == "dag":
        sys.stdout.write(dag(n, seed))
    elif kind == "sleepdag":
        sys.stdout.write(dag(n, seed, sleep=True))
    else:
        sys.exit("unknown kind " + kind)
