"""Stage `base`: the starting model, built from the tiny config or copied from `recipe.model_path`."""

from __future__ import annotations

import dataclasses
import shutil
from typing import Any

from audiogym.recipe.stage import Stage, StageContext
from audiogym.trainers import dist


class BuildBase(Stage):
    kind = "base"

    def run(self, ctx: StageContext) -> dict[str, Any]:
        if dist.is_main():
            if ctx.recipe.model_path:  # a real checkpoint: the run starts from a copy of it
                shutil.copytree(ctx.recipe.model_path, ctx.model_out, dirs_exist_ok=True)
            else:
                from audiogym.policies.audio_lm import build_tiny_model

                model = ctx.cfg.model
                if model.seed is None:  # the initialisation follows the run's seed
                    model = dataclasses.replace(model, seed=ctx.recipe.seed)
                build_tiny_model(ctx.model_out, model)
        dist.barrier()
        return {"source": ctx.recipe.model_path or "tiny"}
