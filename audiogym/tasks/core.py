"""The task model: one audio question with its reference answer and the truth behind it.

An `AudioTask` is what every other part of audiogym reads: environments show it, rewards score
completions against its columns, scripted teachers write reasoning from it, trainers turn it into
dataset rows. Procedural families (music.py, sound.py, speech.py, text.py) make tasks from a seed;
manifest.py loads them from users' files.
"""
from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from audiogym.errors import ConfigError

SAMPLE_RATE = 16_000
LETTERS = string.ascii_uppercase


@dataclass
class AudioTask:
    """One question about one clip.

    `answer` is the text of the correct choice (or the bare answer for open text tasks);
    `transcript` is the textual surrogate an ASR system or a lyrics sheet would give; `facts` are
    the true acoustic attributes; `conflict` says the transcript points to a wrong answer.
    """

    id: str
    audio: np.ndarray
    question: str
    choices: list[str]
    answer: str
    category: str
    skill: str
    difficulty: str = "medium"
    transcript: str = ""
    transcript_label: str = "Transcript"
    facts: dict[str, Any] = field(default_factory=dict)
    conflict: bool = False
    family: str = ""
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self) -> None:
        self.audio = np.ascontiguousarray(self.audio, dtype=np.float32)
        if self.audio.ndim != 1:
            raise ConfigError(f"task {self.id}: audio must be mono (1-D), got shape {self.audio.shape}")
        if self.choices and self.answer not in self.choices:
            raise ConfigError(f"task {self.id}: answer {self.answer!r} is not among the choices {self.choices}")

    @property
    def answer_index(self) -> int | None:
        return self.choices.index(self.answer) if self.choices else None

    @property
    def answer_letter(self) -> str | None:
        i = self.answer_index
        return None if i is None else LETTERS[i]

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def columns(self) -> dict[str, Any]:
        """The reference columns reward functions receive (one value each, JSON-friendly)."""
        return {
            "task_id": self.id,
            "family": self.family,
            "category": self.category,
            "skill": self.skill,
            "difficulty": self.difficulty,
            "question": self.question,
            "choices": list(self.choices),
            "answer": self.answer,
            "transcript": self.transcript,
            "facts": json.dumps(self.facts, sort_keys=True),
            "conflict": bool(self.conflict),
        }

    def to_json(self) -> dict[str, Any]:
        d = self.columns()
        d["facts"] = self.facts
        d.update(answer_letter=self.answer_letter, sample_rate=self.sample_rate,
                 duration_s=round(self.duration, 4), transcript_label=self.transcript_label)
        return d


def render_prompt(task: AudioTask, show_transcript: bool = True, instruction: str | None = None) -> str:
    """Question, lettered choices, optional transcript line, answer instruction.

    The transcript line ("Transcript: ..." or "Lyrics: ...") is what a cascade system would have;
    turning it off makes the task audio-only.
    """
    lines = [task.question.strip()]
    if task.choices:
        lines += [f"({LETTERS[i]}) {c}" for i, c in enumerate(task.choices)]
    if show_transcript and task.transcript:
        lines.append(f"{task.transcript_label}: {task.transcript}")
    if instruction is None:
        instruction = ("Think about what you hear, then answer with the letter of one choice."
                       if task.choices else "Think step by step, then give the final answer.")
    if instruction:
        lines.append(instruction)
    return "\n".join(lines)


def conversational_prompt(task: AudioTask, system: str | None = None, **kwargs: Any) -> list[dict[str, str]]:
    """TRL's conversational prompt format: a list of chat messages."""
    msgs = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": render_prompt(task, **kwargs)})
    return msgs


# ---- helpers shared by the family modules ---------------------------------------------------

def check_choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: expected one of {list(allowed)}")


def check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (isinstance(value, (int, float)) and lo <= value <= hi):
        raise ConfigError(f"{name}={value!r}: expected a number in [{lo}, {hi}]")


DIFFICULTIES = ("easy", "medium", "hard")
# Distractor-noise SNR in dB by difficulty (None = clean).
SNR_DB = {"easy": None, "medium": 20.0, "hard": 8.0}


@dataclass
class FamilyConfig:
    """Settings every procedural audio family shares."""

    difficulty: str = "medium"
    conflict_rate: float = 0.4  # share of items whose transcript points to a wrong answer
    duration: float = 4.0  # seconds; every clip of a family has exactly this length

    def validate(self) -> "FamilyConfig":
        check_choice("difficulty", self.difficulty, DIFFICULTIES + ("mixed",))
        check_range("conflict_rate", self.conflict_rate, 0.0, 1.0)
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


def transcript_for(rng: np.random.Generator, cues: dict[str, list[str]], answer_class: str,
                   cfg: FamilyConfig) -> tuple[str, bool]:
    """A transcript that points at `answer_class`, or (conflict) at another class."""
    conflict = bool(rng.random() < cfg.conflict_rate)
    cls = answer_class
    if conflict:
        cls = str(rng.choice([c for c in cues if c != answer_class]))
    return str(rng.choice(cues[cls])), conflict


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

    def make(self, seed: int, cfg: Any = None) -> AudioTask:
        """The task of this family for `seed`: same seed and config, same task bit for bit."""
        cfg = (cfg or self.config()).validate()
        rng = np.random.default_rng([hash_name(self.name), int(seed)])
        task = self.generate(rng, cfg)
        task.id = f"{self.name}-{seed}"
        task.family = self.name
        return task

    def transcript_answer(self, task: AudioTask) -> str | None:
        """The answer the transcript's words point to (None when they point nowhere)."""
        return cue_class(task.transcript, self.cues)

    def surrogate(self, task: AudioTask) -> str:
        """A chain that reasons from the transcript alone, as a cascade (ASR + text LLM) would."""
        ans = self.transcript_answer(task)
        if ans is None:
            return f"The {task.transcript_label.lower()} give no clue, so I cannot tell."
        return f"{quote(task)}. These words are about {self.topic}, so going by the words the answer is {ans}."


def quote(task: AudioTask) -> str:
    """'The transcript says: "..."': how a surrogate reasoner starts, reading the words it was given."""
    verb = "say" if task.transcript_label.endswith("s") else "says"
    return f"The {task.transcript_label.lower()} {verb}: \"{task.transcript}\""


def hash_name(name: str) -> int:
    """A stable (process-independent) integer for a name; Python's hash() is salted."""
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:4], "little")
