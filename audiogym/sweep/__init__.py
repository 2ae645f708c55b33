"""Sweeps of recipe variants over seeds on Ray Tune: the sweep file (`config`), the trials (`run`),
and their results (`report`)."""
