"""Scripted policies: the cold-start teachers and the baselines.

- `OraclePolicy` measures the audio with `audiogym.analysis` (never the task's hidden facts),
  writes a grounded chain from what it measured and answers from it.
- `TranscriptPolicy` is the cascade baseline (ASR + a text LLM): it reasons from the transcript
  only, so it is right when the words agree with the sound and wrong on conflict items.
- `RandomPolicy` picks a choice at random.
- `ContrarianPolicy` is deaf too: it picks uniformly among the options the transcript does not
  name. On conflict items it beats chance (1/(n-1)), which is why conflict accuracy alone cannot
  show listening; on independent and audio-only items it scores chance, like every deaf policy.
Completions have the report's format: `<think>\\n...\\n</think>\\n` then the answer.
"""

from __future__ import annotations

import numpy as np

from audiogym.analysis import measure
from audiogym.policies.base import Generation
from audiogym.tasks import FAMILIES, AudioTask
from audiogym.tasks.core import hash_name


def format_completion(reasoning: str, task: AudioTask, answer: str | None) -> str:
    """The report's format. The answer is given as the option's text: it depends on what is heard,
    not on the order the choices were shuffled into (a letter is still accepted from models)."""
    final = f"The answer is {answer}." if answer else "I cannot tell."
    return f"<think>\n{reasoning}\n</think>\n{final}"


class ScriptedPolicy:
    """Shared `generate` for scripted policies (same interface as AudioLMPolicy)."""

    name = "scripted"

    def act(self, task: AudioTask) -> str:
        raise NotImplementedError

    def generate(self, tasks: list[AudioTask], num_samples: int = 1, **_: object) -> list[list[Generation]]:
        out = []
        for t in tasks:
            texts = [self.act(t) for _ in range(num_samples)]
            out.append([Generation(x, len(x.split())) for x in texts])
        return out


class OraclePolicy(ScriptedPolicy):
    name = "oracle"

    def can_answer(self, task: AudioTask) -> bool:
        """Only procedural families have a reader (a manifest's questions do not)."""
        return task.family in FAMILIES

    def act(self, task: AudioTask) -> str:
        family = FAMILIES.get(task.family)
        if family is None:
            return format_completion("I have no reader for this kind of question.", task, None)
        if task.category == "text":
            return format_completion(family.grounded(task, task.facts), task, task.answer)
        facts = family.read_facts(measure(task.audio))
        answer = family.answer_from(facts)
        if None in (facts.get(k) for k in family.answer_keys) or not answer:
            return format_completion("The recording does not let me measure what the question needs.", task, None)
        return format_completion(family.grounded(task, facts), task, answer)


class TranscriptPolicy(ScriptedPolicy):
    name = "transcript"

    def can_answer(self, task: AudioTask) -> bool:
        """It reads a family's transcript cues; a manifest's transcripts have none to read."""
        return task.family in FAMILIES

    def act(self, task: AudioTask) -> str:
        family = FAMILIES.get(task.family)
        if task.category == "text":  # a cascade's text LLM reads text questions like anyone else
            return OraclePolicy().act(task)
        if family is None:
            return format_completion(f"The transcript says: {task.transcript}", task, None)
        return format_completion(family.surrogate(task), task, family.transcript_answer(task))


class RandomPolicy(ScriptedPolicy):
    name = "random"

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def act(self, task: AudioTask) -> str:
        if not task.choices:
            return format_completion("A guess.", task, str(int(self.rng.integers(0, 100))))
        return format_completion("A guess.", task, str(self.rng.choice(task.choices)))


class ContrarianPolicy(ScriptedPolicy):
    name = "contrarian"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def act(self, task: AudioTask) -> str:
        if task.category == "text":
            return OraclePolicy().act(task)
        family = FAMILIES.get(task.family)
        named = family.transcript_answer(task) if family is not None and task.transcript else None
        options = [c for c in task.choices if c != named] or list(task.choices)
        if not options:
            return format_completion("A guess.", task, None)
        rng = np.random.default_rng([self.seed, hash_name(task.id)])  # the same pick for the same item
        return format_completion("Not what the words say.", task, str(options[int(rng.integers(len(options)))]))


POLICIES = {
    "oracle": OraclePolicy,
    "transcript": TranscriptPolicy,
    "random": RandomPolicy,
    "contrarian": ContrarianPolicy,
}
