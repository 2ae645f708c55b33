"""Policies turn (audio, prompt) into text. Scripted teachers live in scripted.py."""
from audiogym.policies.scripted import OraclePolicy, RandomPolicy, TranscriptPolicy

__all__ = ["OraclePolicy", "RandomPolicy", "TranscriptPolicy"]
