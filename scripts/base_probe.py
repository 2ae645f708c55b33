"""What the base hears under other pretraining settings: the `base` stage alone (minutes, against a
whole run's ~15), for several seeds, its per-family hearing on dev clips written to one JSON file.
Dev only: the stage measures hearing on the dev split's clips; no test number is read.

    python scripts/base_probe.py probes/base --seeds 0 1 2 3 4 --set recipe.pretrain.sft.max_steps=1200
    python scripts/base_probe.py probes/base --seeds 0 1 2 3 4 --set recipe.pretrain.sft.max_steps=600
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audiogym.recipe.config import load_config
from audiogym.recipe.runner import Recipe

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="where the runs and hearing.json go")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (repeatable)")
    ap.add_argument("--config", default=str(ROOT / "configs" / "tiny.yaml"))
    args = ap.parse_args(argv)
    tag = "_".join(s.split(".")[-1].replace("=", "") for s in args.set) or "default"
    hearing = {}
    for seed in args.seeds:
        name = f"base_{tag}_seed{seed}"
        overrides = [*args.set, f"recipe.seed={seed}", f"recipe.name={name}", f"recipe.run_dir={args.out}"]
        Recipe(load_config(args.config, overrides), report_to="none").run(stop_after="base")
        metrics = json.loads((args.out / name / "base" / "metrics.json").read_text())
        hearing[seed] = {f: v["hearing"] for f, v in metrics["train"]["hearing"].items()}
        print(seed, {f: round(h, 2) for f, h in hearing[seed].items()})
    out = args.out / f"hearing_{tag}.json"
    out.write_text(json.dumps({"set": args.set, "hearing": hearing}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
