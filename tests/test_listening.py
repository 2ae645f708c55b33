"""Listening measured so it cannot be faked: independent and audio-only items, where every deaf
policy scores chance; the contrarian baseline; the listening index; the dev/test split; seeds that
share no stream."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audiogym.evaluation import ItemResult, evaluate, listening_index
from audiogym.policies import ContrarianPolicy, TranscriptPolicy
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES
from audiogym.tasks.sources import make_cue_mix, make_tasks, task_from_id

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("family", AUDIO_FAMILIES)
def test_every_deaf_policy_scores_chance_on_independent_items(family):
    """Over 1,000 independent items the transcript reader lands within 3 points of chance, and so
    does the contrarian's expected accuracy (its own coin flips averaged out: 1 / the options the
    words do not name, 0 where they name the answer) and its one sampled run."""
    tasks = make_tasks([family], 1000, seed=11, cfg={"transcript_mode": "independent"})
    assert {t.cue for t in tasks} == {"independent"}
    chance = float(np.mean([1 / len(t.choices) for t in tasks]))
    reader = evaluate(TranscriptPolicy(), tasks, progress=False).summary()["accuracy_listen"]
    assert abs(reader - chance) <= 0.03, (family, reader, chance)
    named = [FAMILIES[family].transcript_answer(t) for t in tasks]
    expected = float(
        np.mean([0.0 if n == t.answer else 1 / len([c for c in t.choices if c != n]) for n, t in zip(named, tasks)])
    )
    assert abs(expected - chance) <= 0.03, (family, expected, chance)
    sampled = evaluate(ContrarianPolicy(), tasks, progress=False).summary()["accuracy_listen"]
    assert abs(sampled - chance) <= 0.045, (family, sampled, chance)  # + its own binomial noise (SE ~1.4)


def test_the_contrarian_beats_chance_on_conflict_items_and_the_index_sees_through_it():
    tasks = make_tasks(["Meter", "VoicePitch"], 400, seed=3)
    s = evaluate(ContrarianPolicy(), tasks, progress=False).summary()
    assert s["accuracy_conflict"] > 0.7 and s["accuracy_aligned"] == 0.0  # 2-3 options: 1/(n-1) >> 1/n
    # deaf: aligned + (n-1) conflict - 1 is 0 in expectation; allow 3 standard errors of its coin flips
    assert s["listening_index"]["Meter"] == 0.0  # 2 options: the contrarian is certain
    n_conflict = sum(t.cue == "conflict" for t in tasks if t.family == "VoicePitch")
    assert s["listening_index"]["VoicePitch"] <= 3 * 2 * np.sqrt(0.25 / n_conflict)
    t = evaluate(TranscriptPolicy(), tasks, progress=False).summary()
    assert all(abs(v) <= 1e-9 for v in t["listening_index"].values())


def test_listening_index_is_positive_only_for_a_listener():
    def item(family, cue, correct, n=3):
        return ItemResult(
            f"{family}-{cue}-{correct}",
            family,
            "music",
            cue == "conflict",
            n,
            "a",
            "",
            0,
            correct,
            0,
            None,
            None,
            0,
            0,
            False,
            cue=cue,
        )

    listener = [item("F", "aligned", True), item("F", "conflict", True)]
    reader = [item("F", "aligned", True), item("F", "conflict", False)]
    assert listening_index(listener) == {"F": 2.0} and listening_index(reader) == {"F": 0.0}


def test_audio_only_items_have_no_transcript_and_ids_that_make_them_again():
    tasks = make_cue_mix(["Tempo", "Intonation"], 8, seed=5, shares={"mixed": 0.5, "independent": 0.25, "none": 0.25})
    assert len(tasks) == 16 and len({t.id for t in tasks}) == 16
    for t in tasks:
        again = task_from_id(t.id)
        assert again.transcript == t.transcript and again.choices == t.choices and again.cue == t.cue
        assert np.array_equal(again.audio, t.audio)
    none = [t for t in tasks if t.cue == "none"]
    assert len(none) == 4 and all(t.transcript == "" and t.id.endswith("@none") for t in none)
    # one seed, one clip, in every mode: a mixed task and its independent twin share the audio
    assert np.array_equal(FAMILIES["Tempo"].make(9).audio, FAMILIES["Tempo"].make(9, {"transcript_mode": "none"}).audio)


def test_dev_and_test_share_no_audio_and_test_probes_use_untrained_templates():
    from audiogym.recipe.config import load_config
    from audiogym.recipe.heldout import HeldOut
    from audiogym.recipe.rows import PROBE_TEMPLATES

    recipe = load_config(None, ["recipe.eval.per_family=8", "recipe.generation.backend=hf"]).recipe
    dev, test = HeldOut(recipe, "dev"), HeldOut(recipe, "test")
    digest = lambda ts: {t.audio.tobytes() for t in ts if len(t.audio)}  # noqa: E731
    assert digest(dev.tasks) and not digest(dev.tasks) & digest(test.tasks)
    assert not digest(dev.probes) & digest(test.probes)
    assert {t.cue for t in test.tasks if t.category != "text"} == {"aligned", "conflict", "independent", "none"}
    trained = [p.split("{q}")[0] for p in PROBE_TEMPLATES]
    assert not any(t.question.startswith(p) for t in test.probes for p in trained)
    assert any(t.question.startswith(p) for t in dev.probes for p in trained)


@pytest.mark.parametrize("script", ["rl_probe.py", "distill_probe.py"])
def test_the_probe_scripts_cannot_be_pointed_at_the_test_split(script, tmp_path):
    tree = ast.parse((ROOT / "scripts" / script).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "HeldOut"]
    assert calls and all(len(c.args) == 1 and not c.keywords for c in calls)  # HeldOut(recipe): dev
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / script),
            str(tmp_path),
            str(tmp_path / "out"),
            "--tag",
            "x",
            "--split",
            "test",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "unrecognized arguments: --split" in r.stderr


def test_two_seeds_share_no_stream_and_build_different_base_models(tmp_path):
    from audiogym.policies.audio_lm import build_tiny_model
    from audiogym.recipe.config import load_config
    from audiogym.recipe.stage import StageContext
    from audiogym.recipe.stages import recipe_stages
    from audiogym.recipe.stages.cold_start_sft import cold_start_rows

    small = [
        "recipe.cold_start.text=6",
        "recipe.cold_start.audio_direct=12",
        "recipe.cold_start.reading=4",
        "recipe.cold_start.teacher_chains=8",
        "recipe.generation.backend=hf",
    ]
    ids, streams = {}, {}
    for seed in (0, 1):
        cfg = load_config(None, [f"recipe.seed={seed}", *small])
        stages = recipe_stages(cfg)
        ctxs = [StageContext(s, tmp_path / s.name, tmp_path, cfg, i) for i, s in enumerate(stages)]
        streams[seed] = {c.stream(n) for c in ctxs for n in c.stage.streams} | {c.seed for c in ctxs}
        sft = next(c for c in ctxs if c.name == "cold_start_sft")
        tasks, _, _ = cold_start_rows(cfg.recipe.cold_start, cfg.recipe.audio_families, sft.seed, sft.stream)
        ids[seed] = {t.id for t in tasks}
    assert not streams[0] & streams[1]
    assert not ids[0] & ids[1]  # no cold-start question in common
    import dataclasses

    from safetensors.torch import load_file

    cfg = load_config(None, ["model.vocab_size=600", "model.tokenizer_corpus_per_family=2"])
    weights = []
    for seed in (0, 1):
        folder = build_tiny_model(tmp_path / f"base{seed}", dataclasses.replace(cfg.model, seed=seed))
        weights.append(load_file(next(Path(folder).glob("*.safetensors"))))
    key = next(k for k in weights[0] if "layers.0" in k and k.endswith("weight"))
    assert not np.allclose(weights[0][key].numpy(), weights[1][key].numpy())


def _items(correct_by_cue: dict[str, list[bool]]) -> list[dict]:
    return [
        {"task_id": f"{cue}-{i}", "category": "music", "cue": cue, "conflict": cue == "conflict", "correct": ok}
        for cue, oks in correct_by_cue.items()
        for i, ok in enumerate(oks)
    ]


def test_probe_changes_per_seed_read_listen_aligned_and_conflict_items(tmp_path):
    """A probe's stage is read on listen items (independent + audio-only) apart from aligned and
    conflict ones, and scripts/probe_seeds.py turns one probe variant over several seeds into one
    change per seed; a probe that has not finished is one error line, exit 2."""
    from audiogym.recipe.probing import probe_change, think_change
    from audiogym.stats import stage_change, write_pooled_changes

    before = _items({"aligned": [1, 1, 1, 1], "conflict": [0, 0], "independent": [0, 1], "none": [0, 0]})
    folders = []
    for seed, gained in enumerate((1, 2, 0)):  # listen items gained per seed; one aligned item lost each
        after = _items(
            {
                "aligned": [1, 1, 1, 0],
                "conflict": [0, 0],
                "independent": [gained >= 1, 1],
                "none": [gained >= 2, 0],
            }
        )
        c = stage_change("round1_rl", before, after)
        assert (c["listen"]["n"], c["listen"]["gained"], c["aligned"]["lost"], c["gained"]) == (4, gained, 1, 0)
        folders.append(tmp_path / f"seed{seed}" / "tag")
        folders[-1].mkdir(parents=True)
        lines = write_pooled_changes(folders[-1], [c], [])
        assert [line.split(" items")[0] for line in lines] == ["Conflict", "Aligned", "Listen"]
    # listen items whose think block never closed (no answer) are counted before and after
    stopped = [dict(r, completion="<think>\nThe pitch is low.") for r in after]
    assert probe_change("round1_rl", before, after)["unclosed"] == {"n": 4, "before": 0.0, "after": 0.0}
    assert probe_change("round1_rl", before, stopped)["unclosed"] == {"n": 4, "before": 0.0, "after": 1.0}
    # and how much the answers reason where the model must listen: listen items only, text and
    # aligned items left out
    wordy = [dict(r, think_words=8 if r["cue"] in ("independent", "none") else 50) for r in after]
    assert probe_change("round1_rl", before, wordy)["think_words"] == {"n": 4, "before": 0.0, "after": 8.0}
    assert think_change(_items({"aligned": [1]}), _items({"aligned": [1]}), ("independent", "none")) is None
    # a held-out set without listen items (minute settings): the stage is read on what it has
    c = stage_change("round1_rl", _items({"aligned": [1], "conflict": [0]}), _items({"aligned": [1], "conflict": [1]}))
    assert c["listen"] is None and c["gained"] == 1
    assert [line.split(" items")[0] for line in write_pooled_changes(tmp_path, [c], [])] == ["Conflict", "Aligned"]
    out = tmp_path / "summary.json"
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "probe_seeds.py"), *map(str, folders), "--json", str(out)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    stage = json.loads(out.read_text())["stages"]["round1_rl"]
    assert stage["listen"]["diffs"] == [0.25, 0.5, 0.0] and (stage["listen"]["up"], stage["listen"]["level"]) == (2, 1)
    assert stage["listen"]["before"] == [0.25] * 3 and stage["listen"]["after"] == [0.5, 0.75, 0.25]
    assert stage["aligned"]["diffs"] == [-0.25] * 3 and stage["conflict"]["diffs"] == [0.0] * 3
    assert "round1_rl, listen" in r.stdout
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "probe_seeds.py"), str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no changes.json or table.json" in r.stderr


def test_answer_prior_reads_a_collapse_to_one_answer_and_the_chains_started(tmp_path):
    """scripts/answer_prior.py: an RL stage that turns a family's answers into one constant shows
    as that answer's share rising to 1.0 (an unclosed think block is its own '(none)' answer), and
    the stage's reward log gives the share of rollouts with reasoning before and after."""

    def items(answers: list[str], truth: list[str]) -> list[dict]:
        return [
            {
                "task_id": f"Meter-{i}",
                "family": "Meter",
                "category": "music",
                "cue": ("independent", "none")[i % 2],
                "completion": a if a.startswith("<think>\nThe") else f"<think>\n\n</think>\nThe answer is {a}.",
                "correct": a == t,
            }
            for i, (a, t) in enumerate(zip(answers, truth))
        ]

    truth = ["waltz", "march", "waltz", "march"]
    probe = tmp_path / "seed0"
    for folder, answers in (
        (probe / "round1_distill", ["waltz", "march", "march", "march"]),
        (probe / "tag" / "round1_rl", ["waltz", "waltz", "waltz", "<think>\nThe lyrics say march."]),
    ):
        (folder / "eval").mkdir(parents=True)
        (folder / "eval" / "eval.json").write_text(json.dumps({"items": items(answers, truth)}))
    log = [{"step": s, "mgrd/reasoning_present": float(s >= 8)} for s in range(16)]
    (probe / "tag" / "round1_rl" / "trainer_log.jsonl").write_text("\n".join(map(json.dumps, log)))
    band = ["Meter-7@independent", "Meter-8@none", "Meter-9@none", "VoicePitch-3@none"]
    (probe / "tag" / "round1_rl" / "selected.jsonl").write_text("\n".join(json.dumps({"task_id": t}) for t in band))
    out = tmp_path / "prior.json"
    script = str(ROOT / "scripts" / "answer_prior.py")
    r = subprocess.run([sys.executable, script, str(probe / "tag"), "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    stage = json.loads(out.read_text())["runs"][str(probe / "tag")]["round1_rl"]
    meter = stage["families"]["Meter"]
    assert (meter["before"]["top_answer"], meter["before"]["top_share"], meter["before"]["accuracy"]) == (
        "march",
        0.75,
        0.75,
    )
    assert (meter["after"]["top_answer"], meter["after"]["top_share"], meter["after"]["accuracy"]) == (
        "waltz",
        0.75,
        0.5,
    )
    assert stage["reasoning_present"] == {"first": 0.0, "last": 1.0}
    assert stage["band"] == {"Meter": {"independent": 1, "none": 2}, "VoicePitch": {"none": 1}}
    r = subprocess.run([sys.executable, script, str(tmp_path / "nothing")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no round<t>_rl" in r.stderr


def _variant(path: Path, think: list[float], listen: list[float], seeds=(0, 1, 2)) -> Path:
    """A probe_seeds.py summary with only what chain_cost.py reads."""
    stage = {"think_words": {"diffs": think}, "listen_sampled": {"diffs": listen}}
    path.write_text(json.dumps({"folders": [f"/p/seed{s}/x" for s in seeds], "stages": {"round1_rl": stage}}))
    return path


def test_chain_cost_ranks_think_words_against_sampled_listening_per_seed(tmp_path):
    """scripts/chain_cost.py: per seed, the variants' change in think words ranked against their
    change in sampled listening; variants that lengthen chains and lose listening in every seed read
    a rank correlation of -1 in every seed; bad summaries are one error line, exit 2."""
    script = ROOT / "scripts" / "chain_cost.py"
    paths = [
        _variant(tmp_path / f"v{k}.json", [k + s for s in range(3)], [0.01 * (5 - k) + 0.002 * s for s in range(3)])
        for k in range(4)
    ]
    out = tmp_path / "cost.json"
    r = subprocess.run(
        [sys.executable, str(script), *map(str, paths), "--json", str(out)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(out.read_text())
    assert got["spearman_per_seed"] == [-1.0, -1.0, -1.0] and got["seeds_negative"] == 3
    assert got["seeds"] == ["seed0", "seed1", "seed2"] and "negative in 3 of 3 seeds" in r.stdout
    assert got["pooled_within_seed"]["slope_points_per_word"] == pytest.approx(-1.0)  # 1 point per word
    bad_seeds = _variant(tmp_path / "other.json", [0, 0, 0], [0, 0, 0], seeds=(0, 1, 3))
    no_samples = tmp_path / "greedy.json"
    no_samples.write_text(json.dumps({"folders": ["seed0"], "stages": {"round1_rl": {"think_words": {}}}}))
    for args, message in (
        (paths[:2], "at least 3 variants"),
        ([*paths[:2], bad_seeds], "every variant must be probed on the same seeds"),
        ([*paths[:2], no_samples], "has no listen_sampled"),
        ([*paths[:2], tmp_path / "missing.json"], "no such summary"),
    ):
        r = subprocess.run(
            [sys.executable, str(script), *map(str, args), "--json", str(out) + "2"], capture_output=True, text=True
        )
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode == 2 and last.startswith("error: ") and message in last, r.stderr[-2000:]
        assert not Path(str(out) + "2").exists()
