"""Process roles when the recipe runs under `accelerate launch` (one process per GPU).

Every process runs every stage: the TRL trainers inside a stage are data-parallel (DDP or
DeepSpeed through accelerate) and need all ranks. Around them:
- sampling is sharded: each rank generates its share of the questions into its own partial
  rollouts file, and the main process merges them;
- files (models, rollouts, metrics, tables) are written by the main process only, and every
  rank waits at a barrier before it reads them;
- held-out evaluation, printing and tracking run on the main process.
With one process (the default, and CPU runs) all of this reduces to the plain sequential code.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _state():
    import torch
    from accelerate import PartialState

    # cpu=True is what makes several CPU processes (torchrun, tests) one gloo group, as the
    # trainers' `use_cpu` does; the state is shared, so it must agree with theirs.
    return PartialState(cpu=not torch.cuda.is_available())


def rank() -> int:
    return _state().process_index


def world() -> int:
    return _state().num_processes


def is_main() -> bool:
    return _state().is_main_process


def barrier() -> None:
    if world() > 1:
        _state().wait_for_everyone()


def device() -> str:
    """This process's device: its GPU under `accelerate launch`, the GPU or CPU otherwise."""
    return str(_state().device)
