"""Parsing a completion into its reasoning and its final answer. Never raises, on any string.

Think block:
- `<think>...</think> answer`: reasoning between the first `<think>` and the *last* `</think>`
  (nested or repeated tags stay inside the reasoning);
- `... </think> answer` without an opening tag: the prompt was pre-filled with `<think>\\n`, so
  the completion started inside the block;
- `<think> ...` never closed: all of it is reasoning and there is no final answer;
- no tags at all: no reasoning, the whole text is the answer.

Answer, searched in the last `ANSWER_WINDOW` characters of the answer part, by precedence (the
first rule that finds anything decides):
1. `\\boxed{X}` (the last one);
2. an explicit statement: "answer is X", "Answer: X", "final answer: X", "option X", "choice X";
3. the whole answer is a choice: "B", "(B)", "B.", "B)" or a choice's text;
4. lettered mentions "(B)" / "B)" and choice texts named as whole words.
Within a rule, naming two or more different choices is ambiguous: the answer is None (wrong,
never lucky). For open (choice-less) tasks the answer is the number or text found the same way,
with "the last number" as rule 4.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ANSWER_WINDOW = 2000
_OPEN, _CLOSE = "<think>", "</think>"
_BOXED = re.compile(r"\\boxed\{([^{}]{0,200})\}")
_EXPLICIT = re.compile(
    r"(?:final answer|answer|option|choice)\s*(?:is|:|=)?\s*:?\s*(?:\*\*)?\s*\(?([^\n,;!?]{1,120}?)(?:\.(?!\d)|$|\n|[,;!?])", re.I)
# "(B)", "B)", a leading "B" (not the article "A" / pronoun "I" before a word), "A or B", "A, B".
_LETTER_MENTION = re.compile(
    r"\(([A-Z])\)|(?<![\w(])([A-Z])\)|^\s*(?!(?:A|I)\s+[a-z])([A-Z])\b(?![.'])"
    r"|(?<![\w(])([A-Z])(?=\s*(?:,|/|\bor\b|\band\b))|(?:,|/|\bor|\band)\s+([A-Z])\b(?![.'])")
_LETTER_LIST = re.compile(r"\s*\(?[A-Z][).]?(?:\s*(?:,|/|&|\s|\band\b|\bor\b)\s*\(?[A-Z][).]?)+\s*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass
class Parsed:
    think: str | None        # the reasoning text (None: no think block)
    closed: bool             # the think block was closed (or there was none)
    answer_text: str         # what came after the reasoning
    choice: int | None       # index of the chosen option (multiple choice), None if none or ambiguous
    answer: str | None       # the chosen option's text, or the open answer


def split_think(completion: str) -> tuple[str | None, bool, str]:
    text = completion if isinstance(completion, str) else str(completion)
    start = text.find(_OPEN)
    end = text.rfind(_CLOSE)
    if end >= 0 and (start < 0 or start < end):
        body_start = start + len(_OPEN) if start >= 0 else 0
        return text[body_start:end].strip(), True, text[end + len(_CLOSE):].strip()
    if start >= 0:
        return text[start + len(_OPEN):].strip(), False, ""
    return None, True, text.strip()


def _norm(s: str) -> str:
    return re.sub(r"[\s*_`\"'()\[\]{}.:,;!?]+", " ", s.lower()).strip()


def _letter(token: str, n: int) -> int | None:
    """A bare option letter: "B", "(B)", "B.", "B)", "**B**" or "(b)"."""
    t = token.strip().strip("*").strip()
    m = re.fullmatch(r"([A-Z])[.):]?|\(([A-Za-z])\)\.?", t)
    if not m:
        return None
    i = ord((m.group(1) or m.group(2)).upper()) - ord("A")
    return i if i < n else None


def _choice_in(token: str, choices: list[str]) -> set[int]:
    """The options a piece of answer text names: a bare letter, a choice's exact text, or else
    every lettered mention ("(B)", "B)", a leading "B ") and every choice text named as words."""
    i = _letter(token, len(choices))
    if i is not None:
        return {i}
    tok = _norm(token)
    exact = {k for k, c in enumerate(choices) if _norm(c) == tok}
    if exact or not tok:
        return exact
    if _LETTER_LIST.fullmatch(token):  # "B C", "(A)/(B)", "A, B and D": several letters
        return {k for k in (ord(x) - ord("A") for x in re.findall(r"[A-Z]", token)) if k < len(choices)}
    named = set()
    for groups in _LETTER_MENTION.findall(token):
        k = ord("".join(groups)) - ord("A")
        if k < len(choices):
            named.add(k)
    return named | _mentions(tok, choices)


def _mentions(norm_text: str, choices: list[str]) -> set[int]:
    found = set()
    for k, c in enumerate(choices):
        nc = _norm(c)
        if nc and re.search(rf"(?<![\w-]){re.escape(nc)}(?![\w-])", norm_text):
            found.add(k)
    # A longer choice that contains a shorter one ("very fast" vs "fast") wins.
    return {k for k in found if not any(j != k and _norm(choices[k]) in _norm(choices[j]) for j in found)}


def parse_choice(answer_text: str, choices: list[str]) -> int | None:
    text = answer_text[-ANSWER_WINDOW:]
    candidates = [b for b in _BOXED.findall(text)][-1:] + _EXPLICIT.findall(text)[-1:] + [text]
    for piece in candidates:  # boxed, then explicit, then the whole answer: the first that names any
        got = _choice_in(piece, choices)
        if got:
            return got.pop() if len(got) == 1 else None
    return None


def parse_open(answer_text: str) -> str | None:
    text = answer_text[-ANSWER_WINDOW:]
    boxed = _BOXED.findall(text)
    if boxed:
        return boxed[-1].strip() or None
    explicit = _EXPLICIT.findall(text)
    if explicit:
        nums = _NUMBER.findall(explicit[-1])
        return nums[0] if nums else (explicit[-1].strip().rstrip(".") or None)
    nums = _NUMBER.findall(text)
    if nums:
        return nums[-1]
    return text.strip().rstrip(".") or None


def parse_completion(completion: str, choices: list[str] | None = None) -> Parsed:
    """Split a completion into reasoning and answer, and read the answer. Never raises."""
    try:
        think, closed, answer_text = split_think(completion)
        if choices:
            choice = parse_choice(answer_text, list(choices))
            return Parsed(think, closed, answer_text, choice, None if choice is None else choices[choice])
        return Parsed(think, closed, answer_text, None, parse_open(answer_text) if answer_text else None)
    except Exception:  # noqa: BLE001 - a reward must score any string; an unreadable one is wrong
        return Parsed(None, False, "", None, None)


def answers_match(parsed: str | None, reference: str) -> bool:
    """Open answers: numbers compare as numbers, text case- and punctuation-insensitively."""
    if parsed is None:
        return False
    try:
        return abs(float(parsed) - float(reference)) < 1e-9
    except ValueError:
        return _norm(parsed) == _norm(reference)
