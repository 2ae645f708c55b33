"""verl, for real, in its own virtualenv (scripts/verl_env.sh; CI builds it): verl's RLHFDataset
loads audiogym's exported parquet with the tiny Qwen2-Audio processor and yields audio features;
verl's reward loader calls audiogym's compute_score and gets audiogym's own reward."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("AUDIOGYM_VERL_VENV", ROOT / ".venvs" / "verl"))
pytestmark = [
    pytest.mark.verl,
    pytest.mark.skipif(
        not (VENV / "bin" / "python").exists(), reason=f"no verl virtualenv at {VENV}: run scripts/verl_env.sh"
    ),
]


def test_verl_loads_the_export_and_scores_like_audiogym(tmp_path):
    from audiogym.evaluation import eval_tasks
    from audiogym.integrations.verl import export_verl
    from audiogym.policies import OraclePolicy, RandomPolicy, TranscriptPolicy
    from audiogym.policies.audio_lm import build_tiny_model
    from audiogym.rewards import mgrd_reward, task_row

    train, _ = export_verl("audiogym/Mixed-v0", 12, 2, 7, tmp_path / "data")
    tasks = eval_tasks("audiogym/Mixed-v0", None, n=12, seed=7)
    frame = pd.read_parquet(train)
    # the round trip: the same clips, sample for sample, and the same reference columns
    for (_, row), t in zip(frame.iterrows(), tasks):
        clip = np.asarray(row["audios"][0], dtype=np.float32) if len(row["audios"]) else np.zeros(0, np.float32)
        assert clip.tobytes() == t.audio.astype(np.float32).tobytes()
        assert row["reward_model"]["ground_truth"] == t.answer and row["extra_info"]["task_id"] == t.id
    completions = [[p().act(t) for p in (OraclePolicy, TranscriptPolicy, RandomPolicy)] for t in tasks]
    (tmp_path / "c.json").write_text(json.dumps(completions))
    build_tiny_model(tmp_path / "model")
    out = tmp_path / "o.json"
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            str(ROOT / "tests" / "verl_check.py"),
            "--parquet",
            str(train),
            "--processor",
            str(tmp_path / "model"),
            "--reward-file",
            str(ROOT / "audiogym" / "integrations" / "verl.py"),
            "--completions",
            str(tmp_path / "c.json"),
            "--out",
            str(out),
        ],
        check=True,
        timeout=600,
        cwd=tmp_path,
        capture_output=True,
    )
    seen = json.loads(out.read_text())
    assert seen["rows"] == 12 and seen["audio_items"] == 1 and seen["audio_samples"] == len(tasks[0].audio)
    assert (
        seen["input_features_shape"][:2] == [1, 128]
        and seen["input_features_nonzero"]
        and seen["audio_placeholders"] > 0
    )
    reward = mgrd_reward()
    ours = [[reward.score(c, task_row(t))[0] for c in cs] for t, cs in zip(tasks, completions)]
    assert np.allclose(seen["scores"], ours), (seen["scores"], ours)
    assert len({round(x, 3) for row in ours for x in row}) > 1  # the completions score differently
