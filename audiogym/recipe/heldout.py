"""The run's fixed held-out set and the evaluation after each stage.

Aligned and conflict items of every family, text questions, and self-cognition probes, drawn once
from the seed plan; every stage's model answers the same items, so rows of the stage table and
the paired tests compare like with like. Baselines (transcript, random, oracle) answer them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audiogym.io import atomic_write_json
from audiogym.recipe.config import RecipeConfig
from audiogym.recipe.rows import probe_tasks
from audiogym.recipe.seeds import HELD_OUT
from audiogym.tasks.sources import make_tasks

BASELINES = ("transcript", "random", "oracle")


class HeldOut:
    def __init__(self, recipe: RecipeConfig):
        fams, e = recipe.audio_families, recipe.eval
        self.max_new_tokens = e.max_new_tokens
        self.backend = recipe.generation.backend
        self.tasks = make_tasks(fams, e.per_family * len(fams), recipe.seed + HELD_OUT["audio"]) + make_tasks(
            ["TextReasoning"], e.text, recipe.seed + HELD_OUT["text"]
        )
        self.probes = probe_tasks(fams, max(8, e.per_family * 2), recipe.seed + HELD_OUT["probes"])

    def evaluate(self, model_dir: Path, out: Path) -> dict[str, Any]:
        """The model's summary on the held-out items plus its self-cognition error on the probes;
        per-item results written to `out` (eval.json, eval.md)."""
        from audiogym.evaluation import evaluate
        from audiogym.rewards import self_cognition_error
        from audiogym.trainers.model_io import policy

        pol = policy(model_dir, self.backend)
        report = evaluate(pol, self.tasks, max_new_tokens=self.max_new_tokens, progress=True)
        summary = report.summary()
        probe_out = pol.generate(self.probes, temperature=0.0, max_new_tokens=self.max_new_tokens)
        errors = sum(self_cognition_error(g[0].text) is not None for g in probe_out)
        summary["self_cognition_error_rate"] = errors / len(self.probes)
        report.write(out)
        return summary

    def baselines(self, path: Path) -> dict[str, dict[str, Any]]:
        """The scripted baselines' summaries, computed once per run and kept in `path`."""
        if path.exists():
            return json.loads(path.read_text())
        from audiogym.evaluation import evaluate, load_policy

        out = {}
        for name in BASELINES:
            s = evaluate(load_policy(name), self.tasks, progress=False).summary()
            s["self_cognition_error_rate"] = 0.0
            out[name] = s
        atomic_write_json(path, out)
        return out
