"""The run's fixed held-out sets and the evaluation after each stage.

Two splits, drawn from their own seeds (`seeds.held_out_seed`), which no stage's stream can name:
- **dev**: what the stage table prints, and all that tuning may read (probes, sweeps);
- **test**: evaluated after every stage too, written beside dev (`<stage>/eval_test/`, the `test`
  part of metrics.json), and what docs/results.md reports. Its self-cognition probes use phrasings
  no training row has (`rows.TEST_PROBE_TEMPLATES`).
Each split holds, per family, aligned and conflict items, independent items (the transcript names
an option drawn uniformly) and audio-only items, plus text questions and self-cognition probes.
Every stage's model answers the same items, so rows compare like with like. Deaf baselines
(transcript reader, contrarian, random) and the oracle answer them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audiogym.errors import ConfigError
from audiogym.io import atomic_write_json
from audiogym.recipe.config import RecipeConfig
from audiogym.recipe.rows import TEST_PROBE_TEMPLATES, probe_tasks
from audiogym.recipe.seeds import SPLITS, held_out_seed
from audiogym.tasks.sources import make_cue_mix, make_tasks

BASELINES = ("transcript", "contrarian", "random", "oracle")


class HeldOut:
    def __init__(self, recipe: RecipeConfig, split: str = "dev"):
        if split not in SPLITS:
            raise ValueError(f"split={split!r}: expected one of {', '.join(SPLITS)}")
        fams, e = recipe.audio_families, recipe.eval
        self.split = split
        self.max_new_tokens = e.max_new_tokens
        self.backend = recipe.generation.backend
        seed = lambda kind: held_out_seed(recipe.seed, split, kind)  # noqa: E731
        self.sampling_seed = seed("sampling")
        self.tasks = make_cue_mix(fams, e.per_family, seed("audio"), e.shares) + make_tasks(
            ["TextReasoning"], e.text, seed("text")
        )
        templates = TEST_PROBE_TEMPLATES if split == "test" else None
        self.probes = probe_tasks(fams, max(8, e.per_family * 2), seed("probes"), templates)

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

    def sampled_listen(
        self, model_dir: Path, samples: int, temperature: float, top_k: int = 0, keep: Path | None = None
    ) -> dict[str, Any]:
        """The sampling policy's listening: each listen item (independent and audio-only) answered
        `samples` times at `temperature`, as the RL stage's rollouts are drawn. The RL stage trains
        this policy; greedy decoding (`evaluate`) reads only its most likely path, which in the tiny
        model can stop inside its think block where samples go on to answer. The samples' seed is the
        split's own, so two models are compared on common random numbers.
        Returns {"listen": mean share right, "per_family": {...}, "items": [[task id, share right], ...]};
        with `keep`, the result is written there and read back instead of sampling again."""
        if keep is not None and keep.is_file():
            return json.loads(keep.read_text())
        from audiogym.evaluation import score_item
        from audiogym.tasks.core import LISTEN_CUES
        from audiogym.trainers.model_io import policy

        if samples < 1:
            raise ValueError(f"samples={samples}: expected at least 1")
        tasks = [t for t in self.tasks if t.category != "text" and t.cue in LISTEN_CUES]
        if not tasks:
            raise ConfigError(
                f"the {self.split} split holds no listen items (independent or audio-only): "
                "raise recipe.eval.per_family"
            )
        pol = policy(model_dir, self.backend)
        gens = pol.generate(
            tasks,
            num_samples=samples,
            temperature=temperature,
            top_k=top_k,
            max_new_tokens=self.max_new_tokens,
            seed=self.sampling_seed,
        )
        shares = [sum(score_item(t, g.text, g.tokens).correct for g in per) / len(per) for t, per in zip(tasks, gens)]
        families: dict[str, list[float]] = {}
        for t, share in zip(tasks, shares):
            families.setdefault(t.family, []).append(share)
        out = {
            "listen": sum(shares) / len(shares),
            "per_family": {f: sum(v) / len(v) for f, v in sorted(families.items())},
            "samples": samples,
            "temperature": temperature,
            "items": [[t.id, share] for t, share in zip(tasks, shares)],
        }
        if keep is not None:
            atomic_write_json(keep, out)
        return out

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
