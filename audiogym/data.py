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


def task_rows(
    tasks: list[AudioTask], show_transcript: bool = True, system: str | None = None, audio_for_text: bool = True
) -> dict[str, list]:
    """Column -> values for trainer rows: `prompt`, `audio` (WAV bytes; for tasks without audio an
    empty WAV, or None with `audio_for_text=False`, which the recipe's collators expect) and the
    reference columns reward functions read."""
    rows: dict[str, list] = {"prompt": [], "audio": []}
    for t in tasks:
        rows["prompt"].append(conversational_prompt(t, system=system, show_transcript=show_transcript))
        rows["audio"].append(encode_audio(t.audio) if audio_for_text or len(t.audio) else None)
        for k, v in t.columns().items():
            rows.setdefault(k, []).append(v)
    return rows


def source_name(env_id: str) -> str:
    """'audiogym/Tempo-v0' (or 'audiogym:audiogym/Tempo-v0', or 'Tempo') -> 'Tempo'."""
    from audiogym.errors import ConfigError

    name = env_id.split(":")[-1]
    if name.startswith("audiogym/"):
        name = name[len("audiogym/") :]
    if name.endswith("-v0"):
        name = name[:-3]
    if "/" in name or not name:
        raise ConfigError(f"unknown environment {env_id!r}; run 'audiogym list' for the ids")
    return name


def to_dataset(
    env_id: Any,
    n: int,
    seed: int = 0,
    show_transcript: bool = True,
    system: str | None = None,
    audio_format: str = "wav",
    **env_kwargs: Any,
):
    """`n` tasks of an environment as a `datasets.Dataset` (same arguments, same rows).

    `audio_format="wav"` (default): an `Audio(decode=False)` column of WAV bytes, compact and what
    the trainers read (`audiogym.decode_audio(row["audio"])` gives the samples). `"array"`: a plain
    struct column, so `ds[0]["audio"]["array"]` and `["sampling_rate"]` work as HF users expect. Why
    not a decoding `Audio` column: datasets 4+ decodes audio with torchcodec, which audiogym does not
    require and whose PyPI build needs CUDA libraries on CPU machines; `cast_column("audio",
    Audio())` works where torchcodec is installed. Family config fields go in `env_kwargs`
    (`difficulty="hard"`) or `config={...}`. `env_id` may also be an environment (any wrapper
    stack over an audiogym env): its task source and config are used."""
    import datasets

    from audiogym.errors import ConfigError
    from audiogym.tasks.sources import make_source, resolve_config, source_tasks

    if n < 1:
        raise ConfigError(f"n={n}: expected at least one row")
    if audio_format not in ("wav", "array"):
        raise ConfigError(f"audio_format={audio_format!r}: expected 'wav' or 'array'")
    config = env_kwargs.pop("config", None)
    source_kwargs = {
        k: env_kwargs.pop(k) for k in ("path", "skip_invalid", "weights", "max_seconds") if k in env_kwargs
    }
    if isinstance(env_id, str):
        source = make_source(source_name(env_id), **source_kwargs)
        task_config = resolve_config(source, config, env_kwargs)
    else:
        inner = getattr(env_id, "unwrapped", env_id)
        if not hasattr(inner, "source"):
            raise ConfigError(f"to_dataset: {type(env_id).__name__} is neither an environment id nor an audiogym env")
        source = inner.source
        task_config = resolve_config(source, config, env_kwargs) if (config or env_kwargs) else inner.config
    tasks = source_tasks(source, n, seed, task_config)
    rows = task_rows(tasks, show_transcript, system)
    if audio_format == "array":
        rows["audio"] = [{"array": t.audio, "sampling_rate": SAMPLE_RATE} for t in tasks]
        return datasets.Dataset.from_dict(rows)
    ds = datasets.Dataset.from_dict(rows)
    return ds.cast_column("audio", datasets.Audio(sampling_rate=SAMPLE_RATE, decode=False))
