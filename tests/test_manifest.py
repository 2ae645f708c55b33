import json

import numpy as np
import pytest

from audiogym import ManifestError
from audiogym.tasks.manifest import Manifest, load_audio


def test_bad_rows_raise_naming_file_row_and_field(mmau_manifest):
    with pytest.raises(ManifestError) as e:
        Manifest(mmau_manifest)
    msg = str(e.value)
    assert str(mmau_manifest) in msg and "row 3" in msg and "'audio_id'" in msg and "cannot read audio" in msg


def test_skip_invalid_loads_the_rest_and_reports_every_skip(mmau_manifest):
    m = Manifest(mmau_manifest, skip_invalid=True)
    assert [r.id for r in m.rows] == ["good", "stereo"]
    reasons = dict(m.skipped)
    assert set(reasons) == {3, 4, 5, 6}
    assert "cannot read audio" in reasons[3]
    assert "not found" in reasons[4]
    assert "'answer'" in reasons[5] and "not among the choices" in reasons[5]
    assert "'question'" in reasons[6]
    report = m.report()
    assert "loaded 2 rows, skipped 4" in report and report.count("row ") == 4


def test_audio_is_resampled_to_16k_mono(mmau_manifest):
    m = Manifest(mmau_manifest, skip_invalid=True)
    t = m.task(1)  # 0.5 s of 44.1 kHz stereo
    assert t.audio.ndim == 1 and len(t.audio) == 8000 and t.audio.dtype == np.float32
    assert t.category == "music" and t.answer == "a tone" and t.skill == "tone"
    assert m.make(3).id == m.task(1).id  # seeds wrap around the rows


def test_bad_json_and_wrong_layout(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('[{"audio": "a.wav",')
    with pytest.raises(ManifestError, match="not valid JSON"):
        Manifest(p)
    p.write_text('{"rows": 3}')
    with pytest.raises(ManifestError, match="JSON list"):
        Manifest(p)
    with pytest.raises(ManifestError, match="not found"):
        Manifest(tmp_path / "absent.json")


def test_jsonl_bad_line_is_named_and_skippable(good_manifest):
    text = good_manifest.read_text() + "{not json\n" + json.dumps(["a", "list"]) + "\n"
    good_manifest.write_text(text)
    with pytest.raises(ManifestError, match="row 2.*not valid JSON"):
        Manifest(good_manifest)
    m = Manifest(good_manifest, skip_invalid=True)
    assert len(m) == 1 and [r for r, _ in m.skipped] == [2, 3]


def test_nothing_usable_is_an_error(mmau_manifest):
    rows = json.loads(mmau_manifest.read_text())[2:4]
    mmau_manifest.write_text(json.dumps(rows))
    with pytest.raises(ManifestError, match="no usable rows"):
        Manifest(mmau_manifest, skip_invalid=True)


def test_load_audio_errors(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"not audio at all")
    from audiogym.errors import AudioError

    with pytest.raises(AudioError, match="cannot read audio"):
        load_audio(tmp_path / "x.wav")
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "y.wav")


def _wav(path, seconds=0.5, sr=16000, value=None):
    import soundfile as sf

    y = np.sin(np.arange(int(seconds * sr)) * 0.05).astype(np.float32) * 0.3
    if value is not None:
        y[10] = value
    sf.write(str(path), y, sr, subtype="FLOAT")
    return path.name


def test_hostile_manifest_rows_load_or_skip_as_documented(tmp_path):
    """NaN / Inf audio, a repeated id, 30 choices, a byte-order mark and index answers."""
    rows = [
        {"id": "ok", "audio_id": _wav(tmp_path / "ok.wav"), "question": "q?", "choices": ["a", "b"], "answer": "b"},
        {
            "id": "nan",
            "audio_id": _wav(tmp_path / "nan.wav", value=np.nan),
            "question": "q?",
            "choices": ["a", "b"],
            "answer": "a",
        },
        {
            "id": "inf",
            "audio_id": _wav(tmp_path / "inf.wav", value=np.inf),
            "question": "q?",
            "choices": ["a", "b"],
            "answer": "a",
        },
        {"id": "ok", "audio_id": "ok.wav", "question": "again?", "choices": ["a", "b"], "answer": 0},
        {"id": "many", "audio_id": "ok.wav", "question": "q?", "choices": [f"c{i}" for i in range(30)], "answer": "c3"},
        {"id": "index", "audio_id": "ok.wav", "question": "q?", "choices": ["x", "y", "z"], "answer": 2},
        {"id": "badindex", "audio_id": "ok.wav", "question": "q?", "choices": ["x", "y"], "answer": 5},
    ]
    p = tmp_path / "hostile.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(rows).encode())  # with a UTF-8 byte-order mark
    m = Manifest(p, skip_invalid=True)
    assert [r.id for r in m.rows] == ["ok", "ok#4", "index"]
    assert [r.answer for r in m.rows] == ["b", "a", "z"]  # integer answers are 0-based indices
    reasons = dict(m.skipped)
    assert set(reasons) == {2, 3, 5, 7}
    assert "NaN or infinite" in reasons[2] and "NaN or infinite" in reasons[3]
    assert "at most 26" in reasons[5] and "outside the 2 choices" in reasons[7]
    assert any("repeats an earlier row" in n for n in m.notes) and "note:" in m.report()
    with pytest.raises(ManifestError, match="row 2"):
        Manifest(p)


def test_long_clips_are_read_up_to_the_cap_and_paths_can_be_confined(tmp_path):
    (tmp_path / "inner").mkdir()
    _wav(tmp_path / "long.wav", seconds=40)
    p = tmp_path / "inner" / "m.jsonl"
    p.write_text(json.dumps({"audio": "../long.wav", "question": "q?", "choices": ["a", "b"], "answer": "a"}) + "\n")
    assert len(Manifest(p).task(0).audio) == 30 * 16000
    assert len(Manifest(p, max_seconds=None).task(0).audio) == 40 * 16000
    with pytest.raises(ManifestError, match="outside the manifest's folder"):
        Manifest(p, confine=True)
