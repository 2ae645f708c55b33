import json
import subprocess
import sys

from audiogym.cli import main


def test_list_prints_every_env(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "audiogym/ChordMood-v0" in out and "audiogym/Manifest-v0" in out and len(out.splitlines()) >= 15


def test_show_writes_wav_png_json(tmp_path, capsys):
    assert main(["show", "audiogym/ChordMood-v0", "--seed", "1", "--out", str(tmp_path)]) == 0
    names = sorted(p.suffix for p in tmp_path.iterdir())
    assert names == [".json", ".png", ".wav"]
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert meta["answer"] in meta["choices"] and meta["facts"]["chord_quality"]
    assert next(tmp_path.glob("*.png")).read_bytes()[:4] == b"\x89PNG"


def test_user_errors_are_one_line_and_exit_2(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "audiogym.cli", "show", "audiogym/Nope-v0"], capture_output=True, text=True
    )
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "unknown environment" in r.stderr
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiogym.cli",
            "show",
            "audiogym/Manifest-v0",
            "--path",
            str(tmp_path / "missing.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "not found" in r.stderr


def test_demo_answers_every_family(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "audiogym/TextReasoning-v0" in out and "mean reward" in out
    assert len(list(tmp_path.glob("*.png"))) == 12


def test_compare_leads_with_seed_level_statistics_then_the_item_pooled_lines(tmp_path, capsys):
    from scipy import stats

    runs = {"seed0": (6, 1), "seed1": (2, 3), "seed2": (5, 0)}
    for name, (g, lost) in runs.items():
        (tmp_path / name).mkdir()
        change = {
            "n": 20,
            "before": 0.4,
            "after": 0.4 + (g - lost) / 20,
            "gained": g,
            "lost": lost,
            "p_value": 0.5,
            "line": f"Conflict items, cold_start_rlvr -> round1_rl: {name}",
        }
        (tmp_path / name / "table.json").write_text(json.dumps({"rows": [], "conflict_change": change}))
    paths = [str(tmp_path / n) for n in runs]
    assert main(["compare", *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Seed level (3 runs; the unit is the run, intervals over runs):"
    diffs = [(g - lost) / 20 for g, lost in runs.values()]  # +0.25, -0.05, +0.25
    lo, hi = stats.t.interval(0.95, 2, loc=sum(diffs) / 3, scale=stats.sem(diffs))
    assert out[1] == (
        f"  Conflict accuracy, cold start -> last round: per seed +25.0 -5.0 +25.0 points; mean +15.0, "
        f"95% interval [{lo * 100:+.1f}, {hi * 100:+.1f}] (t), [-5.0, +25.0] (bootstrap), "
        f"t-test p = {stats.ttest_1samp(diffs, 0).pvalue:.3g}; 2 of 3 seeds up, 1 down"
    )
    assert out[2].startswith("Secondary: item-level")
    assert out[3].endswith("round1_rl: seed0") and out[5].endswith("round1_rl: seed2")
    assert (
        out[6] == "  Conflict items, 3 runs pooled: 0.400 -> 0.550 (13 gained, 4 lost of 60; exact sign test p = 0.049)"
    )
    # with each round's RL stage and the self-cognition path recorded, they are listed too
    for name, (g, lost) in zip(runs, [(3, 0), (1, 2), (2, 2)]):
        table = json.loads((tmp_path / name / "table.json").read_text())
        table["rl_changes"] = {
            stage: {
                "n": 20,
                "before": 0.4,
                "after": 0.4 + (g - lost) / 20,
                "gained": g,
                "lost": lost,
                "p_value": 1.0,
                "line": "x",
            }
            for stage in ("round1_rl", "round2_rl")
        }
        table["self_cognition"] = {"cold_start": 0.9, "rounds": 0.5, "dpo": 0.0}
        (tmp_path / name / "table.json").write_text(json.dumps(table))
    assert main(["compare", *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("  Conflict accuracy, round1_rl (before -> after): per seed +15.0 -5.0 +0.0 points")
    assert out[2].endswith("1 of 3 seeds up, 1 down")
    assert out[4].startswith("  Conflict accuracy, mean over the RL stages of a run: per seed +15.0 -5.0 +0.0")
    assert any(
        x.startswith("  Conflict items, round1_rl (before -> after the stage), 3 runs pooled: 0.400 -> 0.433")
        for x in out[5:]
    )
    assert out[-1].endswith("seed2: self-cognition error cold start 0.900, rounds 0.500, dpo 0.000")
    # where the stage rows carry them, each RL stage is read on listen and aligned items too
    for name, listen in zip(runs, [0.05, -0.025, 0.0]):
        table = json.loads((tmp_path / name / "table.json").read_text())
        table["rows"] = [
            {"stage": "round1_distill", "kind": "sft", "round": 1, "accuracy_listen": 0.8, "accuracy_aligned": 0.9},
            {"stage": "round1_rl", "kind": "rl", "round": 1, "accuracy_listen": 0.8 + listen, "accuracy_aligned": 0.9},
        ]
        (tmp_path / name / "table.json").write_text(json.dumps(table))
    assert main(["compare", *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3].startswith("  Listen accuracy, round1_rl (before -> after): per seed +5.0 -2.5 +0.0 points")
    assert out[4].startswith("  Aligned accuracy, round1_rl (before -> after): per seed +0.0 +0.0 +0.0 points")
    assert out[5].startswith("  Conflict accuracy, round2_rl") and not out[6].startswith("  Listen")  # no rows for it
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "table.json").write_text("{not json")
    for bad in ("broken", "missing"):
        assert main(["compare", str(tmp_path / "seed0"), str(tmp_path / bad)]) == 2
        assert f"{bad}: no finished recipe" in capsys.readouterr().err


def test_eval_on_a_hostile_manifest_records_skips_breakdowns_and_warnings(tmp_path, capsys):
    import json

    import numpy as np
    import soundfile as sf

    y = (0.3 * np.sin(np.arange(8000) * 0.05)).astype(np.float32)
    sf.write(str(tmp_path / "ok.wav"), y, 16000, subtype="FLOAT")
    bad = y.copy()
    bad[5] = np.nan
    sf.write(str(tmp_path / "nan.wav"), bad, 16000, subtype="FLOAT")
    rows = [
        {
            "id": "a",
            "audio_id": "ok.wav",
            "question": "Which?",
            "choices": ["x", "y"],
            "answer": "y",
            "task": "sound",
            "sub-category": "counting",
            "difficulty": "easy",
        },
        {
            "id": "a",
            "audio_id": "ok.wav",
            "question": "Which?",
            "choices": ["x", "y"],
            "answer": 0,
            "task": "music",
            "sub-category": "tempo",
            "difficulty": "hard",
        },
        {"id": "n", "audio_id": "nan.wav", "question": "Which?", "choices": ["x", "y"], "answer": "x"},
        {
            "id": "m",
            "audio_id": "ok.wav",
            "question": "Which?",
            "choices": [f"c{i}" for i in range(30)],
            "answer": "c1",
        },
    ]
    manifest = tmp_path / "mmau.json"
    manifest.write_bytes(b"\xef\xbb\xbf" + json.dumps(rows).encode())
    out = tmp_path / "eval"
    assert main(["eval", "--manifest", str(manifest), "--policy", "oracle", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipped 2 invalid rows" in printed and "cannot answer 2 of 2 items" in printed
    report = json.loads((out / "eval.json").read_text())
    assert len(report["skipped"]) == 3  # two invalid rows and the note on the renamed repeated id
    assert report["summary"]["n"] == 2 and set(report["summary"]["by_category"]) == {"sound", "music"}
    assert set(report["summary"]["by_skill"]) == {"counting", "tempo"} and "mmau_accuracy" in report["summary"]
    md = (out / "eval.md").read_text()
    assert "| task | n |" in md and "| sub-category | n |" in md and "Skipped input rows (3)" in md
    # an existing eval is not overwritten silently
    assert main(["eval", "--manifest", str(manifest), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["eval", "--manifest", str(manifest), "--out", str(out), "--force"]) == 0


def test_mmau_string_match_rule():
    from audiogym.benchmarks import official_match as mmau_string_match

    choices = ["Man", "Woman", "Child", "Robot"]
    assert mmau_string_match("Woman", "The speaker is a woman.", choices)
    assert not mmau_string_match("Woman", "A man or a woman.", choices)
    assert not mmau_string_match("Woman", "(B)", choices)  # letters are not words of the answer
    assert mmau_string_match("Dog barking", "I hear a dog barking", ["Dog barking", "Cat meowing"])


def test_compare_rounds_reads_each_rounds_model_against_the_cold_start(tmp_path, capsys):
    def item(i, correct):
        return {"task_id": f"t{i}", "category": "music", "conflict": True, "correct": correct}

    # 10 conflict items; the cold start gets 2 right, round 1 six, round 2 five (one lost, none gained)
    right = {"cold_start_rlvr": {0, 1}, "round1_rl": {0, 1, 2, 3, 4, 5}, "round2_rl": {0, 1, 2, 3, 4}}
    for run in ("seed0", "seed1"):
        where = {"cold_start_rlvr": (0, "cold_start"), "round1_rl": (1, "round"), "round2_rl": (2, "round")}
        rows = [
            {"stage": "baseline: transcript", "kind": "baseline", "baseline": "transcript", "accuracy_conflict": 0.0}
        ]
        rows += [{"stage": s, "kind": s.split("_")[-1], "round": where[s][0], "phase": where[s][1]} for s in right]
        change = {"n": 10, "before": 0.2, "after": 0.5, "gained": 3, "lost": 0, "p_value": 0.25, "line": "x"}
        (tmp_path / run).mkdir()
        (tmp_path / run / "table.json").write_text(json.dumps({"rows": rows, "conflict_change": change}))
        for stage, ok in right.items():
            (tmp_path / run / stage / "eval").mkdir(parents=True)
            (tmp_path / run / stage / "eval" / "eval.json").write_text(
                json.dumps({"items": [item(i, i in ok) for i in range(10)]})
            )
    png = tmp_path / "rounds.png"
    assert main(["compare", str(tmp_path / "seed0"), str(tmp_path / "seed1"), "--rounds", str(png)]) == 0
    out = [line for line in capsys.readouterr().out.splitlines() if "T=" in line]
    assert out[1].startswith(
        "Conflict items, cold start -> T=1 rounds, 2 runs pooled: 0.200 -> 0.600 (8 gained, 0 lost of 20"
    )
    assert out[1].endswith("gap over the transcript baseline (0.000): +0.600")
    assert out[4].strip().startswith("Conflict items, T=1 -> T=2: 0.600 -> 0.500 (0 gained, 2 lost of 20")
    assert png.read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "seed1" / "round2_rl" / "eval" / "eval.json").unlink()
    assert main(["compare", str(tmp_path / "seed0"), str(tmp_path / "seed1"), "--rounds", str(png)]) == 2
    assert "seed1: a stage's held-out evaluation cannot be read" in capsys.readouterr().err
