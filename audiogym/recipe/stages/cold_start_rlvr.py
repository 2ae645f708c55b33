"""Stage `cold_start_rlvr`: RLVR on text questions only, binary outcome reward (MGRD eqs. 2-3)."""

from __future__ import annotations

from typing import Any

from audiogym.recipe.rows import rows_for
from audiogym.recipe.stage import Stage, StageContext
from audiogym.rewards import build_reward
from audiogym.tasks.sources import make_tasks
from audiogym.trainers.grpo import train_grpo


class ColdStartRLVR(Stage):
    kind = "cold_start_rlvr"
    config_key = "cold_start.rlvr"
    streams = {"questions": 4}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        c = ctx.section
        ds = rows_for(make_tasks(["TextReasoning"], c.questions, ctx.stream("questions")))
        return train_grpo(ctx.job(), ds, build_reward("binary"), c)
