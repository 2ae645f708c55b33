"""audiogym in verl: parquet files its RL dataset reads, and a reward function its loader calls.

Export (`audiogym export --format verl`) writes `train.parquet` and `test.parquet` with the columns
verl's `RLHFDataset` reads for audio: `prompt` (chat messages whose text holds an `<audio>`
placeholder), the clip under `data.audio_key` (default `audios`: a list with one float32 array,
16 kHz mono; verl hands it to the processor as `audio=`), `data_source`, `ability`,
`reward_model.ground_truth` (the answer) and `extra_info` (what audiogym's rewards read: question,
choices, transcript, facts, cue, conflict, family, category, task_id).

Reward: point verl at this file,

    reward.custom_reward_function.path=<site-packages>/audiogym/integrations/verl.py
    reward.custom_reward_function.name=compute_score
    reward.custom_reward_function.reward_kwargs.reward=mgrd      # or binary, composite_format, grounding, ...

and `compute_score(data_source, solution_str, ground_truth, extra_info)` returns a dict whose
`score` is the configured audiogym reward (the parts beside it), the same value audiogym's own
reward gives the same completion on the same task.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AUDIO_PLACEHOLDER = "<audio>"
ROW_KEYS = (
    "task_id",
    "family",
    "category",
    "skill",
    "difficulty",
    "question",
    "choices",
    "transcript",
    "facts",
    "conflict",
    "cue",
)


def verl_rows(tasks: list[Any], split: str) -> list[dict[str, Any]]:
    """One verl row per task (see the module docstring)."""
    from audiogym.tasks.core import render_prompt

    rows = []
    for i, t in enumerate(tasks):
        cols = t.columns()
        has_audio = len(t.audio) > 0
        text = (AUDIO_PLACEHOLDER if has_audio else "") + render_prompt(t)
        rows.append(
            {
                "data_source": f"audiogym/{t.family or t.category}",
                "prompt": [{"role": "user", "content": text}],
                "audios": [t.audio.astype("float32")] if has_audio else [],
                "ability": "audio" if has_audio else "text",
                "reward_model": {"style": "rule", "ground_truth": t.answer},
                "extra_info": {"index": i, "split": split, **{k: cols[k] for k in ROW_KEYS}},
            }
        )
    return rows


def export_verl(env_id: str, n_train: int, n_test: int, seed: int, out: str | Path) -> list[Path]:
    """train.parquet and test.parquet of `env_id`'s tasks (test from a seed the train seed cannot name)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from audiogym.evaluation import eval_tasks

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    test_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0] >> 1)
    paths = []
    for split, n, s in (("train", n_train, seed), ("test", n_test, test_seed)):
        frame = pd.DataFrame(verl_rows(eval_tasks(env_id, None, n=n, seed=s), split))
        # the clip as list<float32> (exact samples, not float64): what verl hands the processor
        table = pa.Table.from_pandas(frame, preserve_index=False)
        audio_type = pa.list_(pa.list_(pa.float32()))
        table = table.set_column(
            table.schema.get_field_index("audios"), "audios", table.column("audios").cast(audio_type)
        )
        path = out / f"{split}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


def _row(ground_truth: Any, extra_info: dict[str, Any] | None) -> dict[str, Any]:
    info = dict(extra_info or {})
    choices = info.get("choices")
    if choices is not None and not isinstance(choices, list):
        choices = list(choices)  # parquet readers hand back arrays
    facts = info.get("facts") or "{}"
    return {
        **{k: info.get(k) for k in ROW_KEYS},
        "choices": choices or [],
        "facts": facts if isinstance(facts, str) else json.dumps(facts),
        "answer": str(ground_truth),
    }


_REWARDS: dict[str, Any] = {}


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
    reward: Any = "mgrd",
    **_: Any,
) -> dict[str, Any]:
    """verl's custom reward signature: the audiogym reward `reward` (a name or a spec, as in
    `audiogym.rewards.build_reward`; `mgrd` is eq. 8) of `solution_str` on the exported task."""
    from audiogym.rewards import build_reward, mgrd_reward

    key = json.dumps(reward, sort_keys=True)
    if key not in _REWARDS:
        _REWARDS[key] = mgrd_reward() if reward == "mgrd" else build_reward(reward)
    fn = _REWARDS[key]
    value, details = fn.score(solution_str, _row(ground_truth, extra_info))
    out: dict[str, Any] = {"score": float(value or 0.0)}
    for k, v in (details or {}).items():
        if isinstance(v, (bool, int, float)):
            out[k] = float(v)
    return out
