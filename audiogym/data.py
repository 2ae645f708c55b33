"""Tasks as `datasets.Dataset` rows for TRL trainers.

Columns: `prompt` (TRL's conversational format), `audio` (a datasets Audio column holding 16 kHz
float WAV bytes; decode it with `decode_audio`), and the reference columns reward functions
receive: task_id, family, category, skill, difficulty, question, choices, answer, transcript,
facts (JSON text), conflict.

The Audio column is stored undecoded (`decode=False`): datasets' own audio codec needs torchcodec
and FFmpeg, which audiogym does not require; soundfile reads the bytes.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile as sf

from audiogym.tasks.core import SAMPLE_RATE, AudioTask, conversational_prompt


def encode_audio(audio: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, Any]:
    buf = io.BytesIO()
    sf.write(buf, np.asarray(audio, np.float32), sr, format="WAV", subtype="FLOAT")
    return {"bytes": buf.getvalue(), "path": ""}


def decode_audio(value: Any) -> np.ndarray:
    """Mono float32 samples from an Audio cell ({"bytes"} or {"array"}) or an array."""
    if isinstance(value, dict):
        if value.get("array") is not None:
            return np.asarray(value["array"], np.float32)
        if value.get("bytes"):
            data, _ = sf.read(io.BytesIO(value["bytes"]), dtype="float32")
            return data if data.ndim == 1 else data.mean(axis=1)
        if value.get("path"):
            from audiogym.tasks.manifest import load_audio
            return load_audio(value["path"])
        return np.zeros(0, np.float32)
    return np.asarray(value, np.float32)


def task_seeds(n: int, seed: int) -> list[int]:
    """n distinct task seeds drawn from `seed` (the same n and seed give the same list)."""
    rng = np.random.default_rng(seed)
    seen: dict[int, None] = {}
    while len(seen) < n:
        for s in rng.integers(0, 2**31 - 1, size=n - len(seen)):
            seen.setdefault(int(s))
    return list(seen)


def task_rows(tasks: list[AudioTask], show_transcript: bool = True, system: str | None = None) -> dict[str, list]:
    rows: dict[str, list] = {"prompt": [], "audio": []}
    for t in tasks:
        rows["prompt"].append(conversational_prompt(t, system=system, show_transcript=show_transcript))
        rows["audio"].append(encode_audio(t.audio))
        for k, v in t.columns().items():
            rows.setdefault(k, []).append(v)
    return rows


def to_dataset(env_id: str, n: int, seed: int = 0, show_transcript: bool = True, system: str | None = None,
               **env_kwargs: Any):
    """`n` tasks of an environment as a `datasets.Dataset` (same arguments, same rows)."""
    import datasets
    import gymnasium as gym

    from audiogym.errors import ConfigError

    if n < 1:
        raise ConfigError(f"n={n}: expected at least one row")
    env = gym.make(env_id, **env_kwargs).unwrapped
    tasks = [env.source.make(s, env.config) if env.config is not None else env.source.make(s)
             for s in task_seeds(n, seed)]
    ds = datasets.Dataset.from_dict(task_rows(tasks, show_transcript, system))
    return ds.cast_column("audio", datasets.Audio(sampling_rate=SAMPLE_RATE, decode=False))
