"""Sampling from a stage's input model into a resumable rollouts file.

`rollouts.jsonl` holds every sampled completion with its scores and filter decisions. It is
written as it goes (`RolloutLog`): a killed stage loses no finished batch and a resumed one
skips the questions already done.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from audiogym.io import read_jsonl, write_jsonl
from audiogym.tasks import AudioTask
from audiogym.trainers import dist
from audiogym.trainers.seeds import SAMPLING_RANK_STRIDE

Scorer = Callable[[AudioTask, str], dict[str, Any]]


class RolloutLog:
    """rollouts.jsonl written as it goes: each finished batch is appended and fsynced to a
    `.partial` file (one per rank under `accelerate launch`), so a killed stage loses no finished
    rollout and a resumed one skips them; `finish` merges the partial files in question order."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.final = folder / "rollouts.jsonl"
        suffix = "" if dist.world() == 1 else f".rank{dist.rank()}"
        self.partial = folder / f"rollouts.jsonl.partial{suffix}"
        if self.partial.exists():  # drop a line cut by a kill, so appends start on a whole line
            write_jsonl(self.partial, read_jsonl(self.partial))

    def _sources(self) -> list[Path]:
        """The merged file of an earlier attempt (killed after sampling) and every partial file."""
        return ([self.final] if self.final.exists() else []) + sorted(self.folder.glob("rollouts.jsonl.partial*"))

    def done_ids(self) -> set[str]:
        """Questions any rank has finished (a resumed run may have another number of processes)."""
        return {r["task_id"] for p in self._sources() for r in read_jsonl(p)}

    def add(self, rows: list[dict[str, Any]]) -> None:
        with open(self.partial, "a", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def finish(self, order: list[str]) -> list[dict[str, Any]]:
        """Merge every rank's rollouts into rollouts.jsonl (main process), in question order."""
        dist.barrier()
        if dist.is_main():
            position = {tid: i for i, tid in enumerate(order)}
            merged = {(r["task_id"], r.get("sample", 0)): r for p in self._sources() for r in read_jsonl(p)}
            write_jsonl(self.final, sorted(merged.values(), key=lambda r: (position.get(r["task_id"], len(order)),
                                                                          r.get("sample", 0))))
            for p in self.folder.glob("rollouts.jsonl.partial*"):
                p.unlink()
        dist.barrier()
        return read_jsonl(self.final)


def sample(name: str, folder: Path, model_dir: Path, seed: int, tasks: list[AudioTask], k: int,
           temperature: float, max_new_tokens: int, score: Scorer, batch: int = 8) -> list[dict[str, Any]]:
    """K completions per task from the model in `model_dir`, scored by `score(task, text)`, logged
    into `folder/rollouts.jsonl`. Under `accelerate launch` each rank samples every world-th question."""
    from tqdm.auto import tqdm

    from audiogym.trainers.model_io import policy
    logbook = RolloutLog(folder)
    done = logbook.done_ids()
    todo = [t for t in tasks if t.id not in done][dist.rank()::dist.world()]
    if todo:
        pol = policy(model_dir)
        with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"{name}: sampling", unit="question",
                  disable=not dist.is_main()) as bar:
            for i in range(0, len(todo), batch):
                chunk = todo[i:i + batch]
                gens = pol.generate(chunk, num_samples=k, temperature=temperature, max_new_tokens=max_new_tokens,
                                    seed=seed + i + SAMPLING_RANK_STRIDE * dist.rank())
                logbook.add([{"task_id": t.id, "family": t.family, "conflict": t.conflict, "sample": j,
                              "completion": g.text, "tokens": g.tokens, **score(t, g.text)}
                             for t, gs in zip(chunk, gens) for j, g in enumerate(gs)])
                bar.update(len(chunk))
                _fault_injection(name)
    return logbook.finish([t.id for t in tasks])


def _fault_injection(stage: str) -> None:
    """For the resume test: AUDIOGYM_KILL_IN_STAGE=<stage> SIGKILLs the process right after that
    stage's first rollout batch is on disk, as a crash or an OOM kill would."""
    if os.environ.get("AUDIOGYM_KILL_IN_STAGE") == stage:
        import signal
        os.kill(os.getpid(), signal.SIGKILL)
