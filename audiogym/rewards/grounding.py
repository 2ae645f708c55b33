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


# key -> list of (pattern, value); value is a constant, or None to take group 1 (numbers/words).
_C = re.compile  # patterns are matched against lowercased text
CLAIM_PATTERNS: dict[str, list[tuple[re.Pattern, Any]]] = {
    "contour": [
        (_C(r"\barch\b|rises? to a peak|up and (?:then )?down|ris\w* [^.]{0,40}?then (?:falls?|descends?|drops?)|先升后降|拱形"), "arch"),
        (_C(r"\bvalley\b|falls? to a low point|down and (?:then )?up|fall\w* [^.]{0,40}?then (?:rises?|climbs?)|先降后升|谷形"), "valley"),
        (_C(r"\bascending\b|\b(?:melody|notes?|line)\b[^.]{0,30}?\b(?:rises|climbs|goes up)\b|each note is higher|上行"), "ascending"),
        (_C(r"\bdescending\b|\b(?:melody|notes?|line)\b[^.]{0,30}?\b(?:falls|drops|goes down|descends)\b|each note is lower|下行"), "descending"),
    ],
    "final_pitch": [
        (_C(r"\bris\w*[^.]{0,30}?\bat the end\b|\brising (?:final )?intonation|\bends? (?:on|with) a rise|句尾上扬|升调"), "rising"),
        (_C(r"\bfall\w*[^.]{0,30}?\bat the end\b|\bfalling (?:final )?intonation|\bends? (?:on|with) a fall|句尾下降|降调"), "falling"),
    ],
    "tempo_bpm": [(_C(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)|每分钟\s*(\d{2,3})\s*拍"), None)],
    "tempo_class": [(_C(r"\b(slow|moderate|fast|quick|brisk)\s+(?:tempo|beat|pace)\b|\btempo is (slow|moderate|fast)\b"), None)],
    "chord_quality": [
        (_C(r"\b(major|minor|diminished|augmented)\s+(?:chords?|triads?|harmon(?:y|ies)|key|mode|quality|progression|tonality)\b"
            r"|\bharmony is (major|minor|diminished|augmented)\b"), None),
        (_C(r"大三和弦|大调"), "major"), (_C(r"小三和弦|小调"), "minor"), (_C(r"减三?和弦"), "diminished"), (_C(r"增三?和弦"), "augmented"),
    ],
    "loudness_trend": [
        (_C(r"getting louder|grows? louder|louder and louder|increasing (?:in )?(?:loudness|volume)|\bcrescendo|越来越响|渐强"), "approaching"),
        (_C(r"getting (?:quieter|softer)|fad(?:es|ing) (?:away|out)|quieter and quieter|decreasing (?:in )?(?:loudness|volume)|越来越小|渐弱"), "receding"),
        (_C(r"(?:steady|constant|unchanging) (?:loudness|volume|level)|音量稳定"), "steady"),
    ],
    "reverberant": [
        (_C(r"\b(?:long|strong|lots of|heavy) (?:reverb\w*|echo\w*)|reverberation tails?|\breverberant\b|\bechoing\b|混响很?[强长大]"), True),
        (_C(r"\bdry\b|\bno reverb\w*|little reverb\w*|short decay|没有混响|很干"), False),
    ],
    "event_count": [(_C(r"\b(\d|one|two|three|four|five|six|seven|eight)\s+(?:separate\s+)?(?:knocks?|beeps?|events?|hits?|taps?)\b"
                       r"|\bknock(?:s|ed)? (once|twice)\b|([一二两三四五六七八\d])\s*[声下次]"), None)],
    "beats_per_bar": [(_C(r"\bin (three|four|3|4)s\b|\bgroups? of (three|four|3|4)\b|\b([34])/4\b|every (third|fourth) beat|([34])拍子"), None)],
    "timbre": [
        (_C(r"\bodd harmonics\b|奇次谐波"), "clarinet-like"),
        (_C(r"\b(?:almost )?pure tone\b|\bno overtones\b|\bhardly any overtones\b|纯音"), "flute-like"),
        (_C(r"\bdecay\w* quickly\b|\bquick decay\b|\bplucked\b|拨弦"), "plucked"),
        (_C(r"\bbrassy\b|\bovertones stronger than the fundamental\b|铜管"), "brassy"),
        (_C(r"\bsawtooth\b|\bfull series of harmonics\b|\bbowed\b|锯齿波"), "string-like"),
    ],
    "tremor": [(_C(r"\bno tremor\b|\bsteady pitch\b|\bwithout (?:a )?tremor\b"), False),
               (_C(r"\btremor\b|\btrembl\w*|\bwaver\w*|\bshaky\b|\bquaver\w*|颤抖|发颤"), True)],
    "pitch_range": [(_C(r"\bwide (?:pitch )?range\b|\blarge pitch swings\b|音域宽"), "wide"),
                    (_C(r"\bnarrow (?:pitch )?range\b|\bmonoton\w*|音域窄|单调"), "narrow")],
    "pitch_class": [(_C(r"\b(low|medium|high)(?:-| )pitched\b|\b(low|deep|high)\s+voice\b|(低|高)音调的?声音"), None)],
    "f0_hz": [(_C(r"(?:fundamental|pitch|f0|voice)[^.]{0,40}?(\d{2,4})\s*hz|基频[^。]{0,10}?(\d{2,4})\s*赫兹"), None)],
    "syllables_per_s": [(_C(r"(\d+(?:\.\d+)?)\s*syllables? per second|每秒\s*(\d+(?:\.\d+)?)\s*个?音节"), None)],
    "rate_class": [(_C(r"\b(slow|normal|moderate|fast|rapid)\s+(?:speaking rate|speech rate|rate of speech)\b"
                       r"|\bspeaking rate is (slow|normal|moderate|fast)\b|\bspeaking (slowly|quickly|fast)\b|语速(快|慢)"), None)],
    "loudness": [(_C(r"\bthe voice is (loud|soft|moderate)\b|\b(loud|soft|quiet) voice\b|\bshouting\b"), None)],
    "pauses": [(_C(r"\blong pauses\b|\bpauses between\b|长时间停顿"), True)],
    "scene": [
        (_C(r"\btraffic\b|\brumble\b|\bhorns? (?:honk|blar)\w*|\bhonk\w*|\bcars? (?:pass|swell|driv)\w*|交通|汽车喇叭"), "street"),
        (_C(r"\brain(?:drops?|fall)?\b|\bdrops\b|\bdownpour\b|\bpouring\b|雨声|下雨"), "rain"),
        (_C(r"\bbird\w*|\bchirp\w*|\bbirdsong\b|鸟叫|鸟鸣"), "park"),
        (_C(r"\bvery low noise floor\b|\bnear silence\b|\bquiet room\b|安静的房间"), "quiet room"),
    ],
}
# A key's patterns run only when the lowercased text contains one of its trigger words (a fast
# substring test; Python's regex costs ~2 ms per pattern on a 20,000-character chain).
TRIGGERS: dict[str, tuple[str, ...]] = {
    "contour": ("arch", "peak", "valley", "low point", "up", "down", "ris", "fall", "ascend", "descend", "climb",
                "drop", "each note", "先", "拱", "谷", "上行", "下行"),
    "final_pitch": ("at the end", "intonation", "ends ", "end on", "end with", "句尾", "升调", "降调"),
    "tempo_bpm": ("bpm", "beats per minute", "每分钟"),
    "tempo_class": ("tempo", "beat", "pace"),
    "chord_quality": ("major", "minor", "diminished", "augmented", "和弦", "调"),
    "loudness_trend": ("louder", "quieter", "softer", "fad", "loudness", "volume", "level", "crescendo", "越来越", "渐", "音量"),
    "reverberant": ("reverb", "echo", "dry", "decay", "混响", "干"),
    "event_count": ("knock", "beep", "event", "hit", "tap", "声", "下", "次"),
    "beats_per_bar": ("in three", "in four", "in 3", "in 4", "group", "/4", "every third", "every fourth", "拍子"),
    "timbre": ("odd harmonics", "pure tone", "overtones", "decay", "plucked", "brassy", "fundamental", "sawtooth",
               "harmonics", "bowed", "奇次", "纯音", "拨弦", "铜管", "锯齿"),
    "tremor": ("tremor", "trembl", "waver", "shaky", "quaver", "steady pitch", "颤"),
    "pitch_range": ("range", "pitch swings", "monoton", "音域", "单调"),
    "pitch_class": ("pitched", "voice", "音调"),
    "f0_hz": ("hz", "赫兹"),
    "syllables_per_s": ("syllable", "音节"),
    "rate_class": ("rate", "speech", "speaking", "语速"),
    "loudness": ("voice", "shouting"),
    "pauses": ("pause", "停顿"),
    "scene": ("traffic", "rumble", "horn", "honk", "car", "rain", "drops", "downpour", "pouring", "bird", "chirp",
              "noise floor", "silence", "quiet room", "交通", "喇叭", "雨", "鸟", "安静"),
}
assert set(TRIGGERS) == set(CLAIM_PATTERNS), "every claim key needs its trigger words"
SYNONYMS = {"quick": "fast", "brisk": "fast", "rapid": "fast", "deep": "low", "quickly": "fast", "slowly": "slow",
            "moderate": "moderate", "normal": "normal", "quiet": "soft", "shouting": "loud", "低": "low", "高": "high",
            "快": "fast", "慢": "slow"}
NUMERIC_TOLERANCE = {"tempo_bpm": 0.15, "f0_hz": 0.2, "syllables_per_s": 0.25, "event_count": 0.0}
# Claims about a key also check these fact keys (first present wins).
FACT_ALIASES = {"rate_class": ("rate_class", "rate"), "pitch_class": ("pitch_class", "pitch_level"),
                "beats_per_bar": ("beats_per_bar",), "f0_hz": ("f0_hz",)}
EQUIVALENT = {("normal", "moderate"), ("moderate", "normal")}


@dataclass
class Claim:
    key: str
    value: Any
    text: str


def _value(key: str, m: re.Match, const: Any) -> Any:
    if const is not None:
        return const
    raw = next((g for g in m.groups() if g), m.group(0)).lower()
    if key in NUMERIC_TOLERANCE or key == "beats_per_bar":
        n = _num(raw)
        return int(n) if n is not None and key in ("event_count", "beats_per_bar") else n
    return SYNONYMS.get(raw, raw)


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？\n]")  # "2.4 syllables" stays one sentence


def extract_claims(think: str) -> list[Claim]:
    """Attribute claims in the reasoning, grouped by sentence, negated mentions left out.

    Each pattern scans the whole text once; a match belongs to the sentence it starts in."""
    text = think[:20_000].lower()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    claims: list[Claim] = []
    for key, patterns in CLAIM_PATTERNS.items():
        if not any(t in text for t in TRIGGERS[key]):
            continue
        by_sentence: dict[int, dict[Any, str]] = {}
        for pat, const in patterns:
            for m in pat.finditer(text):
                if NEGATION_RE.search(text[max(0, m.start() - 24):m.start()]):
                    continue
                v = _value(key, m, const)
                if v is not None:
                    by_sentence.setdefault(bisect.bisect_right(ends, m.start()), {}).setdefault(v, m.group(0))
        for _, found in sorted(by_sentence.items()):
            if key == "contour" and ({"arch", "valley"} & set(found)):
                found = {v: t for v, t in found.items() if v in ("arch", "valley")}  # rise+fall is one shape
            claims += [Claim(key, v, t) for v, t in found.items()]
    return claims


def claimable_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The task's facts plus what they imply (a reverberant hall is reverberant, ...)."""
    out = dict(facts)
    if "scene" in facts:
        out.setdefault("reverberant", facts["scene"] == "reverberant hall")
    if "tempo_class" not in out and isinstance(facts.get("tempo_bpm"), (int, float)):
        from audiogym.tasks.music import tempo_class
        out["tempo_class"] = tempo_class(facts["tempo_bpm"])
    return out


def measured_facts(audio: Any) -> dict[str, Any]:
    """Claimable facts measured from audio (for tasks without synthetic facts)."""
    from audiogym.analysis import measure
    from audiogym.data import decode_audio
    from audiogym.tasks.music import tempo_class
    from audiogym.tasks.sound import loudness_class
    from audiogym.tasks.speech import pitch_class, rate_class

    y = decode_audio(audio)
    if len(y) < 1600:
        return {}
    m = measure(y)
    return {k: v for k, v in {
        "contour": m.contour, "final_pitch": m.final_pitch, "tempo_bpm": m.tempo_bpm, "tempo_class": tempo_class(m.tempo_bpm),
        "chord_quality": m.chord_quality, "loudness_trend": loudness_class(m.level_slope_db_per_s),
        "reverberant": None if m.reverb_rt60 is None else m.reverb_rt60 > 0.6, "event_count": m.event_count,
        "beats_per_bar": m.accent_period, "timbre": m.timbre, "tremor": m.tremor_st > 0.35 if m.f0_median_hz else None,
        "pitch_class": pitch_class(m.f0_median_hz), "f0_hz": m.f0_median_hz, "syllables_per_s": m.syllable_rate or None,
        "rate_class": rate_class(m.syllable_rate), "scene": m.scene}.items() if v is not None}


def verify(claims: list[Claim], facts: dict[str, Any]) -> tuple[list[Claim], list[Claim], list[Claim]]:
    """(correct, wrong, unverifiable) claims. A key claimed with two values is wrong in full."""
    by_key: dict[str, set] = {}
    for c in claims:
        by_key.setdefault(c.key, set()).add(c.value)
    correct, wrong, unknown = [], [], []
    for c in claims:
        if len(by_key[c.key]) > 1 and c.key not in NUMERIC_TOLERANCE:
            wrong.append(c)
            continue
        fact = next((facts[k] for k in FACT_ALIASES.get(c.key, (c.key,)) if facts.get(k) is not None), None)
        if fact is None:
            unknown.append(c)
        elif c.key in NUMERIC_TOLERANCE:
            ok = isinstance(c.value, (int, float)) and abs(c.value - float(fact)) <= NUMERIC_TOLERANCE[c.key] * abs(float(fact)) + 1e-9
            (correct if ok else wrong).append(c)
        elif c.value == fact or (c.value, fact) in EQUIVALENT:
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
