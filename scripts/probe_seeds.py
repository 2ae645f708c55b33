"""Seed-level summary of one probe variant over several runs: each run is one seed, so each round's
change is one number per seed (listen, aligned and conflict accuracy after minus before), with its
mean, 95% interval over seeds and how many seeds moved which way.

`scripts/rl_probe.py` and `scripts/distill_probe.py` write `<out>/<tag>/changes.json` per run;
give this the `<out>/<tag>` folders of the same tag, one per seed, or finished run folders (each
RL stage against the stage before it, on the dev split):

    python scripts/probe_seeds.py probes/seed{0,1,2,3,4}/steps16 --json probes/steps16.json
    python scripts/probe_seeds.py runs/seed{0,1,2,3,4} --json runs/rl_stages.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audiogym.errors import ConfigError, run_script
from audiogym.io import atomic_write_json
from audiogym.recipe.probing import eval_items, probe_change
from audiogym.recipe.report import rl_pairs
from audiogym.stats import seed_level, seed_level_line

# key in a change (None: the change itself); "unclosed": listen items left with no answer (think never
# closed); "listen_sampled": the sampling policy's listen accuracy (rl_probe.py --samples); "band_asked",
# "band_afresh": the band's share right asked as trained and asked afresh (rl_probe.py --band-fit);
# "think_words": the listen items' mean think words (greedy answers)
ITEMS = {
    "listen": "listen",
    "aligned": "aligned",
    "conflict": None,
    "unclosed": "unclosed",
    "listen_sampled": "listen_sampled",
    "band_asked": "band_asked",
    "band_afresh": "band_afresh",
    "think_words": "think_words",
}
UNITS = {"think_words": ("words", 1.0)}  # the rest are shares, printed in points


def run_changes(run: Path) -> list[dict]:
    """A finished run's RL stages, each against the stage before it (dev evaluations)."""
    rows = json.loads((run / "table.json").read_text())["rows"]
    return [
        probe_change(r["stage"], eval_items(run, b["stage"]), eval_items(run, r["stage"])) for b, r in rl_pairs(rows)
    ]


def summarise(folders: list[Path]) -> dict[str, dict[str, dict]]:
    """{round: {items: seed_level of after - before}} over the folders' changes.json."""
    per_run = []
    for folder in folders:
        path = folder / "changes.json"
        if path.is_file():
            changes = json.loads(path.read_text())["rounds"]
        elif (folder / "table.json").is_file():
            changes = run_changes(folder)
        else:
            raise ConfigError(f"{folder}: no changes.json or table.json (has the probe or run finished?)")
        per_run.append({c["stage"]: c for c in changes})
    stages = sorted(set.intersection(*(set(r) for r in per_run)))
    if not stages:
        raise ConfigError("the probes share no stage")
    out: dict[str, dict[str, dict]] = {}
    for stage in stages:
        out[stage] = {}
        for items, key in ITEMS.items():
            changes = [r[stage].get(key) if key else r[stage] for r in per_run]
            if all(changes):
                out[stage][items] = seed_level([c["after"] - c["before"] for c in changes])
                out[stage][items].update(before=[c["before"] for c in changes], after=[c["after"] for c in changes])
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+", help="<out>/<tag> folders of one probe variant, one per seed")
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args(argv)
    summary = summarise(args.folders)
    for stage, by_items in summary.items():
        for items, s in by_items.items():
            print(seed_level_line(f"{stage}, {items}", s, *UNITS.get(items, ("points", 100.0))))
    if args.json:
        atomic_write_json(args.json, {"folders": [str(f) for f in args.folders], "stages": summary})


if __name__ == "__main__":
    run_script(main)
