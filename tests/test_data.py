import json

import numpy as np
import pytest

import audiogym
from audiogym import ConfigError, decode_audio, to_dataset


def test_to_dataset_columns_and_determinism():
    ds = to_dataset("audiogym/Mixed-v0", 6, seed=3)
    assert len(ds) == 6
    for col in ("prompt", "audio", "answer", "choices", "facts", "transcript", "conflict", "category", "task_id"):
        assert col in ds.column_names
    assert type(ds.features["audio"]).__name__ == "Audio"
    row = ds[0]
    assert row["prompt"][-1]["role"] == "user" and row["question"] in row["prompt"][-1]["content"]
    task = audiogym.get_family(row["family"]).make(int(row["task_id"].split("-")[-1]))
    np.testing.assert_array_equal(decode_audio(row["audio"]), task.audio)
    assert json.loads(row["facts"]) == task.facts
    again = to_dataset("audiogym/Mixed-v0", 6, seed=3)
    assert again["task_id"] == ds["task_id"]
    assert to_dataset("audiogym/Mixed-v0", 6, seed=4)["task_id"] != ds["task_id"]


def test_to_dataset_text_and_manifest(good_manifest):
    ds = to_dataset("audiogym/TextReasoning-v0", 3)
    assert ds["category"] == ["text"] * 3 and len(decode_audio(ds[0]["audio"])) == 0
    ds = to_dataset("audiogym/Manifest-v0", 2, path=str(good_manifest))
    assert ds["answer"] == ["high", "high"] and len(decode_audio(ds[0]["audio"])) == 32000


def test_to_dataset_rejects_bad_n():
    with pytest.raises(ConfigError):
        to_dataset("audiogym/Tempo-v0", 0)


def test_array_audio_format_reads_as_hf_users_expect():
    import numpy as np

    import audiogym

    ds = audiogym.to_dataset("audiogym/Tempo-v0", 2, audio_format="array", difficulty="hard")
    cell = ds[0]["audio"]
    assert cell["sampling_rate"] == 16000 and len(cell["array"]) == 64000 and ds[0]["difficulty"] == "hard"
    wav = audiogym.to_dataset("audiogym/Tempo-v0", 2, difficulty="hard")[0]["audio"]
    assert np.allclose(audiogym.decode_audio(cell), audiogym.decode_audio(wav))
