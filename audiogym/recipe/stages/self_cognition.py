"""Stage `self_cognition`: correct "I can't hear audio" with DPO (MGRD's self-cognition step).

Probe with questions phrased to invite a refusal, detect replies that deny hearing, build pairs
(chosen: a grounded answer from the teacher; rejected: the model's own refusal, or a typical one)
and run DPO; the error rate before is in the metrics, after in the stage's eval.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audiogym.policies.scripted import OraclePolicy
from audiogym.recipe.rows import REFUSALS, empty_think, probe_tasks, rows_for
from audiogym.recipe.stage import Stage, StageContext, write_selected
from audiogym.rewards import self_cognition_error
from audiogym.trainers.dpo import train_dpo


class SelfCognition(Stage):
    kind = "self_cognition"
    config_key = "self_cognition"
    streams = {"probes": 900}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        c = ctx.section
        tasks = probe_tasks(ctx.recipe.audio_families, c.probes, ctx.stream("probes"))
        rollouts = ctx.sample(
            tasks,
            1,
            1.0,
            c.max_new_tokens,
            lambda t, text: {"self_cognition_error": self_cognition_error(text) is not None},
        )
        own = {r["task_id"]: r["completion"] for r in rollouts if r["self_cognition_error"]}
        rng = np.random.default_rng(ctx.seed)
        rejected = [own.get(t.id) or empty_think(rng.choice(REFUSALS)) for t in tasks]
        chosen = [OraclePolicy().act(t) for t in tasks]
        ds = rows_for(tasks, chosen=chosen, rejected=rejected)
        write_selected(
            ctx,
            (
                {"task_id": t.id, "chosen": a, "rejected": b, "own_refusal": t.id in own}
                for t, a, b in zip(tasks, chosen, rejected)
            ),
        )
        metrics = train_dpo(ctx.job(), ds, c.dpo)
        metrics.update(pairs=len(ds), own_refusals=len(own), error_rate_before=len(own) / max(1, len(tasks)))
        return metrics
