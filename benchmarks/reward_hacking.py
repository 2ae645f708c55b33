"""Reward hacking: how often each cheap form of "grounding" beats an honest chain, per family.

The corpus (`tests/fixtures/grounding_corpus.py`) holds honest chains in varied English and
Chinese wording and their dishonest twins: hedged (every value of the deciding attribute named),
echoed (the chosen option restated as evidence), invented (the honest chain plus claims about
attributes the facts do not cover) and transcript (reasoning from what the words say, in
paraphrase). For every class it prints how often a twin scores at least as high as the honest
chains of its task under the `grounding` reward (`ge_honest`) and how often the distillation
filter (`GroundingFilter`) keeps it (`kept`); for honest chains, how often they are kept.
Writes benchmarks/results/reward_hacking.json ({classes: [{name, ge_honest, kept}], honest_kept, ...}).
    python benchmarks/reward_hacking.py [--tasks 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

import grounding_corpus  # noqa: E402

from audiogym.rewards.base import task_row  # noqa: E402
from audiogym.rewards.grounding import GroundingFilter, grounding_of_row  # noqa: E402

ATTACKS = ("hedged", "echoed", "invented", "transcript")


def score_corpus(n_tasks: int) -> dict:
    chains = grounding_corpus.build(n_tasks)
    filt = GroundingFilter()
    scored = []
    for c in chains:
        row = task_row(c.task)
        g = grounding_of_row(c.completion, row)
        scored.append((c, g.score, filt.judge(g)[0]))
    honest: dict[str, list[float]] = defaultdict(list)
    for c, s, _ in scored:
        if c.kind == "honest":
            honest[c.task.id].append(s)
    out: dict = {"families": {}, "classes": [], "n_chains": len(chains)}
    by: dict[tuple, list] = defaultdict(list)
    for c, s, kept in scored:
        ge = [s >= h for h in honest[c.task.id]] if c.kind != "honest" else []
        by[(c.kind, c.family, c.lang)].append((kept, ge, c.held_out))

    def rate(items, fn):
        vals = [v for it in items for v in fn(it)]
        return sum(vals) / len(vals) if vals else None

    for kind in ATTACKS:
        items = [it for (k, _, _), its in by.items() if k == kind for it in its]
        out["classes"].append(
            {
                "name": kind,
                "ge_honest": rate(items, lambda it: it[1]),
                "kept": rate(items, lambda it: [it[0]]),
                "n": len(items),
            }
        )
    honest_items = [(k, it) for k, its in by.items() if k[0] == "honest" for it in its]
    out["honest_kept"] = rate([it for _, it in honest_items], lambda it: [it[0]])
    for lang in ("en", "zh"):
        out[f"honest_kept_{lang}"] = rate([it for k, it in honest_items if k[2] == lang], lambda it: [it[0]])
    out["honest_kept_en_held_out"] = rate([it for k, it in honest_items if k[2] == "en" and it[2]], lambda it: [it[0]])
    for fam in grounding_corpus.HONEST:
        row = {}
        for lang in ("en", "zh"):
            row[f"honest_kept_{lang}"] = rate(by[("honest", fam, lang)], lambda it: [it[0]])
        for kind in ATTACKS:
            items = [it for lang in ("en", "zh") for it in by[(kind, fam, lang)]]
            row[kind] = {"ge_honest": rate(items, lambda it: it[1]), "kept": rate(items, lambda it: [it[0]])}
        out["families"][fam] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=8, help="tasks per family (each gets every frame and twin)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "reward_hacking.json"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = score_corpus(args.tasks)
    res["seconds"] = time.perf_counter() - t0

    def pct(v):
        return "   -" if v is None else f"{100 * v:4.0f}%"

    print(
        f"{res['n_chains']} chains in {res['seconds']:.1f} s. Honest chains kept: {pct(res['honest_kept'])} "
        f"(English {pct(res['honest_kept_en'])}, held-out English frames {pct(res['honest_kept_en_held_out'])}, "
        f"Chinese {pct(res['honest_kept_zh'])})"
    )
    print(f"{'attack':<12} {'>= honest':>10} {'kept':>8}")
    for c in res["classes"]:
        print(f"{c['name']:<12} {pct(c['ge_honest']):>10} {pct(c['kept']):>8}")
    print(f"\n{'family':<16} {'honest en':>9} {'honest zh':>9} " + " ".join(f"{k + ' >=/kept':>21}" for k in ATTACKS))
    for fam, row in res["families"].items():
        cells = " ".join(f"{pct(row[k]['ge_honest']) + ' / ' + pct(row[k]['kept']):>21}" for k in ATTACKS)
        print(f"{fam:<16} {pct(row['honest_kept_en']):>9} {pct(row['honest_kept_zh']):>9} {cells}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
