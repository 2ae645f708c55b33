"""The wandb layout of one `audiogym train` run, read back from the offline run file."""

import glob
import os
import time
from pathlib import Path

import pytest

from audiogym.recipe.report import COLUMNS
from audiogym.recipe.tracking import Tracker, read_offline_run


@pytest.mark.slow
def test_stage_evals_land_on_increasing_steps_in_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # anything staged outside the run folder would land here
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_PROJECT", "my-project")
    for var in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_ARTIFACT_DIR", "WANDB_RUN_ID", "WANDB_NAME"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path / "runs" / "tiny"
    folder.mkdir(parents=True)
    tracker = Tracker(True, folder, "tiny", {"recipe": {"seed": 0}})
    assert tracker.run.project == "my-project" and tracker.run.id.startswith("tiny-")
    rollouts = [{"task_id": "Tempo-3", "completion": "<think>x</think>A", "correct": True}]
    rows = []
    for i, stage in enumerate(["base", "cold_start_sft", "cold_start_rlvr"]):
        row = {"stage": stage, "accuracy": 0.1 * i, "accuracy_conflict": 0.05 * i}
        tracker.stage(stage, i, row, rollouts if i else None)
        rows.append(row)
    tracker.finish(rows, COLUMNS)
    files = glob.glob(str(folder / "wandb" / "**" / "offline-run-*" / "*.wandb"), recursive=True)
    assert len(files) == 1
    for _ in range(60):  # wandb's service may still be flushing the file when finish() returns (seen under load)
        history = read_offline_run(files[0])
        if any(k.startswith("stage_table/") for r in history for k in r):
            break
        time.sleep(0.5)
    evals = [(r["stage_index"], r["eval/accuracy"]) for r in history if "eval/accuracy" in r]
    assert [i for i, _ in evals] == [0, 1, 2] and [a for _, a in evals] == pytest.approx([0.0, 0.1, 0.2])
    assert any(k.startswith("stage_table/") for r in history for k in r)  # the stage table, as a wandb Table
    staged = [p for p in Path(tmp_path / "home").rglob("*") if p.is_file()] if (tmp_path / "home").exists() else []
    assert not staged, staged  # rollout audio is staged inside the run folder
    os.environ.pop("WANDB_PROJECT", None)


def _write_log(path, records):
    """A `.wandb` file in the format wandb's service writes: a 7-byte header, then one full
    (type 1) chunk per record, each `<crc32, length, type>` over 32 KiB blocks."""
    import struct
    import zlib

    out = bytearray(b":W&B\x00\x00\x01")
    for rec in records:
        data = rec.SerializeToString()
        if 32768 - len(out) % 32768 < 7 + len(data):
            out += b"\x00" * (32768 - len(out) % 32768)  # keep the test's records in one block each
        out += struct.pack("<IHB", zlib.crc32(data, zlib.crc32(b"\x01")), len(data), 1) + data
    Path(path).write_bytes(bytes(out))
    return len(out)


def _history(step, value):
    from wandb.proto import wandb_internal_pb2 as pb

    rec = pb.Record()
    rec.history.step.num = step
    item = rec.history.item.add()
    item.key, item.value_json = "eval/accuracy", str(value)
    return rec


def test_offline_reader_stops_at_a_record_still_being_written(tmp_path):
    path = tmp_path / "run.wandb"
    size = _write_log(path, [_history(i, 0.1 * i) for i in range(3)])
    assert [r["_step"] for r in read_offline_run(path)] == [0, 1, 2]
    whole = path.read_bytes()
    path.write_bytes(whole[: size - 5])  # the last record cut mid-write
    assert [r["_step"] for r in read_offline_run(path)] == [0, 1]
    torn = bytearray(whole)
    torn[-2] ^= 0xFF  # the last record's bytes written but not yet what its CRC says
    path.write_bytes(bytes(torn))
    assert [r["_step"] for r in read_offline_run(path)] == [0, 1]
