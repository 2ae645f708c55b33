"""audiogym for NeMo-RL's audio GRPO recipes, in the layout its AudioMCQ dataset reads.

`audiogym export --format nemo-rl` writes a folder like the AudioMCQ snapshot NeMo-RL's
`audiomcq` dataset loads (`nemo_rl/data/datasets/response_datasets/audiomcq.py`): `data.jsonl`
with `audio_path` (relative WAV, 16 kHz mono), `question`, `choices`, `answer`,
`audio-contribution` and `source_dataset`, and the clips under `audio/`. NeMo-RL's prompt template
shows only the question and choices, so a transcript is written into the question. Items the
transcript answers (aligned) are marked `weak` audio contribution, the rest `strong`: the
wrapper's filter keeps `strong` rows only. This path follows the published format; nemo-rl does
not install here, so it has not been executed (docs/engines.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def nemo_rl_row(task: Any, audio_path: str) -> dict[str, Any]:
    question = task.question
    if task.transcript:
        question = f"{question}\n{task.transcript_label}: {task.transcript}"
    return {
        "audio_path": audio_path,
        "question": question,
        "choices": list(task.choices),
        "answer": task.answer,
        "audio-contribution": "weak" if task.cue == "aligned" else "strong",
        "source_dataset": f"audiogym/{task.family}",
        "task_id": task.id,
    }


def export_nemo_rl(env_id: str, n: int, seed: int, out: str | Path) -> list[Path]:
    """data.jsonl and audio/*.wav for `n` tasks of `env_id` (audio tasks only)."""
    import soundfile as sf

    from audiogym.evaluation import eval_tasks

    out = Path(out)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    lines = []
    for t in eval_tasks(env_id, None, n=n, seed=seed):
        if not len(t.audio):
            continue
        rel = f"audio/{t.id.replace('/', '_').replace('@', '_')}.wav"
        sf.write(out / rel, t.audio, t.sample_rate, subtype="PCM_16")
        lines.append(json.dumps(nemo_rl_row(t, rel), ensure_ascii=False))
    (out / "data.jsonl").write_text("".join(x + "\n" for x in lines))
    return [out / "data.jsonl", out / "audio"]
