"""How the grounding reader holds on wording it was not written for: per family, the share of honest
chains the distillation filter keeps in each natural-wording set of tests/fixtures/natural_wording.py
(each set written after the rules were frozen on the ones before it), and the hedge decision's
cases. Writes benchmarks/results/grounding_wording.json; commit it with each freeze.
    python benchmarks/grounding_wording.py [--tasks 8]
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

import natural_wording as N  # noqa: E402

from audiogym.rewards.base import task_row  # noqa: E402
from audiogym.rewards.grounding import GroundingFilter, grounding_of_row  # noqa: E402


def kept(chains) -> dict[str, dict[str, float]]:
    filt = GroundingFilter()
    by: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    for c in chains:
        by[(c.kind, c.family)].append(filt.judge(grounding_of_row(c.completion, task_row(c.task)))[0])
    out: dict[str, dict[str, float]] = collections.defaultdict(dict)
    for (kind, fam), v in sorted(by.items()):
        out[kind][fam] = sum(v) / len(v)
    return dict(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=8, help="tasks per family and frame")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "grounding_wording.json"))
    args = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    result = {"commit": commit.stdout.strip(), "sets": {}}
    for name, build in N.SETS.items():
        rates = kept(build(args.tasks))
        result["sets"][name] = {
            "written": N.WRITTEN[name],
            "per_family": rates,
            "min_family": {k: min(v.values()) for k, v in rates.items()},
        }
        for kind, per in rates.items():
            line = " ".join(f"{fam} {r:.0%}" for fam, r in per.items())
            print(f"{name} [{kind}] min {min(per.values()):.0%}: {line}")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
