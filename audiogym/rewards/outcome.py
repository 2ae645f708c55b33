"""Outcome rewards: binary correctness (MGRD eqs. 2 and 6) and composite correctness + reasoning
format (eq. 7: 0.8 * correct + 0.2 * reasoning present)."""

from __future__ import annotations

import re
from typing import Any

from audiogym.rewards.answer import answers_match
from audiogym.rewards.base import Reward, register_reward
from audiogym.rewards.parse import read_choice, read_open, split_think

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")


def count_words(text: str) -> int:
    """Words, with each CJK character counted as one (Chinese has no spaces)."""
    return len(_TOKEN.findall(_CJK.sub(" ", text))) + len(_CJK.findall(text))


def think_words(completion: str) -> int:
    """Words in the completion's think block (0 without one), read up to THINK_READ characters: the
    modality-routed reward logs it for every completion, so a 10 MB block must cost no more."""
    return count_words((split_think(completion)[0] or "")[:THINK_READ])


def is_correct(completion: str, answer: str, choices: list[str] | None = None) -> bool:
    """The completion's final answer is the reference answer."""
    if choices:
        if not isinstance(choices, list):
            choices = list(choices)
        k = read_choice(completion, choices)
        return k is not None and choices[k] == answer
    return answers_match(read_open(completion), answer)


THINK_READ = 20_000  # characters of the think block read for "reasoning present" (a 10 MB block costs the same)
# Words that carry no reasoning on their own: eight of them are not a chain of thought.
FILLERS = frozenset(
    [
        "hmm",
        "hm",
        "um",
        "uh",
        "er",
        "erm",
        "ok",
        "okay",
        "so",
        "well",
        "let",
        "me",
        "think",
        "thinking",
        "about",
        "it",
        "this",
        "that",
        "the",
        "a",
        "an",
        "and",
        "is",
        "i",
        "to",
        "of",
        "just",
        "like",
        "yeah",
        "yes",
        "right",
        "now",
        "then",
        "wait",
        "see",
        "maybe",
        "really",
        "very",
        "quite",
        "sure",
        "guess",
        "answer",
        "question",
    ]
    + list("嗯呃啊哦吧呢嘛")
)


def reasoning_present(
    completion: str,
    question: str = "",
    min_words: int = 8,
    max_question_overlap: float = 0.8,
    min_distinct: float = 0.3,
    min_content: int = 4,
) -> tuple[bool, str]:
    """Real reasoning, not merely tags (the presence the composite reward's format term asks for,
    kept cheap): a closed think block with at least `min_words` words, of which at least
    `min_content` are not filler ("hmm", "let me think", "嗯"), that is not the prompt repeated
    (share of its words found in `question`, the prompt's words, below `max_question_overlap`) nor one word over and
    over (distinct/total at least `min_distinct`). Returns (present, reason)."""
    body, closed, _ = split_think(completion)  # the answer is not read here: the reasoning alone decides
    if body is None:
        return False, "no think block"
    if not closed:
        return False, "think block never closed"
    if "</think>" in body:  # "<think></think>The answer is X</think>The answer is X": answers, not reasoning
        return False, "think block closed more than once"
    think = body[:THINK_READ]
    words = [w.lower() for w in _TOKEN.findall(_CJK.sub(" ", think))] + _CJK.findall(think)
    if len(words) < min_words:
        return False, f"{len(words)} words < {min_words}"
    if len(set(words)) / len(words) < min_distinct:
        return False, "repetitive"
    if sum(w not in FILLERS for w in words) < min_content:
        return False, "filler words only"
    qwords = {w.lower() for w in _TOKEN.findall(_CJK.sub(" ", question))} | set(_CJK.findall(question))
    if qwords and sum(w in qwords for w in words) / len(words) >= max_question_overlap:
        return False, "repeats the prompt"
    return True, "ok"


def prompt_text(row: dict[str, Any]) -> str:
    """What the model was shown in words (question, options, transcript): reasoning that restates it
    is not reasoning."""
    choices = row.get("choices")
    options = " ".join(str(c) for c in choices) if isinstance(choices, (list, tuple)) else ""
    return " ".join(str(row.get(k) or "") for k in ("question", "transcript")) + " " + options


@register_reward("binary")
class Binary(Reward):
    """1 if the final answer is the reference answer, else 0 (eqs. 2, 6)."""

    reads = ("answer", "choices")

    def __init__(self, name: str = "binary"):
        self.name = name

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        answer = row.get("answer")
        if answer is None:
            return None, {}
        choices = row.get("choices")
        if type(choices) is list and choices:  # is_correct's multiple-choice case, one call fewer
            k = read_choice(text, choices)
            ok = k is not None and choices[k] == (answer if type(answer) is str else str(answer))
        else:
            ok = is_correct(text, str(answer), choices or None)
        return (1.0 if ok else 0.0), {"correct": ok}


@register_reward("reasoning_format")
class ReasoningFormat(Reward):
    """1 if real reasoning is present in the think block (see `reasoning_present`), else 0."""

    reads = ("question", "choices", "transcript")

    def __init__(self, name: str = "reasoning_format", min_words: int = 8):
        self.name, self.min_words = name, min_words

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        ok, why = reasoning_present(text, prompt_text(row), self.min_words)
        return float(ok), {"reasoning_present": ok, "reason": why}


@register_reward("composite_format")
class CompositeFormat(Reward):
    """correct_weight * correct + format_weight * reasoning present (eq. 7; 0.8 / 0.2 by default)."""

    reads = ("answer", "choices", "question", "transcript")

    def __init__(
        self,
        name: str = "composite_format",
        correct_weight: float = 0.8,
        format_weight: float = 0.2,
        min_words: int = 8,
    ):
        self.name, self.correct_weight, self.format_weight, self.min_words = (
            name,
            correct_weight,
            format_weight,
            min_words,
        )
        self.bounds = (0.0, correct_weight + format_weight)

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        if row.get("answer") is None:
            return None, {}
        ok = is_correct(text, str(row["answer"]), row.get("choices") or None)
        present, why = reasoning_present(text, prompt_text(row), self.min_words)
        value = self.correct_weight * ok + self.format_weight * present
        return value, {"correct": ok, "reasoning_present": present}
