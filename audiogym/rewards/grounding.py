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

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from audiogym.rewards.base import Reward, row_facts, task_row
from audiogym.rewards.outcome import count_words
from audiogym.rewards.parse import split_think
from audiogym.tasks.family import ClaimSpec
from audiogym.tasks.registry import claim_specs, read_measured

# ---- evidence categories ----------------------------------------------------------------------

CATEGORY_TERMS: dict[str, tuple[str, ...]] = {
    "pitch_melody": (r"pitch", r"melod\w*", r"contour", r"notes?", r"interval\w*", r"semitones?", r"octaves?",
                     r"ascend\w*", r"descend\w*", r"hz", r"fundamental", r"f0", "音高", "旋律", "音调", "音程", "八度", "赫兹"),
    "harmony_mode": (r"chords?", r"triads?", r"harmon(?:y|ies)", r"major", r"minor", r"diminished", r"augmented",
                     r"tonality", r"dissonan\w*", r"consonan\w*", r"thirds?", r"fifths?", "和弦", "和声", "大调", "小调", "调式"),
    "tempo_rhythm": (r"tempo", r"bpm", r"beats?", r"rhythm\w*", r"met(?:er|re)", r"waltz", r"march", r"downbeats?",
                     r"accents?", r"pulse", r"syncopat\w*", "节奏", "节拍", "速度", "拍子"),
    "timbre_instrument": (r"timbre", r"overtones?", r"harmonics", r"spectr\w*", r"bright\w*", r"breathy", r"brassy",
                          r"plucked", r"sawtooth", r"attack", r"decay\w*", r"envelope", r"vibrato", "音色", "泛音", "谐波", "频谱"),
    "loudness_dynamics": (r"loud\w*", r"quiet\w*", r"soft\w*", r"volume", r"dynamics?", r"crescendo", r"decrescendo",
                          r"fad(?:e|es|ing)", r"db", r"intensity", "响度", "音量", "渐强", "渐弱", "分贝"),
    "space_reverb": (r"reverb\w*", r"echo\w*", r"acoustics?", r"dry", r"spacious", r"open-air", "混响", "回声", "空间感"),
    "background_events": (r"background", r"noise", r"traffic", r"rumble", r"horns?", r"rain\w*", r"birds?\w*", r"chirps?",
                          r"knocks?", r"beeps?", r"hum", r"footsteps?", r"ambien\w*", r"onsets?", "背景", "噪声", "噪音", "雨声", "鸟", "敲击"),
    "voice_prosody": (r"intonation", r"prosod\w*", r"voice", r"tremor", r"trembl\w*", r"waver\w*", r"shaky", r"syllables?",
                      r"pauses?", r"speaking rate", "语调", "语气", "颤抖", "语速", "停顿", "嗓音"),
}


def _term_regex(terms: tuple[str, ...]) -> re.Pattern:
    latin = [t for t in terms if t.isascii()]
    cjk = [re.escape(t) for t in terms if not t.isascii()]
    parts = ([rf"\b(?:{'|'.join(latin)})\b"] if latin else []) + cjk
    return re.compile("|".join(parts))  # matched against lowercased text


CATEGORY_RE = {k: _term_regex(v) for k, v in CATEGORY_TERMS.items()}

SURROGATE_RE = re.compile(  # matched against lowercased text
    r"\b(?:the )?lyrics\b|\btranscript\b|\bcaption\b|\bthe words\b|\bthe text (?:says|reads)\b|\bthe announcer\b"
    r"|\b(?:he|she|they|the (?:speaker|singer|narrator|announcer|voice)) (?:says|said|mentions|states|sings|tells)\b"
    r"|\baccording to (?:the )?(?:lyrics|transcript|words|text|caption)\b|\bgoing by the words\b"
    r"|歌词|转录|字幕|文字内容|他说|她说|说话人说|根据文字|根据歌词")

NEGATION_RE = re.compile(r"(?:\bnot|\bno|n't|\bnever|\bneither|\bnor|\bwithout|不是|不|没有|并非)\W{0,3}(?:\w+\W+){0,2}$")

# ---- claims -------------------------------------------------------------------------------------
# The claim phrasings live with their families (`ClaimSpec`s in audiogym.tasks.families.*); this
# engine reads whatever specs are registered.

NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "once": 1, "twice": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8}


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


def _value(spec: ClaimSpec, m: re.Match, const: Any) -> Any:
    if const is not None:
        return const
    raw = next((g for g in m.groups() if g), m.group(0)).lower()
    if spec.numeric:
        n = _num(raw)
        return int(n) if n is not None and spec.integer else n
    return spec.synonyms.get(raw, raw)


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？\n]")  # "2.4 syllables" stays one sentence


def extract_claims(think: str) -> list[Claim]:
    """Attribute claims in the reasoning, grouped by sentence, negated mentions left out.

    Each pattern scans the whole text once; a match belongs to the sentence it starts in."""
    text = think[:20_000].lower()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    claims: list[Claim] = []
    for spec in claim_specs():
        if not any(t in text for t in spec.triggers):
            continue
        by_sentence: dict[int, dict[Any, str]] = {}
        for pat, const in spec.compiled:
            for m in pat.finditer(text):
                if NEGATION_RE.search(text[max(0, m.start() - 24):m.start()]):
                    continue
                v = _value(spec, m, const)
                if v is not None:
                    by_sentence.setdefault(bisect.bisect_right(ends, m.start()), {}).setdefault(v, m.group(0))
        for _, found in sorted(by_sentence.items()):
            if spec.compound and set(spec.compound) & set(found):
                found = {v: t for v, t in found.items() if v in spec.compound}
            claims += [Claim(spec.key, v, t) for v, t in found.items()]
    return claims


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
    specs = {s.key: s for s in claim_specs()}
    by_key: dict[str, set] = {}
    for c in claims:
        by_key.setdefault(c.key, set()).add(c.value)
    correct: list[Claim] = []
    wrong: list[Claim] = []
    unknown: list[Claim] = []
    for c in claims:
        spec = specs[c.key]
        if len(by_key[c.key]) > 1 and spec.tolerance is None:
            wrong.append(c)
            continue
        fact = next((facts[k] for k in spec.fact_keys if facts.get(k) is not None), None)
        if fact is None:
            unknown.append(c)
        elif spec.tolerance is not None:
            ok = isinstance(c.value, (int, float)) and abs(c.value - float(fact)) <= spec.tolerance * abs(float(fact)) + 1e-9
            (correct if ok else wrong).append(c)
        elif c.value == fact or (c.value, fact) in spec.equivalent:
            correct.append(c)
        else:
            wrong.append(c)
    return correct, wrong, unknown


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 2]


def surrogate_score(think: str, transcript: str) -> tuple[float, list[str]]:
    """How much the reasoning leans on the transcript: cue phrases and quoted word runs."""
    cues = [m.group(0) for m in SURROGATE_RE.finditer(think[:20_000].lower())]
    quoted = False
    tw = _content_words(transcript)
    if len(tw) >= 3:
        think_text = " ".join(_content_words(think[:20_000]))
        quoted = any(" ".join(tw[i:i + 3]) in think_text for i in range(len(tw) - 2))
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

    def details(self) -> dict[str, Any]:
        return {"score": self.score, "categories": len(self.categories), "correct_claims": len(self.correct),
                "wrong_claims": len(self.wrong), "surrogate": self.surrogate, "stuffed": self.stuffed,
                "cited": self.categories, "verified": [f"{c.key}={c.value}" for c in self.correct],
                "contradicted": [f"{c.key}={c.value}" for c in self.wrong]}


def grounding_of(completion: str, facts: dict[str, Any], transcript: str = "") -> Grounding:
    """Read the think block of a completion against the facts (see the module docstring)."""
    think, _, answer = split_think(completion if isinstance(completion, str) else str(completion))
    if not think:
        return Grounding(0.0, [])
    think = think[:50_000]
    low = think.lower()
    found = {k: rx.findall(low) for k, rx in CATEGORY_RE.items()}
    categories = [k for k, v in found.items() if v]
    hits = sum(map(len, found.values()))
    words = max(1, count_words(think))
    stuffed = words >= 5 and (hits / words > 0.5 or (len(categories) >= 5 and hits / words > 0.3))
    correct, wrong, unknown = verify(extract_claims(think), claimable_facts(facts))
    surrogate, cues = surrogate_score(think, transcript)
    n_ok, n_bad = len({c.key for c in correct}), len({c.key for c in wrong})
    score = 0.3 * min(len(categories), 3) / 3 + 0.7 * min(1.0, max(0.0, (n_ok - 2 * n_bad) / 2))
    score -= 0.3 * (n_bad > 0) + 0.5 * surrogate
    if stuffed:
        score *= 0.5
    return Grounding(min(1.0, max(0.0, score)), categories, correct, wrong, unknown, surrogate, cues, stuffed)


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


class GroundingReward(Reward):
    """Acoustic grounding score in [0, 1]; None for text tasks (category 'text')."""

    def __init__(self, name: str = "grounding"):
        self.name = name

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        if row.get("category") == "text":
            return None, {}
        g = grounding_of(text, facts_for_row(row), str(row.get("transcript") or ""))
        return g.score, g.details()


@dataclass
class GroundingFilter:
    """The distillation filter's grounding test (MGRD step 2a, criterion 1)."""

    min_score: float = 0.4
    min_correct_claims: int = 1
    max_wrong_claims: int = 0
    max_surrogate: float = 0.25

    def __call__(self, row: dict[str, Any], completion: str) -> tuple[bool, list[str]]:
        return self.judge(grounding_of(completion, facts_for_row(row), str(row.get("transcript") or "")))

    def judge(self, g: Grounding) -> tuple[bool, list[str]]:
        reasons = []
        if g.score < self.min_score:
            reasons.append(f"grounding score {g.score:.2f} < {self.min_score}")
        if len({c.key for c in g.correct}) < self.min_correct_claims:
            reasons.append(f"{len(g.correct)} verified claims < {self.min_correct_claims}")
        if len(g.wrong) > self.max_wrong_claims:
            reasons.append("contradicted claims: " + ", ".join(f"{c.key}={c.value}" for c in g.wrong[:5]))
        if g.surrogate > self.max_surrogate:
            reasons.append("leans on the transcript: " + ", ".join(g.surrogate_cues[:3]))
        return not reasons, reasons or ["grounded: " + ", ".join(f"{c.key}={c.value}" for c in g.correct[:5])]


def is_grounded(task: Any, completion: str, **thresholds: Any) -> tuple[bool, list[str]]:
    """Whether a completion's reasoning is acoustically grounded for this task (an AudioTask or a
    dataset row), with the reasons. Thresholds: see `GroundingFilter`."""
    row = task_row(task) if hasattr(task, "columns") else dict(task)
    return GroundingFilter(**thresholds)(row, completion)
