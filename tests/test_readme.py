"""The README's first screen works as written: its quickstart runs, and the minute recipe it names
is the suite's minute settings."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_quickstart_runs_as_written(capsys):
    readme = (ROOT / "README.md").read_text()
    assert readme.index("## Quickstart") < 2000  # within the first screen
    code = re.search(r"## Quickstart\n```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 15
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert "(A) sad" in out  # the prompt with lettered choices
    assert out[-2].startswith("1.0 sad ")  # the chain answers from the chords, not the lyrics: rewarded
    value, parts = eval(out[-1])
    assert value == 1.0 and parts["composite_format"] == 1.0  # 0.8 correct + 0.2 reasoning (eq. 7)


def test_the_minute_recipe_file_is_the_suites_minute_settings(monkeypatch):
    monkeypatch.setenv("AUDIOGYM_AUTO_BACKEND", "hf")
    sys.path.insert(0, str(ROOT / "tests"))
    from test_recipe import MINUTE

    from audiogym.recipe.config import load_config

    a = load_config(ROOT / "configs" / "minute.yaml").to_dict()
    b = load_config(None, MINUTE).to_dict()
    for key in ("name", "generation"):
        a["recipe"].pop(key), b["recipe"].pop(key)
    assert a == b
