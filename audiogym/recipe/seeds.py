"""The recipe's seed plan: every random draw of a run comes from `recipe.seed` through this table.

Seeds are drawn from numpy's `SeedSequence`, keyed by what they are for, so that no two runs share
a stream and no two streams of a run coincide (adding 1 to a seed would make seed s's stream k
seed s+1's stream k-1):
- a stage's seed (its trainer's data order and dropout, its sampling) is
  `SeedSequence([recipe.seed, STAGE, position])`, position counting from the run's first stage;
- a data stream of a stage (`Stage.streams`, e.g. its text questions) is
  `SeedSequence([recipe.seed, STREAM, position, stream id])`;
- the held-out sets are `SeedSequence([recipe.seed, HELD_OUT, split, kind])`, one per split (dev,
  test) and kind (audio, text, probes, sampling). No stage stream key can name them.
The numbers are arbitrary but fixed: changing one changes which questions a run sees, and so its
stage table.
"""

from __future__ import annotations

import numpy as np

STAGE, STREAM, HELD_OUT = 1, 2, 3  # the first key after the run's seed: what the seed is for
SPLITS = {"dev": 1, "test": 2}  # the held-out splits: tuning reads dev; reports read test
HELD_OUT_KINDS = {"audio": 1, "text": 2, "probes": 3, "sampling": 4}
SAMPLING_RANK_STRIDE = 100_003  # each process of a sharded sampling stage draws its own samples


def derive(*key: int) -> int:
    """A 31-bit seed from a key of non-negative integers (SeedSequence's hash of the whole key)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0] >> 1)


def stage_seed(recipe_seed: int, position: int) -> int:
    """The seed of the stage at `position` (0 = the first stage) of a run."""
    return derive(recipe_seed, STAGE, position)


def stream_seed(recipe_seed: int, position: int, stream: int) -> int:
    """The seed of data stream `stream` of the stage at `position`."""
    return derive(recipe_seed, STREAM, position, stream)


def held_out_seed(recipe_seed: int, split: str, kind: str) -> int:
    """The seed of a held-out set: `split` dev or test, `kind` audio, text, probes or sampling
    (the seed of `HeldOut.sampled_listen`'s samples)."""
    return derive(recipe_seed, HELD_OUT, SPLITS[split], HELD_OUT_KINDS[kind])
