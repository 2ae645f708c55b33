"""The recipe's seed plan: every random draw of a run comes from `recipe.seed` through this table.

A stage's seed is `recipe.seed + FIRST_STAGE_OFFSET + its position in the run` (base 3,
cold_start_sft 4, cold_start_rlvr 5, round t distill 4 + 2t, round t rl 5 + 2t, self_cognition
6 + 2T). The stage seeds its trainer (data order, dropout) with it and draws its questions from its
named streams (`Stage.streams`): stage seed + the stream's offset + ROUND_STRIDE * round. The
held-out set has its own streams. The numbers are arbitrary but fixed: changing one changes which
questions a run sees, and so its stage table.
"""

from __future__ import annotations

# Held-out evaluation: the same items after every stage of a run.
HELD_OUT = {"audio": 10_000, "text": 10_001, "probes": 10_002}

FIRST_STAGE_OFFSET = 3  # the first stage's seed is recipe.seed + 3
ROUND_STRIDE = 100  # round t's streams are offset by 100 * t, so rounds never share questions
SAMPLING_RANK_STRIDE = 100_003  # each process of a sharded sampling stage draws its own samples


def stage_seed(recipe_seed: int, position: int) -> int:
    """The seed of the stage at `position` (0 = the first stage) of a run."""
    return recipe_seed + FIRST_STAGE_OFFSET + position
