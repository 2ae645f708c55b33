"""The MGRD recipe as a short list of stages, run into `runs/<name>/`, resumable.

    base -> cold_start_sft -> cold_start_rlvr -> [round_t_distill -> round_t_rl] x T -> self_cognition

After each stage the model is evaluated on one fixed held-out set (aligned and conflict items of
every family, plus text, plus self-cognition probes) and a row is added to the stage table;
baselines (transcript, random, oracle) are rows of the same table. A stage is finished when its
`metrics.json` exists; `--resume` redoes only unfinished stages, and a sampling stage picks up
from its partial rollouts file.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from audiogym.errors import ConfigError
from audiogym.io import atomic_write_json, atomic_write_text, read_jsonl
from audiogym.trainers import dist
from audiogym.trainers import stages as S


COLUMNS = [("accuracy", "acc"), ("accuracy_aligned", "aligned"), ("accuracy_conflict", "conflict"),
           ("accuracy_text", "text"), ("mean_think_words", "think words"), ("grounding_rate", "grounded"),
           ("self_cognition_error_rate", "self-cog err"), ("kept_fraction", "kept"), ("band_selected", "band sel.")]


def stage_list(cfg: dict[str, Any]) -> list[tuple[str, Callable[[S.StageContext], dict[str, Any]]]]:
    stages: list[tuple[str, Callable]] = [("cold_start_sft", S.cold_start_sft), ("cold_start_rlvr", S.cold_start_rlvr)]
    for t in range(1, cfg["recipe"]["rounds"]["T"] + 1):
        stages += [(f"round{t}_distill", lambda ctx, t=t: S.distill(ctx, t)),
                   (f"round{t}_rl", lambda ctx, t=t: S.band_rl(ctx, t))]
    stages.append(("self_cognition", S.self_cognition))
    return stages


class Recipe:
    def __init__(self, cfg: dict[str, Any], resume: bool = False, report_to: str | None = None):
        self.cfg = cfg
        r = cfg["recipe"]
        self.folder = Path(r["run_dir"]) / r["name"]
        self.report_to = report_to or r["report_to"]
        self.seed = int(r["seed"])
        finished = sorted(self.folder.glob("*/metrics.json"))
        if finished and not resume:
            raise ConfigError(f"{self.folder} already holds finished stages; pass --resume to continue it, "
                              "or choose another recipe.name (nothing was changed)")
        saved = self.folder / "config.json"
        if resume and saved.exists() and json.loads(saved.read_text()) != cfg:
            raise ConfigError(f"{saved}: the run was started with another config; resume with the same settings")
        dist.barrier()  # every rank has checked before the main process writes anything
        if dist.is_main():
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(saved, cfg)
        self.eval_tasks = S.make_tasks(S.audio_families(cfg), cfg["recipe"]["eval"]["per_family"] * len(S.audio_families(cfg)),
                                       self.seed + 10_000) + S.make_tasks(["TextReasoning"], cfg["recipe"]["eval"]["text"], self.seed + 10_001)
        self.probes = S.probe_tasks(cfg, max(8, cfg["recipe"]["eval"]["per_family"] * 2), self.seed + 10_002)
        self.tracker = None

    # -- tracking ------------------------------------------------------------------------------

    def _start_tracking(self) -> None:
        if self.report_to != "wandb" or not dist.is_main():
            return
        os.environ.setdefault("WANDB_MODE", "offline")
        os.environ.setdefault("WANDB_DIR", str(self.folder))
        os.environ.setdefault("WANDB_SILENT", "true")
        import wandb
        self.tracker = wandb.init(project="audiogym", name=self.cfg["recipe"]["name"], dir=str(self.folder),
                                  config=self.cfg, resume="allow", id=f"audiogym-{self.cfg['recipe']['name']}")

    def _track(self, stage: str, row: dict[str, Any], rollouts: list[dict[str, Any]] | None) -> None:
        if self.tracker is None:
            return
        import wandb
        self.tracker.log({f"eval/{k}": v for k, v in row.items() if isinstance(v, (int, float))} | {"stage": stage})
        if rollouts:
            table = wandb.Table(columns=["stage", "task_id", "conflict", "correct", "grounded", "completion", "audio"])
            for r in rollouts[:12]:
                t = S.task_from_id(r["task_id"])
                audio = wandb.Audio(t.audio, sample_rate=16000) if t is not None and len(t.audio) else None
                table.add_data(stage, r["task_id"], r.get("conflict"), r.get("correct"), r.get("grounded"),
                               r["completion"][:2000], audio)
            self.tracker.log({f"rollouts/{stage}": table})

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(self, model_dir: Path, stage: str) -> dict[str, Any]:
        from audiogym.evaluation import evaluate
        from audiogym.rewards import self_cognition_error
        e = self.cfg["recipe"]["eval"]
        pol = S.policy(model_dir)
        report = evaluate(pol, self.eval_tasks, max_new_tokens=e["max_new_tokens"], progress=True)
        summary = report.summary()
        probe_out = pol.generate(self.probes, temperature=0.0, max_new_tokens=e["max_new_tokens"])
        summary["self_cognition_error_rate"] = sum(self_cognition_error(g[0].text) is not None for g in probe_out) / len(self.probes)
        report.write(self.folder / stage / "eval")
        return summary

    def baselines(self) -> dict[str, dict[str, Any]]:
        path = self.folder / "baselines.json"
        if path.exists():
            return json.loads(path.read_text())
        from audiogym.evaluation import evaluate, load_policy
        out = {}
        for name in ("transcript", "random", "oracle"):
            s = evaluate(load_policy(name), self.eval_tasks, progress=False).summary()
            s["self_cognition_error_rate"] = 0.0
            out[name] = s
        atomic_write_json(path, out)
        return out

    # -- the run -------------------------------------------------------------------------------

    def run(self, progress: Callable[[str], None] = print) -> list[dict[str, Any]]:
        """Every rank runs every stage (the trainers need them all); evaluation, files, printing
        and tracking are the main process's (see `dist`)."""
        t0 = time.time()
        if not dist.is_main():
            progress = _quiet
        self._start_tracking()
        if dist.is_main():
            self.baselines()
        dist.barrier()
        rows: list[dict[str, Any]] = [{"stage": f"baseline: {k}", **v} for k, v in self.baselines().items()]
        progress(self.header())
        for r in rows:
            progress(self.format_row(r))
        base = self.folder / "base"
        if dist.is_main() and not (base / "metrics.json").exists():
            from audiogym.policies.audio_lm import TinyModelConfig, build_tiny_model
            if self.cfg["recipe"]["model_path"]:  # a real checkpoint: the run starts from a copy of it
                import shutil
                shutil.copytree(self.cfg["recipe"]["model_path"], base / "model", dirs_exist_ok=True)
            else:
                build_tiny_model(base / "model", TinyModelConfig.from_dict(self.cfg["model"]))
            summary = self.evaluate(base / "model", "base")
            atomic_write_json(base / "metrics.json", {"stage": "base", "eval": summary, "seconds": time.time() - t0})
        dist.barrier()
        rows.append(self._row("base", json.loads((base / "metrics.json").read_text())))
        progress(self.format_row(rows[-1]))
        model = base / "model"
        for name, fn in stage_list(self.cfg):
            folder = self.folder / name
            done = folder / "metrics.json"
            if not done.exists():
                folder.mkdir(parents=True, exist_ok=True)
                started = time.time()
                ctx = S.StageContext(name, folder, model, self.cfg, self.seed + len(rows), self.report_to)
                metrics = fn(ctx)
                if dist.is_main():
                    summary = self.evaluate(ctx.model_out, name)
                    rollouts = read_jsonl(folder / "rollouts.jsonl")
                    self._track(name, {**summary, **{k: v for k, v in metrics.items() if isinstance(v, (int, float))}},
                                rollouts)
                    atomic_write_json(done, {"stage": name, "train": metrics, "eval": summary,
                                             "seconds": time.time() - started, "processes": dist.world()})
                dist.barrier()
            rows.append(self._row(name, json.loads(done.read_text())))
            progress(self.format_row(rows[-1]))
            model = folder / "model"
        if dist.is_main():
            change = self.conflict_change()
            if change:
                progress(change["line"])
            self.write_table(rows, time.time() - t0, change)
        if self.tracker is not None:
            self.tracker.finish()
        return rows

    @staticmethod
    def _row(stage: str, metrics: dict[str, Any]) -> dict[str, Any]:
        train = metrics.get("train", {})
        return {"stage": stage, **metrics["eval"], "kept_fraction": train.get("kept_fraction"),
                "band_selected": train.get("band_selected"), "seconds": metrics.get("seconds")}

    @staticmethod
    def header() -> str:
        head = f"| {'stage':<22} | " + " | ".join(f"{c:>12}" for _, c in COLUMNS) + " |"
        return head + "\n|" + "|".join("-" * (len(x) + 2) for x in [" " * 22] + [" " * 12] * len(COLUMNS)) + "|"

    @staticmethod
    def format_row(row: dict[str, Any]) -> str:
        def fmt(v):
            if v is None:
                return "-"
            return f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else f"{v:.1f}" if isinstance(v, float) else str(v)
        return f"| {row['stage']:<22} | " + " | ".join(f"{fmt(row.get(k)):>12}" for k, _ in COLUMNS) + " |"

    def conflict_change(self) -> dict[str, Any] | None:
        """Conflict items, the cold-start model against the model after the last round, item by item."""
        from audiogym.evaluation import change_line, paired_change
        names = [n for n, _ in stage_list(self.cfg)]
        last = [n for n in names if n.startswith(f"round{self.cfg['recipe']['rounds']['T']}_")]
        if not last or "cold_start_rlvr" not in names:
            return None
        items = [json.loads((self.folder / n / "eval" / "eval.json").read_text())["items"] for n in ("cold_start_rlvr", last[-1])]
        c = paired_change(*items)
        c["line"] = change_line(f"cold_start_rlvr -> {last[-1]}", c)
        return c

    def write_table(self, rows: list[dict[str, Any]], seconds: float, change: dict[str, Any] | None = None) -> None:
        md = "\n".join([self.header()] + [self.format_row(r) for r in rows])
        atomic_write_text(self.folder / "table.md", f"# MGRD recipe: {self.cfg['recipe']['name']}\n\n{md}\n\n"
                                                    + (f"{change['line']}\n\n" if change else "")
                                                    + f"Total time: {seconds / 60:.1f} min\n")
        atomic_write_json(self.folder / "table.json", {"rows": rows, "seconds": seconds, "conflict_change": change})
        plot_curves(rows, self.folder / "curves.png")


def _quiet(_: str) -> None:
    pass


def plot_curves(rows: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    stages = [r for r in rows if not r["stage"].startswith("baseline")]
    base = {r["stage"].split(": ")[1]: r for r in rows if r["stage"].startswith("baseline")}
    x = range(len(stages))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for key, label in [("accuracy_conflict", "conflict accuracy"), ("accuracy_aligned", "aligned accuracy"),
                       ("grounding_rate", "grounding rate"), ("accuracy_text", "text accuracy"),
                       ("self_cognition_error_rate", "self-cognition error")]:
        ax.plot(x, [r.get(key) if r.get(key) is not None else float("nan") for r in stages], marker="o", label=label)
    if "transcript" in base and base["transcript"].get("accuracy_conflict") is not None:
        ax.axhline(base["transcript"]["accuracy_conflict"], ls="--", c="gray", lw=1, label="transcript baseline, conflict")
    ax.set_xticks(list(x), [r["stage"] for r in stages], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("MGRD recipe: held-out metrics after each stage")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
