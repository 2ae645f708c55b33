"""Public audio benchmarks as their authors score them: layouts, the official answer rule, the
breakdowns their scripts print, and prediction files their scripts read.

- **MMAU** (test-mini / test JSON: `task` sound|music|speech, `difficulty`, `category`,
  `sub-category`; its `evaluation.py` reads `model_output`),
- **MMAR** (`MMAR-meta.jsonl`: `modality`, `category` = the layer, `sub-category`; its
  `code/evaluation.py` reads `answer_prediction`),
- **MMAU-Pro** (`test.parquet`: `category`, with `open` and `instruction following` rows that are
  not multiple choice, and multi-audio rows). Its official MCQ scorer matches the prediction to the
  choices by NV-Embed-v2 similarity; audiogym cannot run that model here, so MMAU-Pro MCQ rows are
  scored with the MMAU/MMAR rule below, and the figure is labelled so.

The MMAU and MMAR scripts share one rule (`official_match`): a prediction is right when every word
of the answer is in it and no word of a wrong choice that the answer lacks is. Their scripts apply it
to the whole model output; audiogym reports it on the extracted final answer (the headline: a
chain of thought that weighs the options would otherwise be wrong for naming them) and on the whole
output (what the official script computes on `--predictions`), side by side.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Benchmark:
    name: str
    output_key: str  # the field the official script reads the model's output from
    breakdowns: tuple[str, ...]  # the row fields the official script reports accuracy by


MMAU = Benchmark("MMAU", "model_output", ("task", "difficulty", "category", "sub-category"))
MMAR = Benchmark("MMAR", "answer_prediction", ("modality", "category", "sub-category"))
MMAU_PRO = Benchmark("MMAU-Pro", "model_output", ("category",))
GENERIC = Benchmark("manifest", "model_output", ("category", "task", "sub-category", "difficulty"))
MMAR_LAYERS = ("Signal Layer", "Perception Layer", "Semantic Layer", "Cultural Layer")
NOT_MCQ_CATEGORIES = ("open", "instruction following")  # MMAU-Pro's non-multiple-choice rows


def detect(records: list[Any], path: Path) -> Benchmark:
    """Which benchmark a manifest's rows follow (GENERIC when none)."""
    rows = [r for r in records if isinstance(r, dict)]
    if path.suffix.lower() == ".parquet" or any(r.get("category") in NOT_MCQ_CATEGORIES for r in rows):
        return MMAU_PRO
    if any("modality" in r and r.get("category") in MMAR_LAYERS for r in rows):
        return MMAR
    if any(r.get("task") in ("sound", "music", "speech") and "difficulty" in r for r in rows):
        return MMAU
    return GENERIC


def unsupported(record: Any) -> str | None:
    """Why a benchmark row cannot be scored as a multiple-choice audio question (None: it can)."""
    if not isinstance(record, dict):
        return None
    if record.get("category") in NOT_MCQ_CATEGORIES:
        return f"{record['category']} (not multiple choice)"
    audio = record.get("audio_path", record.get("audio"))
    if isinstance(audio, (list, tuple)) and len(audio) > 1:
        return "multi-audio"
    choices = record.get("choices")
    if choices is None or (hasattr(choices, "__len__") and len(choices) == 0):
        return "open-ended (no choices)"
    return None


def _words(text: str) -> set[str]:
    return set(re.findall(r"\b\w+\b", text.lower()))


def official_match(answer: str, prediction: str, choices: list[str]) -> bool:
    """MMAU's and MMAR's rule (their `string_match`): every word of the answer is in the prediction
    and no word of a wrong choice that the answer lacks is (choices with the answer's exact words
    do not count as wrong, so repeated choices are harmless)."""
    pred, ans = _words(prediction), _words(answer)
    if not pred:
        return False
    wrong: set[str] = set()
    for c in choices:
        cw = _words(c)
        if cw != ans:
            wrong |= cw - ans
    return ans <= pred and pred.isdisjoint(wrong)


def write_predictions(path: Path, benchmark: Benchmark, records: list[dict[str, Any]], outputs: list[str]) -> Path:
    """The benchmark's own rows with the model's whole output under its output key, in the input's
    format (JSON list, JSONL, or parquet), for the official script."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**r, benchmark.output_key: o} for r, o in zip(records, outputs)]
    if path.suffix.lower() == ".parquet":
        import pandas as pd

        pd.DataFrame(rows).to_parquet(path)
    elif path.suffix.lower() == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))
    else:
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
    return path
