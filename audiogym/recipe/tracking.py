"""wandb tracking of a recipe run (offline unless WANDB_MODE says otherwise), main process only.

Layout of one run:
- `eval/*` and each stage's numbers at `stage_index` (0 for base, 1 for cold_start_sft, ...), a
  monotonic step across stages (TRL's `train/global_step` restarts in every stage);
- each stage's trainer logs as `<stage>/<metric>` against `<stage>/step`;
- `rollouts/<stage>`: a table of the first rollouts with their audio;
- at the end: the baselines, the stage table (a wandb Table) and `curves.png`.
Project, entity, run id and name come from WANDB_PROJECT / WANDB_ENTITY / WANDB_RUN_ID / WANDB_NAME
when set; the default id is the run name plus a hash of the run folder, so two runs with one name in
different folders do not collide. Everything wandb writes or stages, audio included, stays inside the
run folder (`<run>/wandb`), so a moved run folder syncs whole (`wandb sync <run>/wandb/offline-run-*`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any


class Tracker:
    def __init__(self, enabled: bool, folder: Path, name: str, config: dict[str, Any]):
        self.run: Any = None
        self.folder = folder
        if not enabled:
            return
        os.environ.setdefault("WANDB_MODE", "offline")
        os.environ.setdefault("WANDB_SILENT", "true")
        inside = folder.resolve() / "wandb"
        inside.mkdir(parents=True, exist_ok=True)
        for var in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_ARTIFACT_DIR"):
            os.environ.setdefault(var, str(inside))  # artifact staging (rollout audio) stays in the run
        import wandb

        default_id = f"{name}-{hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:8]}"
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "audiogym"),
            entity=os.environ.get("WANDB_ENTITY"),
            name=os.environ.get("WANDB_NAME", name),
            id=os.environ.get("WANDB_RUN_ID", default_id),
            dir=str(inside),
            config=config,
            resume="allow",
        )
        self.run.define_metric("stage_index")
        self.run.define_metric("eval/*", step_metric="stage_index")
        self.run.define_metric("stage/*", step_metric="stage_index")

    def stage(self, stage: str, index: int, row: dict[str, Any], rollouts: list[dict[str, Any]] | None) -> None:
        """The stage's eval and train figures at `index`, and a table of its first rollouts with their audio."""
        if self.run is None:
            return
        import wandb

        from audiogym.tasks.sources import task_from_id

        numbers = {f"eval/{k}": v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.run.log({**numbers, "stage_index": index, "stage/name": stage})
        if rollouts:
            table = wandb.Table(columns=["stage", "task_id", "conflict", "correct", "grounded", "completion", "audio"])
            for r in rollouts[:12]:
                t = task_from_id(r["task_id"])
                audio = wandb.Audio(t.audio, sample_rate=16000) if t is not None and len(t.audio) else None
                table.add_data(
                    stage,
                    r["task_id"],
                    r.get("conflict"),
                    r.get("correct"),
                    r.get("grounded"),
                    r["completion"][:2000],
                    audio,
                )
            self.run.log({f"rollouts/{stage}": table, "stage_index": index})

    def trainer_callback(self, stage: str) -> Any:
        """A transformers TrainerCallback logging the stage's trainer metrics as `<stage>/*`."""
        if self.run is None:
            return None
        from transformers import TrainerCallback

        run = self.run
        run.define_metric(f"{stage}/*", step_metric=f"{stage}/step")

        class StageLog(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                numbers = {f"{stage}/{k}": v for k, v in (logs or {}).items() if isinstance(v, (int, float))}
                run.log({**numbers, f"{stage}/step": state.global_step})

        return StageLog()

    def finish(self, rows: list[dict[str, Any]] | None = None, columns: list[tuple[str, str]] | None = None) -> None:
        """Log the baselines, the stage table and curves.png (when given), then close the run."""
        if self.run is None:
            return
        import wandb

        if rows and columns:
            keys = [k for k, _ in columns]
            table = wandb.Table(
                columns=["stage", *[c for _, c in columns]],
                data=[[r["stage"], *[r.get(k) for k in keys]] for r in rows],
            )
            self.run.log({"stage_table": table})
            self.run.summary["baselines"] = {
                r["stage"]: {k: r.get(k) for k in keys} for r in rows if r.get("kind") == "baseline"
            }
            if (self.folder / "curves.png").exists():
                self.run.log({"curves": wandb.Image(str(self.folder / "curves.png"))})
        self.run.finish()
        self.run = None


def read_offline_run(path: str | Path) -> list[dict[str, Any]]:
    """The history rows of an offline `.wandb` file ({key: value, "_step": n}), read without a
    server (wandb 0.31 ships no reader): a LevelDB-style log of protobuf `Record`s, each chunk
    checked by its CRC-32 (over the type byte and the data), so a file still being flushed reads
    up to its last whole record."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = Path(path).read_bytes()
    block, pos, pieces, buf = 32768, 7, [], b""  # 7: the ':W&B' file header
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0:  # block padding
            pos += left
            continue
        chunk = data[pos + 7 : pos + 7 + length]
        if len(chunk) < length or zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != crc:
            break  # a record wandb's service is still writing (or a cut file): keep what is whole
        pos += 7 + length
        if kind == 1:
            pieces.append(chunk)
        elif kind == 2:
            buf = chunk
        elif kind == 3:
            buf += chunk
        elif kind == 4:
            pieces.append(buf + chunk)
    rows = []
    for raw in pieces:
        rec = pb.Record.FromString(raw)  # type: ignore[attr-defined]
        if rec.WhichOneof("record_type") == "history":
            row = {"_step": rec.history.step.num}
            for item in rec.history.item:
                key = item.key or "/".join(item.nested_key)
                row[key] = json.loads(item.value_json)
            rows.append(row)
    return rows
