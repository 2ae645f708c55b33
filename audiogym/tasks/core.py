"""The task model: one audio question with its reference answer and the truth behind it.

An `AudioTask` is what every other part of audiogym reads: environments show it, rewards score
completions against its columns, scripted teachers write reasoning from it, trainers turn it into
dataset rows. Procedural families (`audiogym.tasks.families`, one module each, built on
`family.py`) make tasks from a seed; manifest.py loads them from users' files.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiogym.errors import ConfigError

SAMPLE_RATE = 16_000
# How an item's transcript relates to its answer. Listening shows on independent and none items:
# there neither reading the transcript nor avoiding its option beats chance.
CUES = ("aligned", "conflict", "independent", "none")
LISTEN_CUES = ("independent", "none")
LETTERS = string.ascii_uppercase


@dataclass
class AudioTask:
    """One question about one clip.

    `answer` is the text of the correct choice (or the bare answer for open text tasks);
    `transcript` is the textual surrogate an ASR system or a lyrics sheet would give; `facts` are
    the true acoustic attributes; `conflict` says the transcript points to a wrong answer. `cue`
    says how the transcript was drawn (CUES): aligned (it names the answer), conflict (a wrong
    option), independent (an option drawn uniformly, the answer included, so that reading it and
    avoiding it both score chance), or none (no transcript: the question is audio only).
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
    cue: str = ""  # aligned | conflict | independent | none; derived from transcript and conflict when empty
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self) -> None:
        if not self.cue:
            self.cue = "none" if not self.transcript else "conflict" if self.conflict else "aligned"
        if self.cue not in CUES:
            raise ConfigError(f"task {self.id}: cue={self.cue!r}: expected one of {', '.join(CUES)}")
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
            "cue": self.cue,
        }

    def to_json(self) -> dict[str, Any]:
        d = self.columns()
        d["facts"] = self.facts
        d.update(
            answer_letter=self.answer_letter,
            sample_rate=self.sample_rate,
            duration_s=round(self.duration, 4),
            transcript_label=self.transcript_label,
        )
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
        instruction = (
            "Think about what you hear, then answer with the letter of one choice."
            if task.choices
            else "Think step by step, then give the final answer."
        )
    if instruction:
        lines.append(instruction)
    return "\n".join(lines)


def conversational_prompt(task: AudioTask, system: str | None = None, **kwargs: Any) -> list[dict[str, str]]:
    """TRL's conversational prompt format: a list of chat messages."""
    msgs = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": render_prompt(task, **kwargs)})
    return msgs


def quote(task: AudioTask) -> str:
    """'The transcript says: "..."': how a surrogate reasoner starts, reading the words it was given."""
    verb = "say" if task.transcript_label.endswith("s") else "says"
    return f'The {task.transcript_label.lower()} {verb}: "{task.transcript}"'


def hash_name(name: str) -> int:
    """A stable (process-independent) integer for a name; Python's hash() is salted."""
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:4], "little")
