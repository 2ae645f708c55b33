"""The recipe's seed plan: every random draw of a run comes from `recipe.seed` through this table.

A stage's seed is `recipe.seed + STAGE_OFFSET(name)`; the stage seeds its trainer (data order,
dropout) with it and draws its questions from named streams, `stage seed + STREAMS[kind][stream]`
(plus `ROUND_STRIDE * t` in round t). The held-out set has its own streams. The numbers are
arbitrary but fixed: changing one changes which questions a run sees, and so its stage table.
"""
from __future__ import annotations

# Held-out evaluation: the same items after every stage of a run.
HELD_OUT = {"audio": 10_000, "text": 10_001, "probes": 10_002}

# Data streams inside each kind of stage.
STREAMS = {
    "cold_start_sft": {"text": 1, "direct": 2, "teacher_chains": 3, "reading": 5},
    "cold_start_rlvr": {"questions": 4},
    "distill": {"questions": 0, "text": 1, "direct": 2},
    "band_rl": {"candidates": 50, "text": 51, "fill": 52},
    "self_cognition": {"probes": 900},
}
ROUND_STRIDE = 100  # round t's streams are offset by 100 * t, so rounds never share questions
SAMPLING_RANK_STRIDE = 100_003  # each process of a sharded sampling stage draws its own samples


def stage_offset(name: str, rounds: int) -> int:
    """cold_start_sft 4, cold_start_rlvr 5, round t distill 4 + 2t, round t rl 5 + 2t,
    self_cognition 6 + 2T (a stage's position in the run, counting the baselines and base)."""
    if name == "base":
        return 3
    if name == "cold_start_sft":
        return 4
    if name == "cold_start_rlvr":
        return 5
    if name == "self_cognition":
        return 6 + 2 * rounds
    if name.startswith("round") and name.endswith(("_distill", "_rl")):
        t = int(name[len("round"):name.index("_")])
        return 4 + 2 * t + (name.endswith("_rl"))
    raise KeyError(f"no seed for stage {name!r}")


def stream(stage_seed: int, kind: str, name: str, round_t: int = 0) -> int:
    """The seed of one data stream of a stage."""
    return stage_seed + ROUND_STRIDE * round_t + STREAMS[kind][name]
