"""What an RL stage did to each family's answer prior and to the chains it writes, on the dev split:
per family, the share of listen items (independent and audio-only) given the family's most
common answer before and after the stage (1.0: one constant answer for every clip), with the
accuracy on them; the share of the stage's rollouts with reasoning present (its first and last
eight steps, from `trainer_log.jsonl`); and the band it trained on, questions per family and
transcript mode (from `selected.jsonl`).

Give it `scripts/rl_probe.py` output folders (`<out>/<tag>`, the stage before read from
`<out>/round<t>_distill`) or finished run folders (each `round<t>_rl` against `round<t>_distill`):

    python scripts/answer_prior.py probes/seed{0,1,2,3,4}/bsb --json probes/bsb_prior.json
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from audiogym.errors import ConfigError, run_script
from audiogym.io import atomic_write_json
from audiogym.recipe.probing import eval_items
from audiogym.rewards.parse import split_think
from audiogym.tasks.core import LISTEN_CUES
from audiogym.tasks.sources import split_task_id


def answer_of(completion: str) -> str:
    """The answer line as said (lower case, 'the answer is' and the final stop dropped); '(none)'
    where the think block never closed."""
    think, closed, answer = split_think(completion)
    if think is not None and not closed:
        return "(none)"
    return answer.lower().removeprefix("the answer is").strip().rstrip(".").strip()


def prior(items: list[dict]) -> dict[str, dict[str, float]]:
    """Per family: the most common answer's share of the listen items, and accuracy on them."""
    listen = [i for i in items if i["cue"] in LISTEN_CUES and i.get("category") != "text"]
    out = {}
    for family in sorted({i["family"] for i in listen}):
        rows = [i for i in listen if i["family"] == family]
        top, n = Counter(answer_of(i["completion"]) for i in rows).most_common(1)[0]
        out[family] = {
            "top_answer": top,
            "top_share": n / len(rows),
            "accuracy": sum(i["correct"] for i in rows) / len(rows),
        }
    return out


def reasoning(log: Path, steps: int = 8) -> dict[str, float] | None:
    rows = [json.loads(line) for line in log.read_text().splitlines() if "mgrd/reasoning_present" in line]
    if not rows:
        return None
    first, last = ([r["mgrd/reasoning_present"] for r in part] for part in (rows[:steps], rows[-steps:]))
    return {"first": sum(first) / len(first), "last": sum(last) / len(last)}


def band(selected: Path) -> dict[str, dict[str, int]] | None:
    """The RL stage's band questions per family and transcript mode (task ids `Family-n@mode`)."""
    if not selected.is_file():
        return None
    out: dict[str, dict[str, int]] = {}
    for line in selected.read_text().splitlines():
        family, _, cue = split_task_id(json.loads(line)["task_id"])
        out.setdefault(family, {}).setdefault(cue, 0)
        out[family][cue] += 1
    return out


def stages(folder: Path) -> list[tuple[str, Path, Path]]:
    """(stage, folder holding the stage before, folder holding the RL stage) for each round found."""
    probe = folder.parent
    found = []
    for rl in sorted(folder.glob("round*_rl")):
        before = rl.name.replace("_rl", "_distill")
        if (folder / before / "eval").is_dir():  # a finished run
            found.append((rl.name, folder, folder))
        elif (probe / before / "eval").is_dir():  # a probe: the stage before is evaluated once per run
            found.append((rl.name, probe, folder))
    if not found:
        raise ConfigError(f"{folder}: no round<t>_rl beside its round<t>_distill evaluation")
    return found


def summarise(folder: Path) -> dict[str, dict]:
    out = {}
    for stage, before_root, after_root in stages(folder):
        before = prior(eval_items(before_root, stage.replace("_rl", "_distill")))
        after = prior(eval_items(after_root, stage))
        out[stage] = {
            "families": {f: {"before": before[f], "after": after[f]} for f in before if f in after},
            "reasoning_present": reasoning(after_root / stage / "trainer_log.jsonl"),
            "band": band(after_root / stage / "selected.jsonl"),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+", help="<out>/<tag> probe folders or run folders, one per seed")
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args(argv)
    summary = {str(f): summarise(f) for f in args.folders}
    for folder, by_stage in summary.items():
        for stage, s in by_stage.items():
            r = s["reasoning_present"]
            chains = f"reasoning present {r['first']:.2f} -> {r['last']:.2f}" if r else "no reward log"
            shares = ", ".join(
                f"{f} {v['before']['top_share']:.2f}->{v['after']['top_share']:.2f}" for f, v in s["families"].items()
            )
            sizes = ", ".join(f"{f} {sum(c.values())}" for f, c in (s["band"] or {}).items()) or "not kept"
            print(f"{folder} {stage}: {chains}; most common answer's share: {shares}; band questions: {sizes}")
    if args.json:
        atomic_write_json(args.json, {"folders": [str(f) for f in args.folders], "runs": summary})


if __name__ == "__main__":
    run_script(main)
