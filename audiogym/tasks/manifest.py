"""Users' benchmarks as tasks: MMAU-style JSON, MMAR JSONL, MMAU-Pro parquet and generic JSONL
manifests (`audiogym.benchmarks` knows each benchmark's layout and scoring).

MMAU-style: a JSON list of rows `{"id", "audio_id", "question", "choices", "answer", "task",
"sub-category", "difficulty", ...}` with `answer` the text of a choice. Generic JSONL: one row per
line with `audio`, `question`, `choices`, `answer`, optional `category`, `transcript`, `id`.
Audio paths are relative to the manifest's folder; audio is read with soundfile, mixed to mono and
resampled to 16 kHz.

Rows are validated when the manifest loads (audio headers included, and the samples of float
WAVs, which can hold NaN or Inf). A bad row raises a `ManifestError` naming the file, row and
field; with `skip_invalid=True` the rest loads and `skipped` lists every row left out and why.
Nothing is dropped silently. The policy, row by row:
- a UTF-8 byte-order mark is allowed; `answer` is a choice's text, or an integer index into
  `choices` (0-based);
- at most 26 choices (they are lettered A-Z): more is an invalid row; repeated choices are kept
  (MMAU has rows like ['four', 'nine', 'fourteen', 'fourteen'] and its scorer scores them) and
  counted in `repeated_choices`;
- rows a multiple-choice audio question cannot hold (open-ended, instruction following,
  multi-audio: `benchmarks.unsupported`) are counted by reason in `unsupported`, not loaded;
- audio with NaN or infinite samples, or no samples, is an invalid row;
- a repeated `id` is kept, renamed `<id>#<row>` (noted in `notes`), so no two rows share a task id
  (the grounding reward caches what it measures per task id);
- clips are read up to `max_seconds` (30 s by default; None reads everything), so a 10-minute file
  costs what 30 s cost;
- audio paths are relative to the manifest's folder or absolute, and may point anywhere the user
  can read (MMAU's layout keeps audio beside the JSON); `confine=True` makes a path that resolves
  outside the manifest's folder an invalid row.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from audiogym.benchmarks import detect, unsupported
from audiogym.errors import AudioError, ManifestError
from audiogym.tasks.core import SAMPLE_RATE, AudioTask

log = logging.getLogger(__name__)
AUDIO_FIELDS = ("audio", "audio_id", "audio_path", "path")
CATEGORY_FIELDS = ("category", "task", "modality")


def missing_or_not_a_file(path: Path) -> str:
    """Why a path is no audio file: missing, or there but not a regular file (a folder, a device)."""
    if not path.exists():
        return "audio file not found"
    return "not a regular file (a folder or a device)" if path.is_dir() else "not a regular file (a device or a pipe)"


def load_audio(path: str | Path, sr: int = SAMPLE_RATE, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 at `sr` in [-1, 1], the first `max_seconds` only (None: all). Raises AudioError
    naming the file on any failure."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: {missing_or_not_a_file(path)}")
    try:
        frames = -1 if max_seconds is None else int(max_seconds * sf.info(str(path)).samplerate)
        data, file_sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)  # reads no more
    except Exception as e:  # noqa: BLE001 - libsndfile raises several types; all mean unreadable
        raise AudioError(f"{path}: cannot read audio ({e})") from None
    if data.size == 0:
        raise AudioError(f"{path}: audio file has no samples")
    y = data.mean(axis=1)
    if file_sr != sr:
        import librosa

        y = librosa.resample(y, orig_sr=file_sr, target_sr=sr)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    return np.clip(y, -1.0, 1.0).astype(np.float32)


@dataclass
class ManifestRow:
    row: int
    id: str
    audio_path: Path
    question: str
    choices: list[str]
    answer: str
    category: str
    transcript: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)  # the row as the file has it (for predictions)


def _read_records(path: Path) -> list[tuple[int, Any, str | None]]:
    """(row number, parsed record or None, JSON error or None) for each row of the file."""
    if path.suffix.lower() == ".parquet":
        return [(i, rec, None) for i, rec in enumerate(_parquet_records(path), start=1)]
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not an error
    except FileNotFoundError:
        raise ManifestError(path, "manifest file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(path, f"cannot read manifest ({e})") from None
    if path.suffix.lower() == ".jsonl":
        out: list[tuple[int, Any, str | None]] = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append((i, json.loads(line), None))
            except json.JSONDecodeError as e:
                out.append((i, None, f"not valid JSON ({e.msg}, column {e.colno})"))
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ManifestError(path, f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    if isinstance(data, dict):
        data = data.get("data", data.get("rows"))
    if not isinstance(data, list):
        raise ManifestError(path, 'expected a JSON list of rows (or {"data": [...]})')
    return [(i, rec, None) for i, rec in enumerate(data, start=1)]


def _parquet_records(path: Path) -> list[dict[str, Any]]:
    """A parquet table's rows as plain JSON-like dicts (arrays become lists)."""
    import numpy as np

    try:
        import pandas as pd

        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise ManifestError(path, "manifest file not found") from None
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types; all mean unreadable
        raise ManifestError(path, f"cannot read parquet ({str(e).splitlines()[0]})") from None

    def plain(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return [plain(x) for x in v.tolist()]
        if isinstance(v, np.generic):
            return v.item()
        return v

    return [{k: plain(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


MAX_CHOICES = 26  # lettered A-Z


def _validate(path: Path, row: int, rec: Any, confine: bool = False, max_seconds: float | None = None) -> ManifestRow:
    def fail(msg: str, fld: str | None = None) -> ManifestError:
        return ManifestError(path, msg, row=row, field=fld)

    if not isinstance(rec, dict):
        raise fail(f"expected a JSON object, got {type(rec).__name__}")
    original = rec  # what the file has, for prediction files in the benchmark's own format
    audio_key = next((k for k in AUDIO_FIELDS if k in rec), None)
    if audio_key is not None and isinstance(rec[audio_key], list) and len(rec[audio_key]) == 1:
        rec = {**rec, audio_key: rec[audio_key][0]}  # MMAU-Pro lists a single clip too
    if audio_key is None or not isinstance(rec[audio_key], str) or not rec[audio_key].strip():
        raise fail(f"missing audio path (one of {', '.join(AUDIO_FIELDS)})", audio_key or "audio")
    question = rec.get("question")
    if not isinstance(question, str) or not question.strip():
        raise fail("missing or empty question", "question")
    choices = rec.get("choices")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
        raise fail("expected a list of at least two non-empty strings", "choices")
    choices = [c.strip() for c in choices]
    if len(choices) > MAX_CHOICES:
        raise fail(f"{len(choices)} choices: at most {MAX_CHOICES} (lettered A-Z)", "choices")
    answer = rec.get("answer")
    if isinstance(answer, int) and not isinstance(answer, bool):
        if not 0 <= answer < len(choices):
            raise fail(f"answer index {answer} is outside the {len(choices)} choices (0-based)", "answer")
        answer = choices[answer]
    if not isinstance(answer, str) or not answer.strip():
        raise fail("missing answer (a choice's text or its 0-based index)", "answer")
    if answer.strip() not in choices:
        raise fail(f"answer {answer.strip()!r} is not among the choices {choices}", "answer")
    audio_path = Path(rec[audio_key])
    if not audio_path.is_absolute():
        audio_path = path.parent / audio_path
    if confine and not audio_path.resolve().is_relative_to(path.parent.resolve()):
        raise fail(f"audio path {rec[audio_key]!r} leads outside the manifest's folder (confine=True)", audio_key)
    if not audio_path.is_file():
        raise fail(f"{missing_or_not_a_file(audio_path)}: {audio_path}", audio_key)
    try:
        info = sf.info(str(audio_path))
    except Exception as e:  # noqa: BLE001
        raise fail(f"cannot read audio {audio_path} ({e})", audio_key) from None
    if info.frames == 0:
        raise fail(f"audio file {audio_path} has no samples", audio_key)
    if info.subtype in ("FLOAT", "DOUBLE"):  # only float samples can be NaN or infinite
        try:
            load_audio(audio_path, max_seconds=max_seconds)
        except AudioError as e:
            raise fail(str(e), audio_key) from None
    category = next((str(rec[k]) for k in CATEGORY_FIELDS if isinstance(rec.get(k), str)), "unknown").lower()
    transcript = rec.get("transcript", "")
    known = set(AUDIO_FIELDS) | set(CATEGORY_FIELDS) | {"id", "question", "choices", "answer", "transcript"}
    return ManifestRow(
        row=row,
        id=str(rec.get("id", f"{path.stem}-{row}")),
        audio_path=audio_path,
        question=question.strip(),
        choices=choices,
        answer=answer.strip(),
        category=category,
        transcript=transcript if isinstance(transcript, str) else "",
        extra={k: v for k, v in rec.items() if k not in known},
        record=original,
    )


class Manifest:
    """A benchmark file as a task source: `task(i)`, `make(seed)`, `len()`, `skipped`."""

    name = "Manifest"
    category = "mixed"

    def __init__(
        self, path: str | Path, skip_invalid: bool = False, max_seconds: float | None = 30.0, confine: bool = False
    ):
        self.path = Path(path)
        self.max_seconds = max_seconds
        self.rows: list[ManifestRow] = []
        self.skipped: list[tuple[int, str]] = []
        self.notes: list[str] = []
        self.unsupported: dict[str, int] = {}  # rows not multiple-choice audio questions, by reason
        self.repeated_choices = 0  # rows whose choices repeat (kept and scored)
        records = _read_records(self.path)
        self.benchmark = detect([rec for _, rec, _ in records], self.path)
        ids: set[str] = set()
        for row, rec, json_error in records:
            why = None if json_error else unsupported(rec)
            if why is not None:
                self.unsupported[why] = self.unsupported.get(why, 0) + 1
                continue
            try:
                if json_error:
                    raise ManifestError(self.path, json_error, row=row)
                r = _validate(self.path, row, rec, confine=confine, max_seconds=max_seconds)
            except ManifestError as e:
                if not skip_invalid:
                    raise
                self.skipped.append((row, str(e)))
                continue
            if r.id in ids:
                self.notes.append(f"{self.path}, row {row}: id {r.id!r} repeats an earlier row; renamed {r.id}#{row}")
                r.id = f"{r.id}#{row}"
            ids.add(r.id)
            self.repeated_choices += len(set(r.choices)) != len(r.choices)
            self.rows.append(r)
        for _row, msg in self.skipped:
            log.warning("skipped %s", msg)
        if self.repeated_choices:
            self.notes.append(
                f"{self.repeated_choices} rows have repeated choices; they are kept and scored (as the official scorer does)"
            )
        if not self.rows:
            left = [f"{len(self.skipped)} skipped"] * bool(self.skipped) + [
                f"{n} {why}" for why, n in self.unsupported.items()
            ]
            raise ManifestError(self.path, "no usable rows" + (f" ({', '.join(left)})" if left else ""))
        self.description = f"{len(self.rows)} questions from {self.path.name}"

    def __len__(self) -> int:
        return len(self.rows)

    def report(self) -> str:
        lines = [
            f"{self.path}: loaded {len(self.rows)} rows, skipped {len(self.skipped)} ({self.benchmark.name} layout)"
        ]
        lines += [f"  unsupported, not scored: {n} {why}" for why, n in self.unsupported.items()]
        lines += [f"  {msg}" for _, msg in self.skipped] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def task(self, index: int) -> AudioTask:
        r = self.rows[index]
        try:
            audio = load_audio(r.audio_path, max_seconds=self.max_seconds)
        except AudioError as e:
            raise ManifestError(self.path, str(e), row=r.row, field="audio") from None
        return AudioTask(
            id=r.id,
            audio=audio,
            question=r.question,
            choices=r.choices,
            answer=r.answer,
            category=r.category,
            skill=str(r.extra.get("sub-category", r.category)),
            difficulty=str(r.extra.get("difficulty", "unknown")),
            transcript=r.transcript,
            family=self.path.stem,
        )

    def make(self, seed: int, cfg: Any = None) -> AudioTask:
        return self.task(int(seed) % len(self.rows))

    def texts(self) -> list[str]:
        """Every string this manifest can show (for the environment's character set)."""
        return [t for r in self.rows for t in (r.question, r.transcript, *r.choices)]
