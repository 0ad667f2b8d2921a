#!/usr/bin/env python3
"""Build bench/data/requirements-2000.txt: a requirements.txt of real PyPI packages.

Names and current versions are the 2,000+ most downloaded PyPI packages (from the package
list of the development machine, /work/.library/env/packages/pypi.tsv); a package that has
advisories in the OSV data set is pinned to a version those advisories list as affected,
so the scan does real matching work. Run once; the output is committed.

usage: gen-requirements.py PYPI_TSV OSV_PYPI_DIR OUT
"""
import csv
import glob
import json
import re
import sys

tsv, osv_dir, out = sys.argv[1:4]


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


affected = {}
for path in sorted(glob.glob(osv_dir + "/*.json")):
    rec = json.load(open(path))
    for a in rec.get("affected", []):
        versions = a.get("versions") or []
        if versions:
            affected.setdefault(norm(a["package"]["name"]), versions[len(versions) // 2])

ranked = []
with open(tsv, newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        rank = row.get("rank_among_15000_most_downloaded") or ""
        if rank.isdigit() and row["version"]:
            ranked.append((int(rank), row["name"], row["version"]))
ranked.sort()

lines = ["# 2,000+ of the most downloaded PyPI packages (bench/gen-requirements.py)"]
seen = set()
for _, name, version in ranked:
    n = norm(name)
    if n in seen:
        continue
    seen.add(n)
    lines.append(f"{name}=={affected.get(n, version)}")
    if len(seen) >= 2100:
        break
open(out, "w").write("\n".join(lines) + "\n")
print(f"{len(seen)} packages, {sum(1 for n in seen if n in affected)} with advisories")
