"""wandb tracking of a recipe run (offline unless WANDB_MODE says otherwise), main process only."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class Tracker:
    def __init__(self, enabled: bool, folder: Path, name: str, config: dict[str, Any]):
        self.run = None
        if not enabled:
            return
        os.environ.setdefault("WANDB_MODE", "offline")
        os.environ.setdefault("WANDB_DIR", str(folder))
        os.environ.setdefault("WANDB_SILENT", "true")
        import wandb
        self.run = wandb.init(project="audiogym", name=name, dir=str(folder), config=config, resume="allow",
                              id=f"audiogym-{name}")

    def stage(self, stage: str, row: dict[str, Any], rollouts: list[dict[str, Any]] | None) -> None:
        """The stage's eval and train figures, and a table of its first rollouts with their audio."""
        if self.run is None:
            return
        import wandb

        from audiogym.tasks.sources import task_from_id
        self.run.log({f"eval/{k}": v for k, v in row.items() if isinstance(v, (int, float))} | {"stage": stage})
        if rollouts:
            table = wandb.Table(columns=["stage", "task_id", "conflict", "correct", "grounded", "completion", "audio"])
            for r in rollouts[:12]:
                t = task_from_id(r["task_id"])
                audio = wandb.Audio(t.audio, sample_rate=16000) if t is not None and len(t.audio) else None
                table.add_data(stage, r["task_id"], r.get("conflict"), r.get("correct"), r.get("grounded"),
                               r["completion"][:2000], audio)
            self.run.log({f"rollouts/{stage}": table})

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
