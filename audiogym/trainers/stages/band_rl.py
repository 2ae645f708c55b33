"""Stage `round<t>_rl`: RL on the difficulty band, MGRD step 2b (eqs. 7-8).

8 samples per candidate question; keep questions with low..high correct (3..6 of 8); GRPO on
them with the composite reward (eq. 7) mixed with text under the binary reward (eq. 8);
`recipe.rounds.rl.reward` can change the audio reward (e.g. add the grounding score).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from audiogym.rewards import build_reward, is_correct
from audiogym.tasks.sources import make_tasks
from audiogym.trainers.grpo import train_grpo
from audiogym.trainers.rollouts import sample
from audiogym.trainers.rows import rows_for
from audiogym.trainers.seeds import stream
from audiogym.trainers.stages import StageContext, write_selected


class BandRL:
    def __init__(self, round_t: int):
        self.round_t = round_t
        self.name = f"round{round_t}_rl"

    def run(self, ctx: StageContext) -> dict[str, Any]:
        band, rl, t = ctx.recipe.rounds.band, ctx.recipe.rounds.rl, self.round_t
        tasks = make_tasks(ctx.recipe.audio_families, band.candidates, stream(ctx.seed, "band_rl", "candidates", t))
        rollouts = sample(self.name, ctx.folder, ctx.model_in, ctx.seed, tasks, band.samples, 1.0, band.max_new_tokens,
                          lambda task, text: {"correct": is_correct(text, task.answer, task.choices)})
        correct: dict[str, int] = {}
        for row in rollouts:
            correct[row["task_id"]] = correct.get(row["task_id"], 0) + int(row["correct"])
        selected = [task for task in tasks if band.low <= correct.get(task.id, 0) <= band.high]
        write_selected(ctx, ({"task_id": task.id, "correct_of_8": correct[task.id]} for task in selected))
        histogram = np.bincount([correct.get(task.id, 0) for task in tasks], minlength=band.samples + 1).tolist()
        text = make_tasks(["TextReasoning"], rl.text, stream(ctx.seed, "band_rl", "text", t))
        rl_tasks = selected + text
        if len(rl_tasks) < rl.batch:  # too few in the band: fill with text so the stage still trains
            rl_tasks += make_tasks(["TextReasoning"], rl.batch, stream(ctx.seed, "band_rl", "fill", t))
        metrics = train_grpo(ctx, rows_for(rl_tasks), build_reward(rl.reward), rl)
        metrics.update(band_selected=len(selected), candidates=len(tasks), correct_histogram=histogram)
        return metrics
