"""Reading a completion's final answer text: which option it names, or its open value.

Answer, read from the last `ANSWER_WINDOW` characters of the answer part (full-width forms
folded to ASCII first: （Ｂ） -> (B), ： -> :, 。 -> .), by precedence: the first rule that finds
anything decides, and *every* statement of that rule counts:

| rule | finds | e.g. |
|---|---|---|
| 1 | `\\boxed{X}`, every one | `\\boxed{B}` |
| 2 | explicit statements, every one, up to the end of the sentence | "answer is B", "Answer: B", "final answer: sad", "option B", "答案是B", "答案：B", "选B", "选择 sad" |
| 3 | the whole answer part | "B", "(B)", "B.", "sad", "I think it is sad" |

Within the deciding rule a statement names a bare letter, a choice's exact text, or else every
lettered mention ("(B)", "B)", a leading "B", "A or B", "A/B", "A, B") and every choice text named
as whole words, except choices it negates ("not cheerful", "rather than A", "不是A"). If the
statements together name two or more different choices (a list, "A or B", a correction such as "A, no wait, C", one
"Answer:" line per option, several boxed answers) the answer is None: wrong, never lucky. A reply
with several answer blocks (`</think> answer <think> ... </think> answer`) also has no answer.
For open (choice-less) tasks the answer is the number or text found the same way, with "the last
number" as rule 3.
"""

from __future__ import annotations

import functools
import re
import unicodedata

ANSWER_WINDOW = 2000
_BOXED = re.compile(r"\\boxed\{([^{}]{0,200})\}")
# An explicit statement: the cue, then its value up to the end of the sentence (a list of options
# separated by commas stays inside it). Chinese cues: 答案是 / 答案为 / 答案: / 选项 / 选 / 选择.
_EXPLICIT = re.compile(
    r"(?=[faoc最答选])(?:(?:final answer|answer|option|choice)\s*(?:is|:|=)?\s*:?|(?:(?:最终)?答案|选项|选择|选)\s*(?:是|为|:)?\s*:?)"
    r"\s*(?:\*\*)?\s*\(?([^\n!?;]{1,160}?)(?:\.(?!\d)|$|\n|[!?;])",
    re.I,
)
# "(B)", "B)", a leading "B" (not the article "A" / pronoun "I" before a word), "A or B", "A, B".
_LETTER_MENTION = re.compile(
    r"\(([A-Z])\)|(?<![A-Za-z0-9_(])([A-Z])\)|^\s*(?!(?:A|I)\s+[a-z])([A-Z])(?![A-Za-z0-9_.'])"
    r"|(?<![A-Za-z0-9_(])([A-Z])(?=\s*(?:,|/|\bor\b|\band\b|或))|(?:,|/|\bor|\band|或)\s*([A-Z])(?![A-Za-z0-9_.'])"
)
_LETTER_LIST = re.compile(r"\s*\(?[A-Z][).]?(?:\s*(?:,|/|&|\s|\band\b|\bor\b|或)\s*\(?[A-Z][).]?)+\s*")
# A negated option is not named: "not cheerful", "rather than (A)", "instead of B", "不是A".
_NEGATED = re.compile(
    r"(?:\b(?:not|rather than|instead of|isn't|wasn't)|(?=[不而并])(?:不是|而非|并非))"
    r"\s+(?:\(?[A-Z]\)?(?![A-Za-z])|[a-z][\w -]{0,40})",
    re.I,
)
# A correction ("A, no wait, C", "A. Actually, C", "A，不对，C") names both options.
# (The English cues share one word-boundary test and the Chinese ones a first-character test, so a
# position that can start none of them costs one test, not one per cue.)
_CORRECTION = re.compile(
    r"\b(?:no,? wait\b|actually\b|i mean\b|correction\b|scratch that\b|on second thought\b)"
    r"|(?=[不更改])(?:不对|更正|不，|改为)",
    re.I,
)
_FOLD = str.maketrans({"。": ".", "，": ",", "、": ",", "；": ";", "！": "!", "？": "?"})
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@functools.lru_cache(maxsize=8192)  # choices repeat across every completion of a task
def _norm(s: str) -> str:
    return re.sub(r"[\s*_`\"'()\[\]{}.:,;!?]+", " ", s.lower()).strip()


_BARE_LETTER = re.compile(r"([A-Z])[.):]?|\(([A-Za-z])\)\.?")


def _letter(token: str, n: int) -> int | None:
    """A bare option letter: "B", "(B)", "B.", "B)", "**B**" or "(b)"."""
    t = token.strip().strip("*").strip()
    m = _BARE_LETTER.fullmatch(t)
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


@functools.lru_cache(maxsize=4096)
def _whole_words(norm_choice: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(norm_choice)}(?![A-Za-z0-9_-])")


def _mentions(norm_text: str, choices: list[str]) -> set[int]:
    found = set()
    for k, c in enumerate(choices):
        nc = _norm(c)
        if nc and _whole_words(nc).search(norm_text):
            found.add(k)
    # A longer choice that contains a shorter one ("very fast" vs "fast") wins.
    return {k for k in found if not any(j != k and _norm(choices[k]) in _norm(choices[j]) for j in found)}


def _fold(text: str) -> str:
    """Full-width letters, brackets, colons and Chinese punctuation as their ASCII forms."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def _named(statement: str, choices: list[str], negations: bool = True) -> set[int]:
    if negations:
        statement = _NEGATED.sub(" ", statement)
    return _choice_in(statement, choices)


_LONE_LETTER = re.compile(r"(?<![A-Za-z0-9_'])(?!(?:A|I)\s+[a-z])([A-Z])(?![A-Za-z0-9_'])")


def _loosely_named(text: str, choices: list[str]) -> set[int]:
    """Every option a text could be naming: lone capital letters and choice texts."""
    letters = {ord(x) - ord("A") for x in _LONE_LETTER.findall(text)}
    return {k for k in letters if k < len(choices)} | _mentions(_norm(_NEGATED.sub(" ", text)), choices)


# The sentence the prompts ask for, "The answer is <option text>." or "The answer is (B).", read
# without the general rules when nothing in it is a word those rules act on; the result is the
# general reader's (tests/test_parse_fast_path.py checks it on a corpus built against the edges).
_CANONICAL = re.compile(r"The answer is (?:\(?([A-Z])\)?|([a-z0-9][a-z0-9 '()-]{0,79}))\.")
_RULE_WORDS = re.compile(r"not|n't|n t|rather|instead|actually|mean|correction|scratch|second|wait")


@functools.lru_cache(maxsize=4096)  # per option list: the 8+ samples of a prompt share it
def _option_index(choices: tuple) -> dict[str, int | None] | None:
    """Normalised option text -> its index (None where two options normalise alike); options a
    rule word could touch are left out, so a text naming them goes to the general reader."""
    if not all(isinstance(c, str) for c in choices):
        return None  # a hostile row: the general reader decides what it means
    index: dict[str, int | None] = {}
    for k, c in enumerate(choices):
        n = _norm(c)
        if n and not _RULE_WORDS.search(n):
            index[n] = None if n in index else k
    return index


def _canonical_choice(text: str, choices: list[str]) -> int | None | bool:
    """The option the canonical answer sentence names (None: several), or False when the text is
    not that sentence, or the general rules could read it otherwise."""
    m = _CANONICAL.fullmatch(text)
    if m is None:
        return False
    letter, words = m.groups()
    if letter is not None:
        k = ord(letter) - 65
        return k if k < len(choices) else False
    try:
        index = _option_index(tuple(choices))
    except TypeError:  # unhashable options
        return False
    if index is None:
        return False
    if words in index:  # already an option's normal form (_norm is idempotent), so no rule word in it
        return index[words]
    if _RULE_WORDS.search(words):
        return False
    return index.get(_norm(words), False)


def parse_choice(answer_text: str, choices: list[str]) -> int | None:
    if len(answer_text) <= 100:
        fast = _canonical_choice(answer_text, choices)
        if fast is not False:
            return fast
    tail = answer_text[-ANSWER_WINDOW:]
    if len(tail) <= _CACHED_CHARS:
        try:
            return _cached_choice(tail, tuple(choices))
        except TypeError:  # an option that is not hashable (a hostile row): read it uncached
            pass
    return _read_choice(tail, list(choices))


# GRPO scores 8+ samples of every prompt, step after step, and most of them end in the same few
# short answer texts ("The answer is sad."): each (answer text, options) pair is read once.
_CACHED_CHARS = 256


@functools.lru_cache(maxsize=16384)
def _cached_choice(tail: str, choices: tuple) -> int | None:
    return _read_choice(tail, list(choices))


def _read_choice(tail: str, choices: list[str]) -> int | None:
    text = _fold(tail)
    if _CORRECTION.search(text) and len(_loosely_named(text, choices)) > 1:
        return None
    rules = [_BOXED.findall(text), _EXPLICIT.findall(text), [text]]
    for statements in rules:  # boxed, then explicit, then the whole answer: the first that names any
        got: set[int] = set()
        for piece in statements:
            got |= _named(piece, choices)
        if got:
            return got.pop() if len(got) == 1 else None
    return None


def parse_open(answer_text: str) -> str | None:
    text = _fold(answer_text[-ANSWER_WINDOW:])
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


# "The answer is -12.5.": parse_open's reading of it, without the general rules.
_CANONICAL_NUMBER = re.compile(r"The answer is (-?[0-9]+(?:\.[0-9]+)?)\.")  # [0-9], not \d: \d matches "１２"


def read_open_answer(answer_text: str) -> str | None:
    """`parse_open`, with the canonical numeric sentence read without the general rules."""
    m = _CANONICAL_NUMBER.fullmatch(answer_text)
    return m.group(1) if m else parse_open(answer_text)


def answers_match(parsed: str | None, reference: str) -> bool:
    """Open answers: numbers compare as numbers, text case- and punctuation-insensitively."""
    if parsed is None:
        return False
    try:
        return abs(float(parsed) - float(reference)) < 1e-9
    except ValueError:
        return _norm(parsed) == _norm(reference)


def clear_caches() -> None:
    """Forget every answer read so far (benchmarks time the first reading of each)."""
    _cached_choice.cache_clear()
