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


def fresh_measurements() -> dict:
    """Each set natural_k as measured on the rules frozen before it was written (the committed
    grounding_wording_round{k}_before.json files), pooled per family over its distinct wordings:
    the honest estimate of how the reader holds on the next listener's words."""
    pooled: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0])
    sets = []
    for path in sorted((ROOT / "benchmarks" / "results").glob("grounding_wording_round*_before.json")):
        k = path.stem.removeprefix("grounding_wording_round").removesuffix("_before")
        per = json.loads(path.read_text())["sets"][f"natural_{k}"]["per_family"]["honest"]
        frames = getattr(N, f"NATURAL_{k}")
        sets.append(f"natural_{k}")
        for fam, rate in per.items():
            pooled[fam][0] += rate * len(frames[fam])
            pooled[fam][1] += len(frames[fam])
    per_family = {fam: {"kept": s / n, "frames": int(n)} for fam, (s, n) in sorted(pooled.items())}
    total = sum(s for s, _ in pooled.values()) / max(1, sum(n for _, n in pooled.values()))
    return {"sets": sets, "per_family": per_family, "overall": total}


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
    result["fresh"] = fresh_measurements()
    for fam, row in result["fresh"]["per_family"].items():
        print(f"fresh, pooled: {fam} {row['kept']:.0%} of {row['frames']} wordings")
    print(f"fresh, pooled: overall {result['fresh']['overall']:.0%}")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
