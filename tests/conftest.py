import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("WANDB_MODE", "offline")
# `generation.backend: auto` means HF in the suite (subprocesses inherit it): recipe tests keep their
# tables whether or not vLLM is installed; tests/test_vllm.py asks for vLLM by name.
os.environ.setdefault("AUDIOGYM_AUTO_BACKEND", "hf")


def tone(seconds=1.0, sr=16000, freq=440.0, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


@pytest.fixture
def mmau_manifest(tmp_path: Path) -> Path:
    """An MMAU-style manifest: 2 good rows (one 44.1 kHz stereo), then a corrupt wav, a missing
    file, an answer not among the choices, and a row without a question."""
    (tmp_path / "audio").mkdir()
    sf.write(tmp_path / "audio" / "good.wav", tone(), 16000)
    sf.write(tmp_path / "audio" / "stereo.wav", tone(0.5, 44100, channels=2), 44100)
    (tmp_path / "audio" / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    base = {
        "question": "What is heard?",
        "choices": ["a tone", "a dog", "speech"],
        "answer": "a tone",
        "task": "sound",
        "sub-category": "tone",
        "difficulty": "easy",
        "dataset": "test",
    }
    rows = [
        {**base, "id": "good", "audio_id": "audio/good.wav"},
        {**base, "id": "stereo", "audio_id": "audio/stereo.wav", "task": "music"},
        {**base, "id": "corrupt", "audio_id": "audio/corrupt.wav"},
        {**base, "id": "missing", "audio_id": "audio/nowhere.wav"},
        {**base, "id": "badanswer", "audio_id": "audio/good.wav", "answer": "a cat"},
        {k: v for k, v in {**base, "id": "noq", "audio_id": "audio/good.wav"}.items() if k != "question"},
    ]
    path = tmp_path / "mmau.json"
    path.write_text(json.dumps(rows))
    return path


@pytest.fixture
def good_manifest(tmp_path: Path) -> Path:
    sf.write(tmp_path / "a.wav", tone(2.0), 16000)
    rows = [
        {
            "audio": "a.wav",
            "question": "Pitch?",
            "choices": ["low", "high"],
            "answer": "high",
            "category": "music",
            "transcript": "naïve café",
        }
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path
