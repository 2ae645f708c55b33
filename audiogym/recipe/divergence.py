"""Where two runs of the same recipe part ways: stage by stage, in the order they ran, the first
artifact that differs (`audiogym diverge RUN_A RUN_B`).

Runs of one seed and config are identical on one machine at one thread count (docs/design.md). On
two machines, or at two thread counts, float reductions in another order can flip a sampled token
and every later stage follows it; this finds the stage and the artifact where that first shows:
the selected rows, the rollouts, the trained weights (largest absolute difference) and the
held-out answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from audiogym.errors import ConfigError

JSONL = ("selected.jsonl", "rollouts.jsonl")
WEIGHTS = "model/model.safetensors"
ANSWERS = ("eval/eval.json", "eval_test/eval.json")


@dataclass
class Difference:
    stage: str
    artifact: str
    detail: str


def stages_of(run: Path) -> list[str]:
    table = run / "table.json"
    if not table.is_file():
        raise ConfigError(f"{run}: no table.json (not a finished or running `audiogym train` run)")
    rows = json.loads(table.read_text()).get("rows", [])
    return [r["stage"] for r in rows if not str(r.get("stage", "")).startswith("baseline")]


def _first_line_difference(a: Path, b: Path) -> str | None:
    with a.open() as fa, b.open() as fb:
        for i, (x, y) in enumerate(zip(fa, fb), 1):
            if x != y:
                return f"line {i} differs"
        rest_a, rest_b = fa.readline(), fb.readline()
    return "one has more lines" if rest_a or rest_b else None


def _weights_difference(a: Path, b: Path) -> str | None:
    from safetensors.torch import load_file

    wa, wb = load_file(str(a)), load_file(str(b))
    if wa.keys() != wb.keys():
        return "different tensors"
    worst, name = 0.0, ""
    for k in wa:
        if wa[k].shape != wb[k].shape:
            return f"{k}: shapes {tuple(wa[k].shape)} vs {tuple(wb[k].shape)}"
        d = float((wa[k].float() - wb[k].float()).abs().max()) if wa[k].numel() else 0.0
        if d > worst:
            worst, name = d, k
    return f"max |difference| {worst:.3g} in {name}" if worst > 0 else None


def _answers_difference(a: Path, b: Path) -> str | None:
    ia, ib = json.loads(a.read_text())["items"], json.loads(b.read_text())["items"]
    changed = [x["task_id"] for x, y in zip(ia, ib) if x["completion"] != y["completion"]]
    if len(ia) != len(ib):
        return f"{len(ia)} vs {len(ib)} items"
    return f"{len(changed)} of {len(ia)} answers differ (first: {changed[0]})" if changed else None


def first_divergence(run_a: str | Path, run_b: str | Path) -> tuple[list[str], Difference | None]:
    """(stages compared, the first difference or None)."""
    a, b = Path(run_a), Path(run_b)
    stages_a, stages_b = stages_of(a), stages_of(b)
    compared = []
    for stage in stages_a:
        if stage not in stages_b:
            break
        compared.append(stage)
        checks = [(name, _first_line_difference) for name in JSONL]
        checks += [(WEIGHTS, _weights_difference)] + [(name, _answers_difference) for name in ANSWERS]
        for name, differ in checks:
            fa, fb = a / stage / name, b / stage / name
            if fa.is_file() != fb.is_file():
                return compared, Difference(stage, name, f"only in {fa.parent if fa.is_file() else fb.parent}")
            if fa.is_file() and (detail := differ(fa, fb)):
                return compared, Difference(stage, name, detail)
    return compared, None
