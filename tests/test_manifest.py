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
