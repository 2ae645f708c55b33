"""What a procedural family is made of: its config, its `Family` card and its claim specs.

A family module (`audiogym.tasks.families.<name>`) defines a `FamilyConfig` subclass with
`validate()`, a generator, a reader of measured facts, the grounded and surrogate chain writers
and the `ClaimSpec`s of the attributes its facts hold, and ends with `register(Family(...))`.
Nothing else in audiogym needs to change for a new family (CONTRIBUTING.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from audiogym.errors import ConfigError
from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask, hash_name, quote


@dataclass(frozen=True)
class ClaimSpec:
    """How a chain of thought states one attribute, and how the claim is checked.

    - `key`: the fact the claim is about (a key of the task's facts, or of facts measured from audio).
    - `patterns`: (regex, value) pairs matched against the lowercased reasoning, English and
      Chinese. The value is a constant, or None to read it from the regex's first non-empty group
      (a number, or a word mapped through `synonyms`).
    - `triggers`: substrings; the patterns run only when one occurs (a substring test is ~100x
      cheaper than a regex pass over a long chain).
    - `tolerance`: for numeric claims, the relative error that still counts as correct (0 = exact);
      None for categorical claims. `integer`: the number is a count.
    - `aliases`: other fact keys holding the same attribute (another family's name for it).
    - `equivalent`: pairs of values that count as the same ("normal" and "moderate" rate).
    - `compound`: values that stand for a whole shape when they occur with others in one sentence
      (a melody that rises then falls is an arch, not "ascending" and "descending").
    - `derive`: the value implied by other facts when the key itself is absent (a reverberant hall
      is reverberant), or None.
    - `value_words`: words that name a value on their own (a regex matched as a whole word -> the
      value), so that a sentence listing several of them ("major, minor or diminished chords") is
      read as a hedge, not a claim.
    - `anchors` and `lexicon`: a claim in any word order. A clause (up to a comma or a sentence end)
      that holds an anchor (a plain word that says the clause is about this attribute: "end",
      "inflection") and a word of one value's lexicon (regexes: "upward", "lifts?") claims that
      value ("an upward inflection at the end", "at the end it lifts"). Phrase lists miss the next
      listener's wording; this reads it (benchmarks/grounding_wording.py). A clause with words of
      two values claims both, which the sentence's hedge test then reads as no commitment.
    """

    key: str
    patterns: tuple[tuple[str, Any], ...]
    triggers: tuple[str, ...]
    tolerance: float | None = None
    integer: bool = False
    synonyms: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    equivalent: tuple[tuple[Any, Any], ...] = ()
    compound: tuple[Any, ...] = ()
    derive: Callable[[dict[str, Any]], Any] | None = None
    value_words: dict[str, Any] = field(default_factory=dict)
    anchors: tuple[str, ...] = ()
    lexicon: dict[Any, tuple[str, ...]] = field(default_factory=dict)
    compiled: tuple[tuple[re.Pattern, Any], ...] = field(init=False, repr=False, compare=False)
    trigger_re: re.Pattern = field(init=False, repr=False, compare=False)  # any trigger, in one C-level scan
    compiled_words: tuple[tuple[re.Pattern, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.triggers:
            raise ConfigError(f"claim spec {self.key!r}: needs at least one trigger word")
        if bool(self.anchors) != bool(self.lexicon):
            raise ConfigError(f"claim spec {self.key!r}: anchors and lexicon go together")
        patterns = self.patterns + tuple((clause_pattern(self.anchors, words), v) for v, words in self.lexicon.items())
        object.__setattr__(self, "compiled", tuple((re.compile(p), v) for p, v in patterns))
        triggers = self.triggers + self.anchors
        object.__setattr__(self, "trigger_re", re.compile("|".join(re.escape(t) for t in triggers)))
        object.__setattr__(
            self,
            "compiled_words",
            tuple((re.compile(rf"(?<![\w-]){w}(?![\w-])"), v) for w, v in self.value_words.items()),
        )

    @property
    def numeric(self) -> bool:
        return self.tolerance is not None or self.integer

    @property
    def fact_keys(self) -> tuple[str, ...]:
        return (self.key,) + self.aliases


def clause_pattern(anchors: tuple[str, ...], words: tuple[str, ...]) -> str:
    """An anchor and one of `words` in either order within a clause (no comma or sentence end between)
    and no negation between them ("the level doesn't rise" claims nothing)."""
    a = r"\b(?:" + "|".join(re.escape(w) for w in anchors) + r")\b"
    v = r"\b(?:" + "|".join(words) + r")\b"
    gap = r"(?:(?!\b(?:not|no|never|nor|neither|without)\b|n't)[^.;,!?:\n]){0,50}?"
    return rf"{a}{gap}{v}|{v}{gap}{a}"


def check_choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: expected one of {list(allowed)}")


def check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (isinstance(value, (int, float)) and lo <= value <= hi):
        raise ConfigError(f"{name}={value!r}: expected a number in [{lo}, {hi}]")


TRANSCRIPT_MODES = ("mixed", "independent", "none")
DIFFICULTIES = ("easy", "medium", "hard")
# Distractor-noise SNR in dB by difficulty (None = clean).
SNR_DB = {"easy": None, "medium": 20.0, "hard": 8.0}


@dataclass
class FamilyConfig:
    """Settings every procedural audio family shares."""

    difficulty: str = "medium"
    conflict_rate: float = 0.4  # share of items whose transcript points to a wrong answer
    # mixed: aligned or conflict (conflict_rate); independent: the transcript names an option drawn
    # uniformly (the answer included); none: no transcript (audio only). Task ids of the last two
    # carry it ("Tempo-12@independent"): the same seed makes the same clip in every mode.
    transcript_mode: str = "mixed"
    duration: float = 4.0  # seconds; every clip of a family has exactly this length

    def validate(self) -> FamilyConfig:
        check_choice("difficulty", self.difficulty, DIFFICULTIES + ("mixed",))
        check_range("conflict_rate", self.conflict_rate, 0.0, 1.0)
        check_choice("transcript_mode", self.transcript_mode, TRANSCRIPT_MODES)
        check_range("duration", self.duration, 1.0, 30.0)
        return self


def pick_difficulty(rng: np.random.Generator, cfg: FamilyConfig) -> str:
    return str(rng.choice(DIFFICULTIES)) if cfg.difficulty == "mixed" else cfg.difficulty


def shuffled_choices(rng: np.random.Generator, options: list[str], answer: str, k: int | None = None) -> list[str]:
    """`k` options (all by default) that include `answer`, in a seeded random order."""
    others = [o for o in options if o != answer]
    if k is not None:
        others = list(rng.permutation(others))[: k - 1]
    picked = [answer] + list(others)
    return [picked[i] for i in rng.permutation(len(picked))]


def clip_task(
    rng: np.random.Generator,
    audio: np.ndarray,
    *,
    question: str,
    options: list[str],
    answer: str,
    category: str,
    skill: str,
    difficulty: str,
    transcript: str,
    transcript_label: str,
    facts: dict[str, Any],
    conflict: bool,
    cue: str = "",
    k: int | None = None,
    sort_key: Callable[[str], Any] | None = None,
) -> AudioTask:
    """The ending every audio family's generator shares: the clip finished for output
    (`synth.finish`), `k` of the options (all by default) with the answer among them in a seeded
    order (or sorted by `sort_key`), and the id and family left for `Family.make` to fill."""
    choices = shuffled_choices(rng, options, answer, k)
    return AudioTask(
        id="",
        audio=synth.finish(audio),
        question=question,
        choices=sorted(choices, key=sort_key) if sort_key else choices,
        answer=answer,
        category=category,
        skill=skill,
        difficulty=difficulty,
        transcript=transcript,
        transcript_label=transcript_label,
        facts=facts,
        conflict=conflict,
        cue=cue,
    )


def transcript_for(
    rng: np.random.Generator, cues: dict[str, list[str]], answer_class: str, cfg: FamilyConfig
) -> tuple[str, bool, str]:
    """(transcript, conflict, cue) by `cfg.transcript_mode`: mixed, a transcript that points at
    `answer_class` or (conflict, `conflict_rate`) at another class; independent, one that points at
    a class drawn uniformly; none, no transcript."""
    mode = cfg.transcript_mode
    if mode == "none":
        return "", False, "none"
    if mode == "independent":
        cls = str(rng.choice(list(cues)))
        return str(rng.choice(cues[cls])), cls != answer_class, "independent"
    conflict = bool(rng.random() < cfg.conflict_rate)
    cls = answer_class
    if conflict:
        cls = str(rng.choice([c for c in cues if c != answer_class]))
    return str(rng.choice(cues[cls])), conflict, "conflict" if conflict else "aligned"


def cue_class(text: str, cues: dict[str, list[str]]) -> str | None:
    """The class whose cue phrases the text contains (the textual surrogate's reading)."""
    low = text.lower()
    for cls, phrases in cues.items():
        if any(p.lower() in low for p in phrases):
            return cls
    return None


@dataclass(frozen=True)
class Family:
    """A procedural task family: how to make a task and how to reason about it.

    - `generate(rng, cfg)` makes one task from a seeded generator.
    - `read_facts(measurement)` turns facts measured by `audiogym.analysis` into the same keys as
      the task's true `facts`; `answer_keys` are the facts the answer depends on.
    - `answer_from(facts)` is the answer those facts imply; `grounded(task, facts)` writes a chain
      that cites that acoustic evidence.
    - `cues` maps each answer to the transcript phrases that suggest it; `transcript_answer` and
      `surrogate` are the textual-surrogate reasoner, who reads only those words.
    - `claims` are the attribute claims a chain of thought can make about this family's facts
      (`ClaimSpec`); the grounding reward checks them (`audiogym.rewards.grounding`).
    - `evidence` names the words that cite this family's kind of evidence (category -> regex
      terms); the grounding reward counts the categories a chain cites over every family's.
    """

    name: str
    category: str
    description: str
    config: type
    generate: Callable[[np.random.Generator, Any], AudioTask]
    answer_keys: tuple[str, ...]
    read_facts: Callable[[Any], dict[str, Any]]
    answer_from: Callable[[dict[str, Any]], str]
    grounded: Callable[[AudioTask, dict[str, Any]], str]
    cues: dict[str, list[str]]
    topic: str = "that"
    claims: tuple[ClaimSpec, ...] = ()
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ordered_choices: bool = False  # the options keep an order of their own (counts ascending), not a random one

    def make(self, seed: int, cfg: Any = None) -> AudioTask:
        """The task of this family for `seed`: same seed and config, same task bit for bit. `cfg` is
        the family's config, or a mapping of its fields ({"difficulty": "hard"})."""
        cfg = self.make_config(cfg) if isinstance(cfg, dict) else (cfg or self.config()).validate()
        rng = np.random.default_rng([hash_name(self.name), int(seed)])
        task = self.generate(rng, cfg)
        mode = getattr(cfg, "transcript_mode", "mixed")
        task.id = f"{self.name}-{seed}" + ("" if mode == "mixed" else f"@{mode}")
        task.family = self.name
        return task

    def make_config(self, overrides: dict[str, Any] | None = None, strict: bool = True) -> Any:
        """The family's config with `overrides` applied and validated; unknown keys are an error
        (or, with strict=False, left out: a mixture passes each family the keys it has)."""
        from dataclasses import fields

        names = {f.name for f in fields(self.config)}
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - names)
        if unknown and strict:
            raise ConfigError(f"{self.name}: unknown config key {unknown[0]!r}; known: {', '.join(sorted(names))}")
        return self.config(**{k: v for k, v in overrides.items() if k in names}).validate()

    def __reduce__(self) -> tuple:
        """Pickled by name (environments and vector env workers carry families)."""
        from audiogym.tasks.registry import get_family

        return (get_family, (self.name,))

    def transcript_answer(self, task: AudioTask) -> str | None:
        """The answer the transcript's words point to (None when they point nowhere)."""
        return cue_class(task.transcript, self.cues)

    def twin(self, task: AudioTask) -> AudioTask:
        """The same clip and question with the transcript's words turned the other way: an aligned
        item's twin has words pointing to a wrong answer, a conflict item's twin words pointing to the
        right one. Trained side by side, the pair pays listening (right on both) and neither reading
        the words nor answering against them (right on one each)."""
        if not self.cues or task.answer not in self.cues:
            raise ConfigError(f"{task.id}: family {self.name!r} has no transcript cues to make a twin from")
        rng = np.random.default_rng([hash_name(self.name), hash_name(task.id), 1])
        cls = task.answer if task.conflict else str(rng.choice([c for c in self.cues if c != task.answer]))
        transcript = str(rng.choice(self.cues[cls]))
        return replace(
            task, id=f"{task.id}-twin", transcript=transcript, conflict=not task.conflict, facts=dict(task.facts)
        )

    def reask(self, task: AudioTask, asking: int) -> AudioTask:
        """The same clip and question asked afresh (`asking` numbers the askings): the options in
        another random order (unless the family orders them) and, on an independent item, the
        transcript naming an option drawn again uniformly. Trained on many askings of one clip, a
        model cannot fit the answer to the prompt's letters or words; only the clip carries it."""
        rng = np.random.default_rng([hash_name(self.name), hash_name(task.id), 2, int(asking)])
        choices = list(task.choices)
        if not self.ordered_choices:
            choices = [choices[i] for i in rng.permutation(len(choices))]
        transcript, conflict = task.transcript, task.conflict
        if task.cue == "independent":
            cls = str(rng.choice(list(self.cues)))
            transcript, conflict = str(rng.choice(self.cues[cls])), cls != task.answer
        return replace(
            task,
            id=f"{task.id}-ask{asking}",
            choices=choices,
            transcript=transcript,
            conflict=conflict,
            facts=dict(task.facts),
        )

    def surrogate(self, task: AudioTask) -> str:
        """A chain that reasons from the transcript alone, as a cascade (ASR + text LLM) would."""
        ans = self.transcript_answer(task)
        if ans is None:
            return f"The {task.transcript_label.lower()} give no clue, so I cannot tell."
        return f"{quote(task)}. These words are about {self.topic}, so going by the words the answer is {ans}."
