"""The canonical-sentence fast path of the answer reader gives the general reader's answer.

`parse_choice` reads "The answer is <option>." / "The answer is (B)." without the general rules,
and `read_choice` reads a completion's answer without copying its reasoning out. Both must agree
with the general reader on every input; the corpus below is built to hit the fast path's edges
(rule words inside the option text, options that normalise alike, letters past the options,
hostile option lists), plus every task family's real options and random strings.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from audiogym.rewards.answer import _read_choice, parse_choice
from audiogym.rewards.parse import parse_completion, read_choice, read_open
from audiogym.tasks import FAMILIES

FIXTURES = Path(__file__).parent / "fixtures"

OPTION_SETS = [
    ["cheerful", "sad", "tense", "calm"],
    ["fast", "very fast", "slow", "not fast"],  # one option inside another, a negated one
    ["rising", "Rising", "falling"],  # two options that normalise alike
    ["a", "b", "c"],  # option texts that are letters
    ["rather slow", "instead fast", "actually loud"],  # rule words inside options
    ["3 beats", "4 beats", "6/8 feel"],
    ["A", "B"],
    ["it's fine", "isn't fine", "don't know", "no wait"],
    ["x-y", "x y", "x_y"],
    ["sad", 7, None],  # hostile rows: options that are not text
    ["waltz (groups of three)", "march (groups of four)"],  # brackets inside options (Meter's)
    ["(b)", "b", "a (b)", "(c) d"],  # brackets that read as letters
    ["x (y)", "x y", "(x) y", "not (x)"],  # normalise alike; a rule word
    ["slow (not fast)", "fast (really)"],
]
PHRASES = [
    "cheerful",
    "sad",
    "very fast",
    "not fast",
    "fast",
    "rising",
    "falling",
    "a",
    "b",
    "B",
    "(B)",
    "(C)",
    "rather slow",
    "actually loud",
    "instead fast",
    "3 beats",
    "6/8 feel",
    "it's fine",
    "isn't fine",
    "no wait",
    "x-y",
    "x y",
    "sad or tense",
    "sad and tense",
    "not sad",
    "sad, actually tense",
    "i mean sad",
    "tense wait",
    "calm second",
    "",
    " sad",
    "sad ",
    "SAD",
    "z",
    "(Z)",
    "H",
    "A",
    "waltz (groups of three)",
    "march (groups of four",
    "waltz (groups of three) or march (groups of four)",
    "waltz groups of three",
    "(b)",
    "b)",
    "a (b)",
    "(c) d",
    "x (y)",
    "(x) y",
    "not (x)",
    "(a) (b)",
    "slow (not fast)",
    "fast (really)",
    "()",
    "(sad)",
    "sad (tense)",
]
TEMPLATES = [
    "The answer is {}.",
    "The answer is {}",
    "the answer is {}.",
    "The answer is {}.\n",
    "The answer is {}..",
    "The answer is ({}).",
    "The answer is {}!",
    "Answer: {}.",
    "The answer is {}. The answer is sad.",
]


def _general(text: str, choices: list) -> int | None:
    try:
        return _read_choice(text[-2000:], list(choices))
    except Exception:  # noqa: BLE001 - parse_completion turns any error into "no answer"
        return None


def _fast(text: str, choices: list) -> int | None:
    try:
        return parse_choice(text, list(choices))
    except Exception:  # noqa: BLE001
        return None


def _answers():
    for choices, phrase, template in itertools.product(OPTION_SETS, PHRASES, TEMPLATES):
        yield template.format(phrase), choices
    for _name, fam in FAMILIES.items():
        for seed in range(6):
            task = fam.make(seed)
            if not task.choices:
                continue
            for i, c in enumerate(task.choices):
                yield f"The answer is {c}.", task.choices
                yield f"The answer is ({'ABCDEFGH'[i]}).", task.choices
                yield f"The answer is not {c}.", task.choices


def test_fast_path_agrees_with_the_general_reader():
    n = 0
    for text, choices in _answers():
        assert _fast(text, choices) == _general(text, choices), (text, choices)
        n += 1
    assert n > 3000


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abnotrw '-AB().,", max_size=40), st.sampled_from(OPTION_SETS))
def test_fast_path_agrees_on_random_option_words(phrase, choices):
    text = f"The answer is {phrase}."
    assert _fast(text, choices) == _general(text, choices)


SHAPES = [
    "<think>\nI hear it.\n</think>\n{}",
    "{}",
    "I hear it.</think>{}",
    "<think>never closed {}",
    "<think>a</think>{}<think>b</think>{}",
    "<think><think>x</think>y</think>{}",
    "</think>{}<think>",
    "</think>{}<think>b</think>{}",
    "<think>a</think>{}<think>b",
    "x</think>{}<think>y</think>",
    "  {}  ",
    "<think>\n" + "listen again. " * 400 + "</think>\n{}",
    # other '<' than the two tags, which the reader's quick tag check must not miss
    "<think>3 < 4, <b>bold</b></think>{}",
    "<<think>>x</think>{}",
    "<think>a</think>{}<thinking>",
    "<think>a</think>{}<",
    "<<think>a</think>{}<think>b</think>{}",
    "<think>a</think><think>{}</think>c",
    "<think>a</think>{}</think>",
    "a<b</think>{}",
    "<think>x<think>y</think>z</think>{}<think>",
]
# Open answers (no options): numbers in and out of the canonical sentence, and text.
NUMBERS = [
    "121",
    "-49",
    "4.5",
    "-0.25",
    "4.5.5",
    "+3",
    "1,000",
    "12 or 13",
    "not 5",
    "Fay",
    "",
    "3.",
    "1e3",
    "٣",
    "１２",
]


def _completions(bodies):
    for shape, body in itertools.product(SHAPES, bodies):
        yield shape.format(body, body) if shape.count("{}") == 2 else shape.format(body)


def _hostile_bodies():
    hostile = json.loads((FIXTURES / "hostile_completions.json").read_text())
    return [v for k, v in hostile.items() if not k.startswith("_") and isinstance(v, str)]


def test_read_choice_is_parse_completion_choice():
    answers = [t for t, _ in itertools.islice(_answers(), 0, None, 7)]
    for choices in OPTION_SETS:
        for completion in _completions(_hostile_bodies() + answers):
            assert read_choice(completion, list(choices)) == parse_completion(completion, list(choices)).choice, (
                completion[-200:],
                choices,
            )


def test_read_open_is_parse_completion_answer():
    bodies = _hostile_bodies() + [t.format(n) for t, n in itertools.product(TEMPLATES, NUMBERS)]
    n = 0
    for completion in _completions(bodies):
        assert read_open(completion) == parse_completion(completion).answer, completion[-200:]
        n += 1
    assert n > 2000
