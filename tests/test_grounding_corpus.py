"""The grounding reward and the distillation filter against a paraphrase corpus written for the
tests (tests/fixtures/grounding_corpus.py): honest chains in varied English and Chinese pass, their
hedged, echoed, invented and transcript-reading twins neither pass nor outscore them."""

import collections
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import grounding_corpus as C  # noqa: E402

from audiogym.rewards.base import task_row  # noqa: E402
from audiogym.rewards.grounding import GroundingFilter, grounding_of_row  # noqa: E402


def judged(chains):
    filt = GroundingFilter()
    out = []
    for c in chains:
        g = grounding_of_row(c.completion, task_row(c.task))
        out.append((c, g.score, filt.judge(g)[0]))
    return out


@pytest.fixture(scope="module")
def corpus():
    return judged(C.build())


def rates(results, kind):
    by = collections.defaultdict(list)
    for c, _, kept in results:
        if c.kind == kind:
            by[(c.family, c.lang)].append(kept)
    return {k: sum(v) / len(v) for k, v in by.items()}


def test_the_corpus_has_the_size_asked_for(corpus):
    counts = collections.Counter((c.family, c.lang) for c, _, _ in corpus if c.kind == "honest")
    for fam in C.HONEST:
        assert len({c.text for c, _, _ in corpus if c.family == fam and c.kind == "honest" and c.lang == "en"}) >= 30
        assert len({c.text for c, _, _ in corpus if c.family == fam and c.kind == "honest" and c.lang == "zh"}) >= 10
        assert counts[(fam, "en")] >= 30 and counts[(fam, "zh")] >= 10


def test_honest_chains_pass_in_english_and_chinese_for_every_family(corpus):
    for (fam, lang), r in rates(corpus, "honest").items():
        assert r >= (0.85 if lang == "en" else 0.75), (fam, lang, r)


@pytest.mark.parametrize("kind", ["hedged", "echoed", "invented", "transcript"])
def test_dishonest_twins_are_neither_kept_nor_scored_as_high(corpus, kind):
    honest = collections.defaultdict(list)
    for c, s, _ in corpus:
        if c.kind == "honest":
            honest[c.task.id].append(s)
    twins = [(c, s, kept) for c, s, kept in corpus if c.kind == kind]
    assert sum(kept for _, _, kept in twins) / len(twins) <= 0.05
    ge = [s >= h for c, s, _ in twins for h in honest[c.task.id]]
    assert sum(ge) / len(ge) <= 0.05


def test_fresh_wording_written_after_the_rules_were_frozen_mostly_passes():
    """A held-out set in new wording (see the fixture). Weaker than the main corpus: it is the
    honest estimate of how the rules generalise."""
    results = judged(C.build_fresh())
    for lang in ("en", "zh"):
        kept = [k for c, _, k in results if c.lang == lang]
        assert sum(kept) / len(kept) >= 0.85, lang


def test_a_hedge_commits_to_nothing_and_a_committed_claim_next_to_it_survives():
    from audiogym.rewards.claims import read_claims

    claims, hedged = read_claims("It has major, minor or diminished chords. The tempo is about 120 BPM.")
    assert hedged == {"chord_quality"} and [c.key for c in claims] == ["tempo_bpm"]
    claims, hedged = read_claims("These are minor chords, not major ones.")
    assert hedged == set() and [(c.key, c.value) for c in claims] == [("chord_quality", "minor")]


def test_an_echo_of_the_option_is_no_evidence_but_a_false_one_still_costs():
    from audiogym.tasks import FAMILIES

    task = next(t for t in (FAMILIES["Meter"].make(s) for s in range(50)) if t.facts["beats_per_bar"] == 3)
    row = task_row(task)
    option = task.answer  # "waltz (groups of three)"
    echo = grounding_of_row(f"<think>\nIt is obviously a {option}.\n</think>\n{option}", row)
    evidence = grounding_of_row("<think>\nThe accents fall in groups of three.\n</think>\nwaltz", row)
    false_echo = grounding_of_row("<think>\nIt is obviously a march (groups of four).\n</think>\nwaltz", row)
    assert echo.correct == [] and len(echo.echoes) == 1
    assert [(c.key, c.value) for c in evidence.correct] == [("beats_per_bar", 3)]
    assert [(c.key, c.value) for c in false_echo.wrong] == [("beats_per_bar", 4)]
    assert evidence.score > echo.score >= false_echo.score


def test_transcript_cues_that_are_set_aside_do_not_count():
    from audiogym.rewards.grounding import surrogate_score

    assert surrogate_score("Ignoring the lyrics, the chords are minor.", "")[0] == 0.0
    assert surrogate_score("不看歌词，和弦是小三和弦。", "")[0] == 0.0
    assert surrogate_score("The singer tells us she is heartbroken.", "")[0] > 0
    assert surrogate_score("根据歌词，这首歌很悲伤。", "")[0] > 0
