"""Attribute claims in a chain of thought, and whether the facts bear them out.

The phrasings live with their families (`ClaimSpec`s in `audiogym.tasks.families.*`); this engine
reads whatever specs are registered. A claim is credited only when it commits to one value of an
attribute the facts can check:
- **negated** mentions ("not minor", "rather than fast") are not claims;
- **hedges** commit to nothing: a sentence that names two or more values of one attribute ("major,
  minor or diminished chords", "100, 170 or 260 Hz") yields no claim at all;
- **echoes** are not evidence: a claim inside a verbatim copy of an option's text ("a waltz (groups
  of three)", "a quiet room"), or a categorical claim about the deciding attribute that uses an
  option's own word ("an ascending melody" for the option "ascending", "a high-pitched voice" for
  "high"), restates the answer instead of what is behind it (no credit; a false echo still counts as wrong);
- a key claimed with two values in different sentences is self-contradictory: wrong in full;
- claims about attributes the facts do not cover are `unverifiable` (the caller charges for them).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from audiogym.tasks.family import ClaimSpec
from audiogym.tasks.registry import claim_spec, claim_specs, read_measured

# English: a negator up to two words before; Chinese: right before, within the same clause.
NEGATION_RE = re.compile(
    r"(?:\b(?:not|no|never|neither|nor|nothing|without|rather than|instead of|unlike)\b|n't)"
    r"\W{0,3}(?:[A-Za-z0-9']+\W+){0,2}$|(?:不是|没有|并非|而非|不)[^，。,.;；:：\s]{0,2}$"
)
NUM_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "once": 1,
    "twice": 2,
    "third": 3,
    "fourth": 4,
    "threes": 3,
    "fours": 4,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
}
_NUMBER_RE = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])|\b(?:one|two|three|four|five|six|seven|eight)s?\b|\bonce\b|\btwice\b"
)
_DISJUNCTION_RE = re.compile(r"\bor\b|\beither\b|\bsomewhere between\b|(?<!\d)/(?!\d)|或|还是")
# Uncertainty with alternatives ("the beats might group in twos or in fours", "maybe 4.4, maybe 2.4")
# commits to nothing, even when only one of the alternatives is a value the phrasings read.
_UNSURE_RE = re.compile(
    r"\b(?:might|may|could|perhaps|possibly|maybe|probably|unsure|not sure|hard to tell)\b|可能|也许|或许"
)
# "2.4 syllables" stays one sentence; the guard skips, in one test, every character that ends none
_SENTENCE_END = re.compile(r"(?=[.!?;。！？；\n])(?:[.!?;](?=\s|$)|[。！？；\n])")


def _num(s: str) -> float | None:
    s = s.lower()
    if s in NUM_WORDS:
        return float(NUM_WORDS[s])
    try:
        return float(s)
    except ValueError:
        return None


@dataclass
class Claim:
    key: str
    value: Any
    text: str
    start: int = 0
    end: int = 0


def _value(spec: ClaimSpec, m: re.Match, const: Any) -> Any:
    if const is not None:
        return const
    raw = next((g for g in m.groups() if g), m.group(0)).lower()
    if spec.numeric:
        n = _num(raw)
        return int(n) if n is not None and spec.integer else n
    return spec.synonyms.get(raw, raw)


def _hedged(spec: ClaimSpec, sentence: str, found: dict[Any, list[Claim]]) -> bool:
    """The sentence names several values of this attribute: listed alternatives commit to none."""
    unsure = len(_UNSURE_RE.findall(sentence))
    if unsure and (unsure > 1 or _DISJUNCTION_RE.search(sentence)):  # "maybe 4.4 a second, maybe 2.4"
        return True
    if spec.numeric:
        return len(found) > 1 or (len(set(_NUMBER_RE.findall(sentence))) > 1 and bool(_DISJUNCTION_RE.search(sentence)))
    named = set(found)
    for word_re, value in spec.compiled_words:  # each word is a regex (plain words match as words)
        for m in word_re.finditer(sentence):
            if not NEGATION_RE.search(sentence[max(0, m.start() - 24) : m.start()]):
                named.add(value)
    if spec.compound and set(spec.compound) & named:
        named = {v for v in named if v in spec.compound}
    return len(named) > 1


def extract_claims(think: str) -> list[Claim]:
    """Committed attribute claims in the reasoning (`read_claims` without the hedges)."""
    return read_claims(think)[0]


def read_claims(think: str) -> tuple[list[Claim], set[str]]:
    """(committed claims, attributes hedged on): claims grouped by sentence, negated mentions and
    hedged sentences left out. Each pattern scans the whole text once."""
    text = think[:20_000].lower()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    bounds = [0] + ends + [len(text)]
    per_sentence: dict[int, list[Claim]] = {}
    hedges: set[int] = set()
    hedged_keys: set[str] = set()
    for spec in claim_specs():
        if not spec.trigger_re.search(text):
            continue
        # every match is kept (not one per value): "the tone is brassy, the overtones are stronger
        # than the fundamental" holds an echo and evidence for the same value, read separately
        by_sentence: dict[int, dict[Any, list[Claim]]] = {}
        for pat, const in spec.compiled:
            for m in pat.finditer(text):
                if NEGATION_RE.search(text[max(0, m.start() - 24) : m.start()]):
                    continue
                v = _value(spec, m, const)
                if v is not None:
                    claim = Claim(spec.key, v, m.group(0), m.start(), m.end())
                    by_sentence.setdefault(bisect.bisect_right(ends, m.start()), {}).setdefault(v, []).append(claim)
        for i, found in sorted(by_sentence.items()):
            if spec.compound and set(spec.compound) & set(found):
                found = {v: c for v, c in found.items() if v in spec.compound}  # rise+fall is one shape
            if _hedged(spec, text[bounds[i] : bounds[i + 1]], found):
                hedges.add(i)
                hedged_keys.add(spec.key)
            per_sentence.setdefault(i, []).extend(c for cs in found.values() for c in _distinct(cs))
    claims = [c for i, cs in sorted(per_sentence.items()) if i not in hedges for c in cs]
    # Weighing values and then committing is reasoning: a key hedged in one sentence and committed
    # to in another counts as the commitment (right or wrong), not as a hedge.
    return claims, hedged_keys - {c.key for c in claims}


def _distinct(claims: list[Claim]) -> list[Claim]:
    """Matches of one value in one sentence, once per span and less those inside another match (two
    patterns, one phrase)."""
    spans = {(c.start, c.end): c for c in reversed(claims)}  # the first claim of each span
    return [
        c for (a, b), c in sorted(spans.items()) if not any((x, y) != (a, b) and x <= a and b <= y for x, y in spans)
    ]


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower()).strip()


def drop_echoes(
    claims: list[Claim], think: str, choices: list[str] | None, answer_keys: tuple[str, ...]
) -> tuple[list[Claim], list[Claim]]:
    """(evidence, echoes): echoes restate an option instead of what is behind it (module docstring)."""
    if not choices:
        return claims, []
    text = think[:20_000].lower()
    options = [_norm(c) for c in choices if len(_norm(c)) >= 3 and not _norm(c).isdigit()]
    spans = [(m.start(), m.end()) for o in options for m in re.finditer(re.escape(o), text)]
    heads = {re.split(r"\s*\(", o)[0] for o in options} | {o.split("-")[0] for o in options}
    evidence: list[Claim] = []
    echoes: list[Claim] = []
    for c in claims:
        inside = any(a <= c.start and c.end <= b for a, b in spans)
        own_word = (
            c.key in answer_keys
            and not claim_spec(c.key).numeric
            and any(re.search(rf"(?<![\w-]){re.escape(h)}(?![\w])", c.text) for h in heads if h)
        )
        (echoes if inside or own_word else evidence).append(c)
    return evidence, echoes


def claimable_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The task's facts plus what they imply (a reverberant hall is reverberant, ...: each spec's
    `derive`)."""
    out = dict(facts)
    for spec in claim_specs():
        if spec.derive is not None and spec.key not in out:
            v = spec.derive(facts)
            if v is not None:
                out[spec.key] = v
    return out


def measured_facts(audio: Any) -> dict[str, Any]:
    """Claimable facts measured from audio (for tasks without synthetic facts): the union of every
    family's `read_facts` over one `audiogym.analysis.measure`."""
    from audiogym.analysis import measure
    from audiogym.data import decode_audio

    y = decode_audio(audio)
    if len(y) < 1600:
        return {}
    return read_measured(measure(y))


def verify(claims: list[Claim], facts: dict[str, Any]) -> tuple[list[Claim], list[Claim], list[Claim]]:
    """(correct, wrong, unverifiable) claims. A categorical key claimed with two values is wrong in full."""
    by_key: dict[str, set] = {}
    for c in claims:
        by_key.setdefault(c.key, set()).add(c.value)
    correct: list[Claim] = []
    wrong: list[Claim] = []
    unknown: list[Claim] = []
    for c in claims:
        spec = claim_spec(c.key)
        if len(by_key[c.key]) > 1 and spec.tolerance is None:
            wrong.append(c)
            continue
        fact = next((facts[k] for k in spec.fact_keys if facts.get(k) is not None), None)
        if spec.tolerance is not None and not (isinstance(fact, (int, float)) and not isinstance(fact, bool)):
            fact = None  # a user's facts may hold a label where a number belongs ({"tempo_bpm": "fast"})
        if fact is None:
            unknown.append(c)
        elif spec.tolerance is not None:
            ok = (
                isinstance(c.value, (int, float))
                and abs(c.value - float(fact)) <= spec.tolerance * abs(float(fact)) + 1e-9
            )
            (correct if ok else wrong).append(c)
        elif c.value == fact or (c.value, fact) in spec.equivalent:
            correct.append(c)
        else:
            wrong.append(c)
    return correct, wrong, unknown
