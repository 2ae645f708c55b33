"""Parsing a completion into its reasoning and its final answer. Never raises, on any string.

Think block:
- `<think>...</think> answer`: reasoning between the first `<think>` and the *last* `</think>`
  (nested or repeated tags stay inside the reasoning);
- `... </think> answer` without an opening tag: the prompt was pre-filled with `<think>\\n`, so
  the completion started inside the block;
- `<think> ...` never closed: all of it is reasoning and there is no final answer;
- no tags at all: no reasoning, the whole text is the answer.

The answer part is read by `audiogym.rewards.answer` (its rules are documented there).
"""

from __future__ import annotations

from dataclasses import dataclass

from audiogym.rewards.answer import parse_choice, parse_open, read_open_answer

_OPEN, _CLOSE = "<think>", "</think>"


@dataclass
class Parsed:
    think: str | None  # the reasoning text (None: no think block)
    closed: bool  # the think block was closed (or there was none)
    answer_text: str  # what came after the reasoning
    choice: int | None  # index of the chosen option (multiple choice), None if none or ambiguous
    answer: str | None  # the chosen option's text, or the open answer


def split_think(completion: str) -> tuple[str | None, bool, str]:
    text = completion if isinstance(completion, str) else str(completion)
    start = text.find(_OPEN)
    end = text.rfind(_CLOSE)
    if end >= 0 and (start < 0 or start < end):
        body_start = start + len(_OPEN) if start >= 0 else 0
        return text[body_start:end].strip(), True, text[end + len(_CLOSE) :].strip()
    if start >= 0:
        return text[start + len(_OPEN) :].strip(), False, ""
    return None, True, text.strip()


def _several_answer_blocks(completion: str) -> bool:
    """`</think> answer <think> ... </think> answer`: text outside the think blocks before a later
    block opens (nested tags, `<think><think>x</think>y</think>`, are one block)."""
    text = completion if isinstance(completion, str) else str(completion)
    end = text.find(_CLOSE)
    while end >= 0:
        nxt = text.find(_OPEN, end)
        if nxt < 0:
            return False
        between = text[end + len(_CLOSE) : nxt]
        if between.strip() and _CLOSE not in between:
            return True
        end = text.find(_CLOSE, nxt)
    return False


def parse_completion(completion: str, choices: list[str] | None = None) -> Parsed:
    """Split a completion into reasoning and answer, and read the answer. Never raises."""
    try:
        think, closed, answer_text = split_think(completion)
        if think is not None and _several_answer_blocks(completion):
            return Parsed(think, closed, answer_text, None, None)
        if choices:
            choice = parse_choice(answer_text, choices)
            return Parsed(think, closed, answer_text, choice, None if choice is None else choices[choice])
        return Parsed(think, closed, answer_text, None, parse_open(answer_text) if answer_text else None)
    except Exception:  # noqa: BLE001 - a reward must score any string; an unreadable one is wrong
        return Parsed(None, False, "", None, None)


def _other_tags(text: str, start: int, end: int) -> bool:
    """Whether a think tag other than the first opening one (at `start`) and the last closing one
    (at `end`) may be in `text`. Several answer blocks need an opening tag after a closing one, so
    without other tags there are none. Most completions have no other '<' at all, which one
    memchr per stretch shows (a substring search over a 3,000-word think block costs 30x more)."""
    if text.find("<", 0, start) < 0 and text.find("<", start + 1, end) < 0 and text.find("<", end + 1) < 0:
        return False
    return text.find(_OPEN, start + 1) >= 0 or text.find(_CLOSE, 0, start) >= 0


def _answer_of(text: str) -> str | None:
    """The answer text `split_think` gives, without copying the reasoning out (None: several
    answer blocks, so no answer)."""
    start, end = text.find(_OPEN), text.rfind(_CLOSE)
    if end >= 0 and (start < 0 or start < end):
        if start >= 0 and _other_tags(text, start, end) and _several_answer_blocks(text):
            return None
        return text[end + 8 :].strip()  # 8 = len("</think>")
    if start >= 0:  # never closed: no answer
        return ""
    return text.strip()


def read_choice(completion: str, choices: list[str]) -> int | None:
    """`parse_completion(completion, choices).choice`, without copying the reasoning out: the
    binary and composite rewards only need the answer, and a long think block is most of a
    completion."""
    try:
        answer = _answer_of(completion if isinstance(completion, str) else str(completion))
        return None if answer is None else parse_choice(answer, choices)
    except Exception:  # noqa: BLE001 - as parse_completion: an unreadable completion has no answer
        return None


def read_open(completion: str) -> str | None:
    """`parse_completion(completion).answer` for a question without options, the same way."""
    try:
        answer = _answer_of(completion if isinstance(completion, str) else str(completion))
        return read_open_answer(answer) if answer else None
    except Exception:  # noqa: BLE001
        return None
