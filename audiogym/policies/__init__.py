"""Policies turn (audio, prompt) into text: the `Policy` protocol, audio LMs and scripted teachers."""

from audiogym.policies.base import Generation, Policy
from audiogym.policies.scripted import ContrarianPolicy, OraclePolicy, RandomPolicy, TranscriptPolicy

__all__ = ["ContrarianPolicy", "Generation", "OraclePolicy", "Policy", "RandomPolicy", "TranscriptPolicy"]
