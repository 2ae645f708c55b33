"""Per audio family on 200 items: the transcript misleads on conflict items, the true facts always
give the answer, and facts measured from the audio agree with the true facts."""

import functools

import numpy as np
import pytest

from audiogym import AUDIO_FAMILIES
from audiogym.analysis import measure

N = 200


@functools.cache
def sample(name):
    fam = AUDIO_FAMILIES[name]
    tasks = [fam.make(s) for s in range(N)]
    return fam, tasks, [fam.read_facts(measure(t.audio)) for t in tasks]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(AUDIO_FAMILIES))
def test_family_facts_transcript_and_measurement(name):
    fam, tasks, measured = sample(name)
    # Answering from the true facts is always right.
    assert all(fam.answer_from(t.facts) == t.answer for t in tasks)
    # Answering from the transcript: at most chance + 10 points on conflict items, right on aligned ones.
    conflict = [t for t in tasks if t.conflict]
    assert len(conflict) >= N / 4
    chance = np.mean([1 / len(t.choices) for t in conflict])
    surrogate_acc = np.mean([fam.transcript_answer(t) == t.answer for t in conflict])
    assert surrogate_acc <= chance + 0.10, (surrogate_acc, chance)
    assert all(fam.transcript_answer(t) == t.answer for t in tasks if not t.conflict)
    # Facts measured from the audio agree with the generator's facts on >= 95% of items.
    agree = np.mean([all(m.get(k) == t.facts[k] for k in fam.answer_keys) for t, m in zip(tasks, measured)])
    assert agree >= 0.95, f"{name}: measured facts agree on {agree:.1%}"
