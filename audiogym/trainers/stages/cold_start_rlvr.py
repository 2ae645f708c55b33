"""Stage `cold_start_rlvr`: RLVR on text questions only, binary outcome reward (MGRD eqs. 2-3)."""
from __future__ import annotations

from typing import Any

from audiogym.rewards import build_reward
from audiogym.tasks.sources import make_tasks
from audiogym.trainers.grpo import train_grpo
from audiogym.trainers.rows import rows_for
from audiogym.trainers.seeds import stream
from audiogym.trainers.stages import StageContext


class ColdStartRLVR:
    name = "cold_start_rlvr"

    def run(self, ctx: StageContext) -> dict[str, Any]:
        c = ctx.recipe.cold_start.rlvr
        ds = rows_for(make_tasks(["TextReasoning"], c.questions, stream(ctx.seed, "cold_start_rlvr", "questions")))
        return train_grpo(ctx, ds, build_reward("binary"), c)
