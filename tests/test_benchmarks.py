"""Benchmarks scored as their authors score them: MMAU test-mini rows (a sample of the public file,
with its repeated-choice rows and 2/4/5/8-choice rows, and rows stripped of `category`), MMAR's meta
rows, an MMAU-Pro parquet; the official rule checked against an implementation written here from
MMAU's published description, on completions phrased unlike anything in audiogym."""

import itertools
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiogym.cli import main
from audiogym.evaluation import evaluate_manifest
from audiogym.policies.base import Generation
from audiogym.tasks.manifest import Manifest

FIXTURES = Path(__file__).parent / "fixtures"


def reference_rule(answer: str, prediction: str, choices: list[str]) -> bool:
    """MMAU's published rule, written from its description: lower-case word sets; right when the
    answer's words are all in the prediction and the prediction holds no word that only a wrong
    choice has; an empty prediction is wrong."""

    def words(s: str) -> set[str]:
        return {w for w in re.split(r"\W+", s.lower()) if w}

    said, right = words(prediction), words(answer)
    if not said:
        return False
    only_wrong = set().union(*[words(c) - right for c in choices if words(c) != right] or [set()])
    return right.issubset(said) and not (said & only_wrong)


def with_audio(tmp_path: Path, fixture: str, key: str) -> Path:
    """The fixture beside placeholder clips at the paths its rows name."""
    dst = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, dst)
    text = dst.read_text()
    rows = [json.loads(x) for x in text.splitlines()] if fixture.endswith(".jsonl") else json.loads(text)
    rng = np.random.default_rng(0)
    for r in rows:
        clip = tmp_path / r[key]
        clip.parent.mkdir(parents=True, exist_ok=True)
        sf.write(clip, 0.1 * rng.standard_normal(8000).astype(np.float32), 16000)
    return dst


class PhrasingPolicy:
    """Answers in many phrasings: think blocks naming other options, letters, option text, Chinese,
    extra words, wrong answers, nothing."""

    name = "phrasings"

    def __init__(self):
        self.turn = itertools.count()

    def generate(self, tasks, num_samples=1, **_):
        out = []
        for t in tasks:
            i = next(self.turn)
            letter = "ABCDEFGH"[t.choices.index(t.answer)]
            wrong = next((c for c in t.choices if c != t.answer), t.answer)
            texts = [
                f"<think>\nIt could be {wrong}, but the sound says {t.answer}.\n</think>\nThe answer is {t.answer}.",
                f"({letter})",
                f"答案是 {letter}",
                f"I'd say it's {t.answer}, definitely, no doubt about it.",
                t.answer,
                f"<think>\nhmm\n</think>\nThe answer is {wrong}.",
                "",
                f"答案：{t.answer}",
                f"Option {letter}: {t.answer}",
            ]
            out.append([Generation(texts[i % len(texts)], 10)])
        return out


def test_mmau_test_mini_rows_are_all_scored_with_the_task_table_and_official_predictions(tmp_path):
    manifest = with_audio(tmp_path, "mmau_test_mini_sample.json", "audio_id")
    m = Manifest(manifest, skip_invalid=True)
    rows = json.loads(manifest.read_text())
    assert len(m) == len(rows) == 37 and not m.skipped and m.benchmark.name == "MMAU"
    repeated = sum(len(set(r["choices"])) != len(r["choices"]) for r in rows)
    assert repeated >= 3 and m.repeated_choices == repeated and any("repeated choices" in n for n in m.notes)
    report = evaluate_manifest(PhrasingPolicy(), m, progress=False)
    s = report.summary()
    assert s["n"] == 37 and s["scope"] == "all 37 rows"
    assert set(s["breakdowns"]["task"]) == {"sound", "music", "speech"}
    assert s["breakdowns"]["category"]["(none)"]["n"] == 3  # rows without a category still count
    assert sum(v["n"] for v in s["breakdowns"]["difficulty"].values()) == 37
    # the whole output under MMAU's key, scored by the rule written above, gives eval's raw figure
    from audiogym.benchmarks import MMAU, write_predictions

    preds = write_predictions(
        tmp_path / "preds.json", MMAU, [r.record for r in m.rows], [i.completion for i in report.items]
    )
    scored = json.loads(preds.read_text())
    raw = np.mean([reference_rule(x["answer"], x["model_output"], x["choices"]) for x in scored])
    assert s["official_raw_accuracy"] == pytest.approx(raw)
    extracted = np.mean(
        [reference_rule(x["answer"], x["model_output"].rsplit("</think>", 1)[-1], x["choices"]) for x in scored]
    )
    assert s["mmau_accuracy"] == pytest.approx(extracted)
    assert s["mmau_accuracy"] > s["official_raw_accuracy"]  # a chain that weighs the options fails on raw output
    md = report.markdown()
    assert "| task | n |" in md and "extracted final answer" in md and "whole output" in md


def test_the_eval_command_on_mmau_scores_every_row_and_writes_the_official_format(tmp_path, capsys):
    manifest = with_audio(tmp_path, "mmau_test_mini_sample.json", "audio_id")
    out, preds = tmp_path / "eval", tmp_path / "preds.json"
    assert (
        main(
            ["eval", "--manifest", str(manifest), "--policy", "random", "--out", str(out), "--predictions", str(preds)]
        )
        == 0
    )
    summary = json.loads((out / "eval.json").read_text())["summary"]
    assert summary["n"] == 37 and summary["benchmark"] == "MMAU"
    scored = json.loads(preds.read_text())
    assert len(scored) == 37 and all("model_output" in x for x in scored)
    raw = np.mean([reference_rule(x["answer"], x["model_output"], x["choices"]) for x in scored])
    assert summary["official_raw_accuracy"] == pytest.approx(raw)
    assert (out / "eval_task.png").is_file() and (out / "eval_difficulty.png").is_file()
    assert (
        main(["eval", "--manifest", str(manifest), "--policy", "random", "--out", str(tmp_path / "e2"), "--n", "5"])
        == 0
    )
    part = json.loads((tmp_path / "e2" / "eval.json").read_text())["summary"]
    assert part["n"] == 5 and part["scope"] == "the first 5 of 37 rows (--n 5)"
    capsys.readouterr()
    assert main(["eval", "--env", "audiogym/Tempo-v0", "--predictions", str(preds), "--out", str(tmp_path / "e3")]) == 2
    assert "needs --manifest" in capsys.readouterr().err
    assert main(["eval", "--manifest", str(manifest), "--n", "0", "--out", str(tmp_path / "e4")]) == 2


def test_mmar_rows_load_with_modality_and_layer_breakdowns(tmp_path):
    manifest = with_audio(tmp_path, "mmar_meta_sample.jsonl", "audio_path")
    m = Manifest(manifest)
    assert m.benchmark.name == "MMAR" and len(m) == 14
    s = evaluate_manifest(PhrasingPolicy(), m, progress=False).summary()
    assert {"modality", "category", "sub-category"} <= set(s["breakdowns"])
    assert "mix-sound-speech" in s["breakdowns"]["modality"] and "Semantic Layer" in s["breakdowns"]["category"]
    from audiogym.benchmarks import MMAR, write_predictions

    out = write_predictions(tmp_path / "p.jsonl", MMAR, [r.record for r in m.rows], ["x"] * len(m))
    assert all("answer_prediction" in json.loads(x) for x in out.read_text().splitlines())


def test_mmau_pro_parquet_loads_its_mcq_rows_and_counts_the_rest(tmp_path):
    pd = pytest.importorskip("pandas")
    sf.write(tmp_path / "a.wav", np.zeros(1600, np.float32), 16000)
    mcq = {"question": "Which instrument?", "choices": ["piano", "violin"], "answer": "piano"}
    rows = [
        {"id": "1", "audio_path": ["a.wav"], "category": "sound", **mcq},
        {"id": "2", "audio_path": ["a.wav"], "category": "music", **mcq},
        {"id": "3", "audio_path": ["a.wav", "a.wav"], "category": "multi", **mcq},
        {
            "id": "4",
            "audio_path": ["a.wav"],
            "category": "open",
            "question": "Describe it.",
            "choices": None,
            "answer": "a piano",
        },
        {
            "id": "5",
            "audio_path": ["a.wav"],
            "category": "instruction following",
            "question": "Say hi.",
            "choices": None,
            "answer": "hi",
        },
    ]
    path = tmp_path / "test.parquet"
    pd.DataFrame(rows).to_parquet(path)
    m = Manifest(path)
    assert m.benchmark.name == "MMAU-Pro" and len(m) == 2
    assert m.unsupported == {
        "multi-audio": 1,
        "open (not multiple choice)": 1,
        "instruction following (not multiple choice)": 1,
    }
    report = evaluate_manifest(PhrasingPolicy(), m, progress=False)
    assert "NV-Embed" in report.markdown() and "multi-audio: 1" in report.markdown()
    # a file of nothing but unsupported rows is one clear error
    pd.DataFrame(rows[3:]).to_parquet(tmp_path / "open.parquet")
    from audiogym.errors import ManifestError

    with pytest.raises(ManifestError, match="no usable rows"):
        Manifest(tmp_path / "open.parquet")


def test_select_puts_transcript_answerable_items_in_weak_and_the_rest_in_strong(tmp_path):
    """With the transcript reader: every aligned item is weak, every conflict and audio-only item
    strong, and an independent item weak exactly when its transcript happens to name the answer."""
    from audiogym.policies import TranscriptPolicy
    from audiogym.selection import select, write_selection
    from audiogym.tasks import FAMILIES
    from audiogym.tasks.sources import make_cue_mix

    tasks = make_cue_mix(["Meter", "VoicePitch"], 24, seed=3, shares={"mixed": 0.5, "independent": 0.25, "none": 0.25})
    result = select(TranscriptPolicy(), tasks, samples=2, progress=False)
    weak = {r["id"]: r["weak"] for r in result.items}
    for t in tasks:
        names_answer = bool(t.transcript) and FAMILIES[t.family].transcript_answer(t) == t.answer
        assert weak[t.id] == names_answer, (t.id, t.cue)
    assert all(weak[t.id] for t in tasks if t.cue == "aligned")
    assert not any(weak[t.id] for t in tasks if t.cue in ("conflict", "none"))
    files = write_selection(result, tasks, tmp_path / "sel")
    strong = [json.loads(x) for x in (tmp_path / "sel" / "strong.jsonl").read_text().splitlines()]
    assert len(strong) == sum(not w for w in weak.values()) and all(Path(r["audio"]).is_file() for r in strong)
    assert Manifest(tmp_path / "sel" / "strong.jsonl").rows  # a loadable manifest
    assert "weak share" in (tmp_path / "sel" / "select.md").read_text() and len(files) == 4


def test_select_on_a_benchmark_keeps_its_rows_and_bad_input_is_one_line(tmp_path, capsys):
    manifest = with_audio(tmp_path, "mmau_test_mini_sample.json", "audio_id")
    out = tmp_path / "sel"
    assert main(["select", "--manifest", str(manifest), "--policy", "random", "--samples", "2", "--out", str(out)]) == 0
    rows = [json.loads(x) for f in ("strong.jsonl", "weak.jsonl") for x in (out / f).read_text().splitlines()]
    assert len(rows) == 37 and all(Path(r["audio_id"]).is_absolute() and "task" in r for r in rows)
    summary = json.loads((out / "select.json").read_text())["summary"]
    assert set(summary["accuracy"]) == {"audio", "silence", "noise", "text"} and summary["n"] == 37
    capsys.readouterr()
    for argv in (
        ["select", "--manifest", str(tmp_path / "missing.json"), "--out", str(tmp_path / "a")],
        ["select", "--manifest", str(manifest), "--policy", "no-such-policy", "--out", str(tmp_path / "b")],
        ["select", "--manifest", str(manifest), "--threshold", "2", "--out", str(tmp_path / "c")],
        ["select", "--manifest", str(manifest), "--n", "0", "--out", str(tmp_path / "d")],  # not "all rows"
        ["select", "--manifest", str(manifest), "--out", str(out)],  # already holds a selection
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "Traceback" not in err[0], err
