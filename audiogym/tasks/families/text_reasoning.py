"""TextReasoning: procedural arithmetic and logic questions with verifiable answers.

The text side of the recipe (RLVR on text, eqs. 2-3 and 6): no audio, no transcript, and a
worked chain of thought for SFT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import Family, FamilyConfig, check_range
from audiogym.tasks.registry import register

NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fay")


@dataclass
class TextConfig(FamilyConfig):
    max_operand: int = 20
    multiple_choice: bool = False

    def validate(self) -> TextConfig:
        super().validate()
        check_range("max_operand", self.max_operand, 2, 10_000)
        return self


def arithmetic(rng: np.random.Generator, cfg: TextConfig) -> tuple[str, str, str]:
    a, b, c = (int(x) for x in rng.integers(2, cfg.max_operand + 1, size=3))
    op = str(rng.choice(["+", "-"]))
    inner = b * c
    ans = a + inner if op == "+" else a - inner
    q = f"What is {a} {op} {b} * {c}?"
    chain = f"Multiplication comes first: {b} * {c} = {inner}. Then {a} {op} {inner} = {ans}. The answer is {ans}."
    return q, str(ans), chain


def ordering(rng: np.random.Generator, cfg: TextConfig) -> tuple[str, str, str]:
    people = [str(p) for p in rng.choice(NAMES, size=3, replace=False)]
    heights = sorted(rng.choice(np.arange(150, 200), size=3, replace=False))
    tallest, middle, shortest = people[0], people[1], people[2]
    q = f"{tallest} is taller than {middle}. {middle} is taller than {shortest}. Who is the shortest?"
    chain = (
        f"{tallest} > {middle} and {middle} > {shortest}, so by transitivity {shortest} is shorter "
        f"than both. The answer is {shortest}."
    )
    del heights
    return q, shortest, chain


def counting(rng: np.random.Generator, cfg: TextConfig) -> tuple[str, str, str]:
    n, k = int(rng.integers(2, 9)), int(rng.integers(2, 7))
    q = f"A box holds {n} bags and each bag holds {k} apples. How many apples are in the box?"
    return q, str(n * k), f"{n} bags times {k} apples each is {n} * {k} = {n * k}. The answer is {n * k}."


KINDS = (arithmetic, ordering, counting)


def text_reasoning(rng: np.random.Generator, cfg: TextConfig) -> AudioTask:
    kind = KINDS[int(rng.integers(len(KINDS)))]
    q, ans, chain = kind(rng, cfg)
    choices: list[str] = []
    if cfg.multiple_choice:
        if ans.lstrip("-").isdigit():
            pool = {ans} | {str(int(ans) + d) for d in rng.choice([-3, -2, -1, 1, 2, 3, 10], size=5, replace=False)}
        else:
            pool = {ans} | set(NAMES)
        opts = sorted(pool - {ans})[:3] + [ans]
        choices = [opts[i] for i in rng.permutation(len(opts))]
    return AudioTask(
        id="",
        audio=np.zeros(0, np.float32),
        question=q,
        choices=choices,
        answer=ans,
        category="text",
        skill=kind.__name__,
        difficulty=cfg.difficulty,
        facts={"solution": chain},
    )


TEXT_REASONING = register(
    Family(
        name="TextReasoning",
        category="text",
        config=TextConfig,
        generate=text_reasoning,
        description="Procedural arithmetic and logic questions with verifiable answers (text only).",
        answer_keys=(),
        read_facts=lambda m: {},
        answer_from=lambda f: "",
        grounded=lambda task, facts: task.facts["solution"],
        cues={},
        topic="the question",
    )
)
