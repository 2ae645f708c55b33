"""The MGRD recipe: its configuration, its stages (one module each in `stages/`), the runner that
takes a model through them, and what it writes (held-out evaluation, stage table, tracking)."""
