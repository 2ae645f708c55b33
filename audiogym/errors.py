"""One error family for everything a user can cause (bad file, bad row, bad config value).

The CLI turns any `AudiogymError` into a single line and a non-zero exit; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class AudiogymError(Exception):
    """Base class of errors caused by user input."""


class ConfigError(AudiogymError, ValueError):
    """A configuration value is out of range or of the wrong kind."""


class ManifestError(AudiogymError):
    """A manifest file or one of its rows cannot be used."""

    def __init__(self, path: str | os.PathLike, message: str, row: int | None = None, field: str | None = None):
        self.path, self.row, self.field = str(path), row, field
        where = self.path
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class AudioError(AudiogymError):
    """An audio file is missing, unreadable or empty."""


def run_script(main: Callable[[], object]) -> None:
    """A script's entry point: a user error is one line on stderr and exit status 2, as in the CLI."""
    try:
        main()
    except AudiogymError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
