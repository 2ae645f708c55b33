"""The grounding reader on natural wording (tests/fixtures/natural_wording.py): honest chains in a
musician's or a listener's words pass the distillation filter; chains that weigh values and never
commit do not; chains that weigh values and then commit are judged by the value they commit to."""

import collections
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import natural_wording as N  # noqa: E402

from audiogym.rewards.base import task_row  # noqa: E402
from audiogym.rewards.claims import read_claims  # noqa: E402
from audiogym.rewards.grounding import GroundingFilter, grounding_of_row  # noqa: E402
from audiogym.tasks import FAMILIES  # noqa: E402


def kept_by_family(chains):
    filt = GroundingFilter()
    by = collections.defaultdict(list)
    for c in chains:
        by[(c.family, c.kind)].append(filt.judge(grounding_of_row(c.completion, task_row(c.task)))[0])
    return {k: sum(v) / len(v) for k, v in by.items()}


@pytest.mark.parametrize("name", ["natural_1", "natural_2", "natural_3", "natural_4", "natural_5", "natural_6"])
def test_natural_wording_the_rules_were_widened_on_passes_in_every_family(name):
    """Regression guards: sets that were measured fresh once, then tuned on. The misses left are the
    echo rule's (an option's own word restates the answer: 'a hiss of rain', 'a high-pitched voice')."""
    rates = kept_by_family(N.SETS[name](4))
    assert {fam for fam, _ in rates} == set(N.NATURAL)
    for (fam, _), r in rates.items():
        assert r >= (0.9 if name == "natural_1" else 0.6), (fam, r)
    assert sum(rates.values()) / len(rates) >= 0.9


def test_the_newest_set_never_tuned_on_is_kept_in_every_family():
    """natural_7 was written after the last freeze (four wordings a family) and never tuned on:
    88% of its honest chains kept, every family at 75% or more (benchmarks/results/
    grounding_wording.json). Tuning on it means writing natural_8 first."""
    rates = kept_by_family(N.SETS["natural_7"](8))
    assert len(rates) == len(N.NATURAL_7)
    for (fam, _), r in rates.items():
        assert r >= 0.7, (fam, r)


def test_fresh_hedges_commit_to_nothing():
    rates = kept_by_family(N.SETS["hedges_7"](8))
    assert rates and max(rates.values()) <= 0.05, rates


def test_hedges_that_never_commit_are_not_grounded_and_hedges_that_commit_are():
    rates = kept_by_family(N.build_hedges())
    for fam in N.HEDGE_TEXT:
        assert rates[(fam, "hedge")] <= 0.05, fam
        assert rates[(fam, "hedge_commit")] >= 0.9, fam


def _task(family, **facts):
    for seed in range(200):
        t = FAMILIES[family].make(seed)
        if all(t.facts.get(k) == v for k, v in facts.items()):
            return t
    raise AssertionError(facts)


def _kept(task, think):
    g = grounding_of_row(f"<think>{think}</think> {task.answer}", task_row(task))
    return GroundingFilter().judge(g)[0], g


def test_an_answer_word_in_a_clause_does_not_hide_the_evidence_beside_it():
    task = _task("Timbre", timbre="brassy")
    for think in (
        "The tone is brassy, the overtones are stronger than the fundamental.",
        "The overtones are stronger than the fundamental, so it is brassy.",
    ):
        kept, g = _kept(task, think)
        assert kept and [c.value for c in g.correct] == ["brassy"] and g.echoes, think


def test_hedge_then_commit_is_judged_by_the_commitment():
    task = _task("Meter", beats_per_bar=3)
    hedge = "The beats might group in twos or in fours; "
    assert _kept(task, hedge + "the accents fall in groups of three.")[0]
    kept, g = _kept(task, hedge + "the accents fall in groups of four.")
    assert not kept and [c.value for c in g.wrong] == [4]
    assert not _kept(task, hedge.rstrip("; ") + ".")[0]
    claims, hedged = read_claims("Maybe 4.4 syllables a second, maybe 2.4.")
    assert claims == [] and hedged == {"syllables_per_s"}


@pytest.mark.parametrize(
    "family,facts,think",
    [  # the issue's examples
        ("SpeakingRate", {}, "The words come at about {syllables_per_s:.1f} a second."),
        ("Meter", {"beats_per_bar": 4}, "The heavy drum lands once and then 3 lighter clicks follow."),
        ("LoudnessTrend", {"loudness_trend": "receding"}, "The engine shrinks away as the clip goes on."),
        ("MelodyContour", {"contour": "descending"}, "The tune keeps stepping downward."),
    ],
)
def test_the_issues_natural_examples_are_grounded(family, facts, think):
    task = _task(family, **facts)
    assert _kept(task, think.format(**task.facts))[0]


def test_a_negated_or_denied_change_is_not_a_claim():
    claims, _ = read_claims("Nothing gets louder here, and the words do not come quickly.")
    assert [c for c in claims if c.key in ("loudness_trend", "rate_class")] == []
