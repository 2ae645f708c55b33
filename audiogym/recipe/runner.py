"""The recipe runner: the stages of `audiogym.recipe.stages.recipe_stages` in order, into `runs/<name>/`, resumable.

    base -> cold_start_sft -> cold_start_rlvr -> [round_t_distill -> round_t_rl] x T -> self_cognition

After each stage the model is evaluated on the run's held-out set (`heldout.HeldOut`) and a row is
added to the stage table (`report`); baselines are rows of the same table. A stage is finished when
its `metrics.json` exists; `--resume` redoes only unfinished stages, and a sampling stage picks up
from its partial rollouts file.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audiogym.errors import ConfigError
from audiogym.io import atomic_write_json, read_jsonl
from audiogym.recipe import report
from audiogym.recipe.config import Config, load_config
from audiogym.recipe.heldout import HeldOut
from audiogym.recipe.stage import StageContext
from audiogym.recipe.stages import recipe_stages
from audiogym.recipe.tracking import Tracker
from audiogym.trainers import dist

log = logging.getLogger(__name__)

# Saved config keys that do not have to match on --resume: where the run folder sits, and (in runs
# made before it became a run option) the tracking choice.
_RESUME_FREE = ("run_dir", "report_to")


def _comparable(cfg: dict[str, Any]) -> dict[str, Any]:
    return {**cfg, "recipe": {k: v for k, v in cfg.get("recipe", {}).items() if k not in _RESUME_FREE}}


def _saved_config(saved: Path) -> dict[str, Any]:
    """A run's saved config as this version reads it: a key added since the run was written takes
    its default (which is what the run did), so a new option does not block --resume."""
    try:
        return load_config(saved).to_dict()
    except ConfigError as e:
        raise ConfigError(
            f"{saved}: not readable as this version's config ({e}); resume with the version that wrote it"
        ) from None


class Recipe:
    def __init__(self, cfg: Config, resume: bool = False, report_to: str = "wandb", verbose: bool = False):
        self.cfg = cfg
        self.verbose = verbose  # TRL's per-step logs on the terminal (else in each stage's trainer_log.jsonl)
        self.folder = cfg.recipe.folder
        self.report_to = report_to
        if report_to not in ("wandb", "none"):
            raise ConfigError(f"report_to={report_to!r}: expected 'wandb' or 'none'")
        done = sorted(self.folder.glob("*/metrics.json"))
        if done and not resume:
            raise ConfigError(
                f"{self.folder} already holds finished stages; pass --resume to continue it, "
                "or choose another recipe.name (nothing was changed)"
            )
        saved = self.folder / "config.json"
        if resume and saved.exists() and _comparable(_saved_config(saved)) != _comparable(cfg.to_dict()):
            raise ConfigError(f"{saved}: the run was started with another config; resume with the same settings")
        self.stages = recipe_stages(cfg)
        dist.barrier()  # every rank has checked before the main process writes anything
        if dist.is_main():
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(saved, cfg.to_dict())
        self.held_out = HeldOut(cfg.recipe, "dev")  # the table's numbers: what tuning may read
        self.test_set = HeldOut(cfg.recipe, "test")  # written beside them, for the reports only

    def run(
        self,
        progress: Callable[[str], None] = print,
        stop_after: str | None = None,
        on_stage: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every rank runs every stage (the trainers need them all); evaluation, files, printing
        and tracking are the main process's (see `dist`). `stop_after` ends the run after that stage
        (a sweep's shared prefix); `on_stage(name, row)` hears each stage's table row (Tune reports)."""
        t0 = time.time()
        main = dist.is_main()
        if not main:
            progress = _quiet
        tracker = Tracker(self.report_to == "wandb" and main, self.folder, self.cfg.recipe.name, self.cfg.to_dict())
        if main:
            self.held_out.baselines(self.folder / "baselines.json")
            self.test_set.baselines(self.folder / "baselines_test.json")
        dist.barrier()
        baselines = self.held_out.baselines(self.folder / "baselines.json")
        test = self.test_set.baselines(self.folder / "baselines_test.json")
        rows: list[dict[str, Any]] = [report.baseline_row(k, v, test.get(k)) for k, v in baselines.items()]
        from audiogym.policies.vllm_engine import backend_choice

        backend, why = backend_choice(self.cfg.recipe.generation.backend, self.cfg.head_size())
        progress(
            f"generation backend: {backend} (recipe.generation.backend={self.cfg.recipe.generation.backend}: {why})"
        )
        progress(report.header())
        for r in rows:
            progress(report.format_row(r))
        model = None
        for stage in self.stages:
            folder = self.folder / stage.name
            done = folder / "metrics.json"
            if not finished(folder):
                folder.mkdir(parents=True, exist_ok=True)
                if main:
                    remove_stray_temp_files(folder)
                started = time.time()
                callback = tracker.trainer_callback(stage.name)
                ctx = StageContext(
                    stage,
                    folder,
                    model or folder / "model",
                    self.cfg,
                    self.stages.index(stage),
                    callbacks=[callback] if callback is not None else [],
                    verbose=self.verbose,
                )
                metrics = stage.run(ctx)
                if main:
                    summary = self.held_out.evaluate(ctx.model_out, folder / "eval")
                    test_summary = self.test_set.evaluate(ctx.model_out, folder / "eval_test")
                    numbers = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
                    tracker.stage(
                        stage.name,
                        self.stages.index(stage),
                        {**summary, **numbers},
                        read_jsonl(folder / "rollouts.jsonl"),
                    )
                    atomic_write_json(
                        done,
                        {
                            "stage": stage.name,
                            "train": metrics,
                            "eval": summary,
                            "test": test_summary,
                            "seconds": time.time() - started,
                            "processes": dist.world(),
                            "generation_backend": backend,
                            "rollouts": log_size(folder / "rollouts.jsonl"),
                        },
                    )
                dist.barrier()
            elif main:
                warn_if_changed(stage.name, folder, json.loads(done.read_text()), progress)
            rows.append(report.stage_row(stage.describe(), json.loads(done.read_text())))
            progress(report.format_row(rows[-1]))
            if (heard := report.hearing_line(rows[-1])) is not None:
                progress(heard)
            if on_stage is not None:
                on_stage(stage.name, rows[-1])
            model = folder / "model"
            if stage.name == stop_after:
                tracker.finish()
                return rows
        if main:
            change = report.conflict_change(self.folder, rows)
            rl = report.rl_changes(self.folder, rows)
            for line in ([change["line"]] if change else []) + [
                x for c in rl.values() for x in (c["line"], c["train_line"])
            ]:
                progress(line)
            report.write_table(self.folder, self.cfg.recipe.name, rows, time.time() - t0, change, rl)
        tracker.finish(rows, report.COLUMNS)
        return rows


def log_size(path: Path) -> dict[str, int] | None:
    """Lines and bytes of a stage's log (None where it has none)."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    return {"lines": data.count(b"\n"), "bytes": len(data)}


def warn_if_changed(stage: str, folder: Path, metrics: dict[str, Any], progress: Callable[[str], None]) -> None:
    """A finished stage is not run again on --resume; say so where its rollouts log no longer is
    what the stage wrote (truncated, edited or deleted since)."""
    then, now = metrics.get("rollouts"), log_size(folder / "rollouts.jsonl")
    if then is not None and now != then:
        what = "is gone" if now is None else f"has {now['lines']} lines ({now['bytes']} bytes)"
        progress(
            f"warning: {stage}/rollouts.jsonl {what}; it had {then['lines']} lines ({then['bytes']} bytes) when the stage"
            f" finished. The stage is finished and is not re-run (its row stands); delete {folder} to run it again."
        )


def remove_stray_temp_files(folder: Path) -> None:
    """Temporary files an atomic write leaves when the process is killed mid-write (`.name.*.tmp`):
    nothing reads them, a stage starting (or resuming) in `folder` removes them."""
    for p in folder.rglob(".*.tmp"):
        if p.is_file():
            p.unlink(missing_ok=True)


def _quiet(_: str) -> None:
    pass


def finished(folder: Path) -> bool:
    """A stage is finished when its metrics.json is whole and its model folder is there. A torn or
    empty metrics file, or a deleted model, makes it unfinished: --resume redoes it (its partial
    rollouts are kept) instead of failing on it."""
    done = folder / "metrics.json"
    if not done.exists():
        return False
    try:
        metrics = json.loads(done.read_text())
        whole = isinstance(metrics, dict) and isinstance(metrics.get("eval"), dict)
    except (OSError, ValueError):
        whole = False
    if not whole or not (folder / "model" / "config.json").is_file():
        log.warning(
            "%s: unfinished (%s); it will be redone",
            folder.name,
            "metrics.json is torn or empty" if not whole else "its model folder is missing",
        )
        if dist.is_main():
            done.unlink(missing_ok=True)
        return False
    return True
