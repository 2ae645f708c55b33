"""Acoustic grounding: does the reasoning cite what is audible, and is what it says true?

Three readings of the think block (English and Chinese phrasing):
- **cites**: which evidence categories it refers to (pitch / melody, harmony / mode, tempo /
  rhythm / meter, timbre / instrument, loudness / dynamics, space / reverberation, background /
  sound events, voice quality / prosody);
- **surrogate**: how much it leans on the transcript or lyrics instead ("the lyrics say", "the
  speaker says", quoting three or more of the transcript's words in a row), in [0, 1];
- **claims**: attribute claims ("the melody descends", "about 70 BPM", "minor chords", "getting
  louder", "long reverberation", "rising intonation", ...) checked against the task's facts
  (synthetic tasks) or against facts measured from the audio by `audiogym.analysis` (manifests).
  A key claimed with two different values is self-contradictory and counts as wrong. Negated
  mentions ("not minor") are not claims.

Score (`grounding_score`, in [0, 1]):
    0.3 * min(categories, 3) / 3  +  0.7 * clip((correct - 2 * wrong) / 2, 0, 1)
    - 0.3 if any claim is wrong  - 0.5 * surrogate,  halved when the chain is stuffed
    (evidence terms are over half its words, or over 30% across five or more categories),
    clipped to [0, 1].
`is_grounded` is the distillation filter: score, correct claims, wrong claims and surrogate
against thresholds, with the reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from audiogym.rewards.base import Reward, register_reward, row_facts, task_row
from audiogym.rewards.claims import (  # noqa: F401
    Claim,
    claimable_facts,
    drop_echoes,
    extract_claims,
    measured_facts,
    read_claims,
    verify,
)
from audiogym.rewards.outcome import count_words
from audiogym.rewards.parse import split_think
from audiogym.tasks.registry import FAMILIES

# ---- evidence categories ----------------------------------------------------------------------
# Each family owns the words that cite its kind of evidence (`Family.evidence`); the categories are
# their union over the registered families, rebuilt when a family registers.


def first_char_guard(literals: list[str]) -> str:
    """`(?=[...])(?:a|b|...)` over literal strings: the lookahead rejects, in one test, the positions
    where none of them can start (a plain alternation tries every branch at every position)."""
    if not literals:
        return ""
    firsts = "".join(sorted({re.escape(t[0]) for t in literals}))
    return f"(?=[{firsts}])(?:{'|'.join(re.escape(t) for t in literals)})"


def _term_regex(terms: tuple[str, ...]) -> re.Pattern:
    latin = [t for t in terms if t.isascii()]
    cjk = [t for t in terms if not t.isascii()]
    parts = ([rf"\b(?:{'|'.join(latin)})\b"] if latin else []) + ([first_char_guard(cjk)] if cjk else [])
    return re.compile("|".join(parts))  # matched against lowercased text


_evidence_cache: dict[tuple[str, ...], dict[str, re.Pattern]] = {}


def evidence_terms() -> dict[str, tuple[str, ...]]:
    """Evidence category -> its terms, over every registered family (in registration order)."""
    out: dict[str, tuple[str, ...]] = {}
    for family in FAMILIES.values():
        for category, terms in family.evidence.items():
            out[category] = out.get(category, ()) + tuple(t for t in terms if t not in out.get(category, ()))
    return out


def evidence_patterns() -> dict[str, re.Pattern]:
    """One compiled pattern per evidence category (cached for the current set of families)."""
    key = tuple(FAMILIES)
    if key not in _evidence_cache:
        _evidence_cache.clear()
        _evidence_cache[key] = {k: _term_regex(v) for k, v in evidence_terms().items()}
    return _evidence_cache[key]


# Matched against lowercased text: reasoning from the words, not the sound. Every English cue starts
# at a word boundary, tested once before the branches (the Chinese ones behind a first-character guard).
_SURROGATE_EN = (
    r"lyrics?\b|transcript\w*|captions?\b|subtitles?\b|the (?:spoken )?words\b(?! (?:come|comes|came|coming|tumble|tumbling|pour|pouring|spill|spilling|rush|rushing|race|racing|fly|flying|flow|flowing|run|running|drag|dragging|crawl|crawling|arrive|arriving)\b)|the text\b|spoken content\b"
    r"|what (?:is|was|gets) (?:said|sung|spoken)\b|what (?:he|she|they|the \w+) (?:says|said|sings|sang|talks about|means)\b"
    r"|(?:he|she|they|the (?:speaker|singer|narrator|announcer|voice|song|verse|lines?|caption|text))"
    r" (?:says|said|mentions|mentioned|states|sings|sang|tells|told|explains|describes|talks about|introduces"
    r"|announces|claims|suggests|is about|are about)\b"
    r"|tells us\b|according to (?:the |what )?(?:speaker|singer|lyrics|transcript|words|text|caption|narrator|announcer|he|she)"
    r"|going by (?:the words|what)|judging (?:from|by) what\b|based on (?:the )?(?:spoken|what is said|words)"
    r"|in the words of\b|the message of\b|the announcer\b|the narrator\b|sings about\b"
)
_SURROGATE_ZH = [
    "歌词",
    "转录",
    "字幕",
    "文字内容",
    "文本",
    "台词",
    "字面",
    "他说",
    "她说",
    "说话人说",
    "说的内容",
    "说话的内容",
    "根据文字",
    "根据歌词",
    "唱的是",
    "提到",
]
SURROGATE_RE = re.compile(rf"\b(?:{_SURROGATE_EN})|{first_char_guard(_SURROGATE_ZH)}")
# A cue the chain sets aside ("ignoring the words", "not what is said", "不看歌词") is not reliance on it.
_SET_ASIDE = re.compile(
    r"(?:ignor\w*|setting|set|putting|leaving|aside from|regardless of|despite|whatever|beyond|past"
    r"|not|never|instead of|rather than|without|forget|不看|不管|不论|无论|撇开|忽略|抛开|不是|而非)"
    r"\W{0,3}(?:\w+\W+){0,3}$"
)
# Each charged past the first: details the facts cannot check are not grounding.
UNVERIFIABLE_ALLOWANCE = 1


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 2]


# "2.4 syllables" stays one sentence. The first character is matched once for both branches (a
# lookbehind picks the branch), which scans a long chain ~3x faster than the plain alternation.
_SENTENCE_END = re.compile(r"[.!?;。！？；\n](?:(?<=[.!?;])[.!?;]*(?=\s|$)|(?<=[。！？；\n])[。！？；\n]*)")


def distinct_sentences(text: str) -> str:
    """The text with repeated sentences kept once: every reading below is of what the chain says,
    and a chain that loops costs no more to read than its distinct content."""
    seen: set[str] = set()
    out = []
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    for a, b in zip(starts, starts[1:] + [len(text)]):
        s = text[a:b]
        key = s.strip()
        if key and key not in seen:
            seen.add(key)
            out.append(s)
    return "".join(out)


def surrogate_score(think: str, transcript: str) -> tuple[float, list[str]]:
    """How much the reasoning leans on the transcript: cue phrases (unless set aside) and quoted
    word runs, in [0, 1]."""
    low = think[:20_000].lower()
    cues = [
        m.group(0) for m in SURROGATE_RE.finditer(low) if not _SET_ASIDE.search(low[max(0, m.start() - 40) : m.start()])
    ]
    quoted = False
    tw = _content_words(transcript)
    if len(tw) >= 3:
        think_text = " ".join(_content_words(think[:20_000]))
        quoted = any(" ".join(tw[i : i + 3]) in think_text for i in range(len(tw) - 2))
    if transcript and transcript.strip() and transcript.strip().lower() in think.lower():
        quoted = True
    return min(1.0, 0.5 * len(cues) + 0.5 * quoted), cues + (["quotes the transcript"] if quoted else [])


@dataclass
class Grounding:
    score: float
    categories: list[str]
    correct: list[Claim] = field(default_factory=list)
    wrong: list[Claim] = field(default_factory=list)
    unverifiable: list[Claim] = field(default_factory=list)
    surrogate: float = 0.0
    surrogate_cues: list[str] = field(default_factory=list)
    stuffed: bool = False
    echoes: list[Claim] = field(default_factory=list)
    hedged: list[str] = field(default_factory=list)

    def details(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "categories": len(self.categories),
            "correct_claims": len(self.correct),
            "wrong_claims": len(self.wrong),
            "surrogate": self.surrogate,
            "stuffed": self.stuffed,
            "cited": self.categories,
            "verified": [f"{c.key}={c.value}" for c in self.correct],
            "contradicted": [f"{c.key}={c.value}" for c in self.wrong],
            "unverifiable": [f"{c.key}={c.value}" for c in self.unverifiable],
            "echoes": [c.text for c in self.echoes],
            "hedged": self.hedged,
        }


def grounding_of(
    completion: str,
    facts: dict[str, Any],
    transcript: str = "",
    choices: list[str] | None = None,
    family: str | None = None,
) -> Grounding:
    """Read the think block of a completion against the facts (see the module docstring). With the
    task's `choices` and `family`, claims that only restate an option are not credited."""
    think, _, answer = split_think(completion if isinstance(completion, str) else str(completion))
    if not think:
        return Grounding(0.0, [])
    think = distinct_sentences(think[:50_000])
    low = think.lower()
    found = {k: rx.findall(low) for k, rx in evidence_patterns().items()}
    categories = [k for k, v in found.items() if v]
    hits = sum(map(len, found.values()))
    words = max(1, count_words(think))
    stuffed = words >= 5 and (hits / words > 0.5 or (len(categories) >= 5 and hits / words > 0.3))
    answer_keys = FAMILIES[family].answer_keys if family in FAMILIES else ()
    claims, hedged = read_claims(think)
    evidence, echoes = drop_echoes(claims, think, choices, answer_keys)
    facts = claimable_facts(facts)
    correct, wrong, unknown = verify(evidence, facts)
    wrong += verify(echoes, facts)[1]  # restating an option earns nothing, but a false one still costs
    surrogate, cues = surrogate_score(think, transcript)
    n_ok, n_bad, n_unknown = len({c.key for c in correct}), len({c.key for c in wrong}), len({c.key for c in unknown})
    score = 0.3 * min(len(categories), 3) / 3 + 0.7 * min(1.0, max(0.0, (n_ok - 2 * n_bad) / 2))
    score -= 0.3 * (n_bad > 0) + 0.5 * surrogate + 0.2 * max(0, n_unknown - UNVERIFIABLE_ALLOWANCE) + 0.15 * len(hedged)
    if stuffed:
        score *= 0.5
    return Grounding(
        min(1.0, max(0.0, score)), categories, correct, wrong, unknown, surrogate, cues, stuffed, echoes, sorted(hedged)
    )


def grounding_of_row(completion: str, row: dict[str, Any]) -> Grounding:
    """`grounding_of` with everything a dataset row (or `task_row`) carries."""
    choices = row.get("choices")
    return grounding_of(
        completion,
        facts_for_row(row),
        str(row.get("transcript") or ""),
        list(choices) if choices else None,
        row.get("family"),
    )


def facts_for_row(row: dict[str, Any]) -> dict[str, Any]:
    """Synthetic facts when the task has them; else facts measured from the row's audio (cached
    per task id, since GRPO scores many completions of one prompt)."""
    facts = row_facts(row)
    if facts or row.get("audio") is None:
        return facts
    key = str(row.get("task_id") or id(row["audio"]))
    return _measured_by_id(key, row["audio"])


_MEASURED: dict[str, dict[str, Any]] = {}


def _measured_by_id(key: str, audio: Any) -> dict[str, Any]:
    if key not in _MEASURED:
        if len(_MEASURED) > 1024:
            _MEASURED.clear()
        _MEASURED[key] = measured_facts(audio)
    return _MEASURED[key]


@register_reward("grounding")
class GroundingReward(Reward):
    """Acoustic grounding score in [0, 1]; None for text tasks (category 'text')."""

    def __init__(self, name: str = "grounding"):
        self.name = name

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        if row.get("category") == "text":
            return None, {}
        g = grounding_of_row(text, row)
        return g.score, g.details()


@dataclass
class GroundingFilter:
    """The distillation filter's grounding test (MGRD step 2a, criterion 1)."""

    min_score: float = 0.35  # one verified claim and nothing against it
    min_correct_claims: int = 1
    max_wrong_claims: int = 0
    max_surrogate: float = 0.25
    max_unverifiable: int = UNVERIFIABLE_ALLOWANCE  # attributes claimed that the facts cannot check

    def __call__(self, row: dict[str, Any], completion: str) -> tuple[bool, list[str]]:
        return self.judge(grounding_of_row(completion, row))

    def judge(self, g: Grounding) -> tuple[bool, list[str]]:
        reasons = []
        if g.score < self.min_score:
            reasons.append(f"grounding score {g.score:.2f} < {self.min_score}")
        if len({c.key for c in g.correct}) < self.min_correct_claims:
            reasons.append(f"{len(g.correct)} verified claims < {self.min_correct_claims}")
        if len(g.wrong) > self.max_wrong_claims:
            reasons.append("contradicted claims: " + ", ".join(f"{c.key}={c.value}" for c in g.wrong[:5]))
        if len({c.key for c in g.unverifiable}) > self.max_unverifiable:
            reasons.append(
                "claims the facts cannot check: " + ", ".join(f"{c.key}={c.value}" for c in g.unverifiable[:5])
            )
        if g.surrogate > self.max_surrogate:
            reasons.append("leans on the transcript: " + ", ".join(g.surrogate_cues[:3]))
        return not reasons, reasons or ["grounded: " + ", ".join(f"{c.key}={c.value}" for c in g.correct[:5])]


def is_grounded(task: Any, completion: str, **thresholds: Any) -> tuple[bool, list[str]]:
    """Whether a completion's reasoning is acoustically grounded for this task (an AudioTask or a
    dataset row), with the reasons. Thresholds: see `GroundingFilter`."""
    row = task_row(task) if hasattr(task, "columns") else dict(task)
    return GroundingFilter(**thresholds)(row, completion)
