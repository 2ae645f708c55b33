import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiogym.rewards import exact_answer, is_correct
from audiogym.rewards.parse import parse_completion, split_think

CH = ["cheerful", "sad", "tense", "mysterious"]


@pytest.mark.parametrize(
    "text",
    [
        "B",
        "(B)",
        "B.",
        "B)",
        "**B**",
        "Answer: B",
        "the answer is B",
        "The answer is (B) sad.",
        "\\boxed{B}",
        "sad",
        "Sad.",
        "I think it is sad.",
        "B because the chords are minor",
        "Final answer: sad",
        "<think>\nminor\n</think>\nB",
        "minor chords </think> (B)",
        "\\boxed{\\text{x}} ... the answer is B",
    ],
)
def test_answer_forms_read_as_b(text):
    assert parse_completion(text, CH).choice == 1, text


@pytest.mark.parametrize(
    "text",
    [
        "A or B",
        "A, B, C",
        "(A) cheerful (B) sad (C) tense (D) mysterious",
        "The mood is sad and tense",
        "The answer is (B) cheerful",
        "",
        "   ",
        "E",
        "<think>\nthe answer is B",
        "cheerfulness",
        "\\boxed{A} \\boxed{B C}",
    ],
)
def test_ambiguous_or_missing_answers_are_none(text):
    assert parse_completion(text, CH).choice is None, text


def test_precedence_boxed_over_explicit_over_mentions():
    assert parse_completion("The answer is A. \\boxed{C}", CH).choice == 2
    assert parse_completion("Sad lyrics, tense strings... the answer is D", CH).choice == 3


def test_think_block_forms():
    assert split_think("<think>a</think> B") == ("a", True, "B")
    assert split_think("a</think> B") == ("a", True, "B")  # prompt pre-filled with <think>
    assert split_think("<think>a b") == ("a b", False, "")
    assert split_think("no tags") == (None, True, "no tags")
    assert split_think("<think><think>x</think>y</think>C") == ("<think>x</think>y", True, "C")


def test_open_answers():
    assert is_correct("<think>6*7</think>The answer is 42.", "42")
    assert is_correct("so 7 * 6 = 42", "42")
    assert is_correct("\\boxed{-3}", "-3")
    assert is_correct("The answer is -22.", "-22") and is_correct("The answer is 2.5.", "2.5")
    assert is_correct("The answer is Eli.", "Eli")
    assert not is_correct("The answer is 41.", "42")


def test_exact_answer_trl_signature_and_conversational_completions():
    out = exact_answer(
        prompts=["p", "p"],
        completions=[[{"role": "assistant", "content": "B"}], "A"],
        answer=["sad", "sad"],
        choices=[CH, CH],
        facts=["{}", "{}"],
    )
    assert out == [1.0, 0.0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_parse_never_raises(text):
    p = parse_completion(text, CH)
    assert p.choice is None or 0 <= p.choice < 4
    parse_completion(text, None)


@pytest.mark.parametrize(
    "text",
    [
        "x" * 1_000_000,
        "<think>" * 100_000,
        "(A) " * 250_000,
        "\x00\ud800" * 1000,
        "答案是 B" * 10000,
        "\\boxed{" * 100_000,
    ],
)
def test_huge_and_hostile_strings(text):
    parse_completion(text, CH)
    parse_completion(text, None)


@pytest.mark.parametrize(
    "text",
    [
        "The answer is (A), (B), (C)",
        "The answer is A, B or C.",
        "Answer: A\nAnswer: B\nAnswer: C\nAnswer: D",
        "A, no wait, C",
        "The answer is A... actually, no: C.",
        "B/C",
        "(B) / (C)",
        "sad or tense",
        "It is either cheerful or sad.",
        "\\boxed{A} \\boxed{B}",
        "\\boxed{B}\n\\boxed{C}",
        "<think>\nminor\n</think>\nAnswer: B<think>\nor maybe\n</think>\nAnswer: C",
        "<think>a</think>The answer is B.\n<think>b</think>The answer is B.",
        "答案是A或B",
        "答案：A、B",
        "答案是A，不对，是C",
        "选A\n选C",
        "Final answer: A; final answer: D",
    ],
)
def test_naming_several_options_has_no_answer(text):
    assert parse_completion(text, CH).choice is None, text


@pytest.mark.parametrize(
    "text, want",
    [
        ("答案是C", 2),
        ("答案：C", 2),
        ("答案:C", 2),
        ("答案为C", 2),
        ("选C", 2),
        ("选择C", 2),
        ("我选 C。", 2),
        ("答案是（C）", 2),
        ("答案：（Ｃ）。", 2),
        ("最终答案：Ｃ", 2),
        ("选项C", 2),
        ("我认为选项是 C", 2),
        ("答案是tense", 2),
        ("答案是 tense。", 2),
        ("选择 tense", 2),
        ("<think>\n和弦是减三和弦\n</think>\n答案是C。", 2),
        ("The answer is C, not cheerful.", 2),
        ("The answer is (C) rather than (A).", 2),
        ("答案是C，不是A", 2),
    ],
)
def test_chinese_and_full_width_answer_forms_parse(text, want):
    assert parse_completion(text, CH).choice == want, text
